import { SwitchyardError } from '@switchyard/contracts';
import type { Redis } from 'ioredis';
import { defineLuaScript, loadLuaScript, luaDir } from '@switchyard/lua-scripts';

const COMMAND = 'switchyardRateLimit';
type Call = (key: string, rate: number, burst: number) => Promise<[number, number]>;

export interface RateLimitOptions {
  redis: Redis;
  prefix: string;
  requestsPerSecond: number;
  burst: number;
}

/**
 * Per-tenant request rate, enforced atomically in Redis so the limit holds across every API
 * process: a token bucket per tenant (`rate-limit-1.lua`). Over it, 429 `rate_limited` with
 * Retry-After.
 */
export class TenantRateLimit {
  private readonly opts: RateLimitOptions;
  private readonly call: Call;

  constructor(opts: RateLimitOptions) {
    this.opts = opts;
    this.call = defineLuaScript(
      opts.redis,
      COMMAND,
      loadLuaScript(luaDir('api', import.meta.url), 'rate-limit-1.lua'),
    ) as Call;
  }

  async take(tenantId: string): Promise<void> {
    const { prefix, requestsPerSecond, burst } = this.opts;
    const [allowed, waitMs] = await this.call(`${prefix}:rate:{${tenantId}}`, requestsPerSecond, burst);
    if (allowed === 1) return;
    throw new SwitchyardError(
      'rate_limited',
      `over ${requestsPerSecond} requests per second (burst ${burst})`,
      {
        retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
      },
    );
  }
}
