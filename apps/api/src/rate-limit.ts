import { SwitchyardError } from '@switchyard/contracts';
import type { Cluster, Redis } from 'ioredis';
import { defineScripts, type ScriptRunner } from './scripts.ts';
import { tenancyKeys, type TenancyKeys } from './tenancy/keys.ts';

export interface RateLimitOptions {
  redis: Redis | Cluster;
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
  private readonly keys: TenancyKeys;
  private readonly run: ScriptRunner;

  constructor(opts: RateLimitOptions) {
    this.opts = opts;
    this.keys = tenancyKeys(opts.prefix);
    this.run = defineScripts(opts.redis);
  }

  async take(tenantId: string): Promise<void> {
    const { requestsPerSecond, burst } = this.opts;
    const reply = await this.run('rate-limit', [this.keys.rateLimit(tenantId)], [requestsPerSecond, burst]);
    const [allowed, waitMs] = reply as [number, number];
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
