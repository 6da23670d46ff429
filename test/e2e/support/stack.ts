import { loadConfig, type Config, type ConfigInput } from '@switchyard/config';
import { startMockLlm, type MockLlm } from '@switchyard/mock-upstream';
import { startStack, type Stack } from '@switchyard/standalone';
import { createLogger } from '@switchyard/telemetry';
import { startRedis, type RedisClusterHandle, type RedisHandle } from '@switchyard/test-kit';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { Api } from './api.ts';

export const MOCK_MODEL = 'mock';
export const MOCK_PRICE = { inputPerMTok: 0.15, outputPerMTok: 0.6 };

export interface TestStackOptions {
  redis?: RedisHandle;
  mock?: MockLlm;
  /** Merged under the test defaults (models, prefix, port 0...). */
  config?: ConfigInput;
  worker?: boolean;
  api?: boolean;
  /** Provider API keys by env var name, as a worker's main.ts would read them. */
  secrets?: Record<string, string>;
}

export interface TestStack {
  url: string;
  config: Config;
  redis: RedisHandle;
  mock: MockLlm;
  stack: Stack;
  adminKey: string;
  /** Every log line the stack wrote, for secret-leak checks. */
  logs: string[];
  admin: Api;
  /** A fresh tenant with a jobs:write + jobs:read key, and a client for it. */
  tenant(scopes?: string[]): Promise<{ tenantId: string; key: string; api: Api }>;
  close(): Promise<void>;
}

export function testConfig(
  redis: RedisHandle | RedisClusterHandle,
  mock: MockLlm | undefined,
  extra: ConfigInput = {},
): Config {
  const base: ConfigInput = {
    redis:
      'seeds' in redis
        ? { cluster: redis.seeds, prefix: redis.prefix }
        : { url: redis.url, prefix: redis.prefix },
    api: { host: '127.0.0.1', port: 0, adminKey: `admin_${randomBytes(18).toString('hex')}` },
    jobs: { backoffMs: 50 },
    // Suites fire thousands of requests; the rate-limit test turns the limit on for itself.
    limits: { requestsPerSecond: 0 },
    worker: { metricsPort: 0 },
    // Test sites and proxies live on 127.0.0.x with random ports: allow-list exactly that for the
    // SSRF guard (docs/security.md). Tests of the guard itself set their own narrower lists.
    scrape: { egress: 'direct', allowCidrs: ['127.0.0.0/8'], allowPorts: 'any' },
    // Webhook receivers too (their own allow-list; the webhook SSRF tests narrow it).
    webhooks: { allowCidrs: ['127.0.0.0/8'], allowPorts: 'any' },
    log: { level: 'info' },
    models: mock
      ? {
          [MOCK_MODEL]: {
            baseUrl: `${mock.url}/v1`,
            upstreamModel: 'mock-small',
            price: MOCK_PRICE,
            timeoutMs: 5_000,
          },
        }
      : {},
  };
  return loadConfig({ env: {}, defaults: deepMerge(base, extra) });
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] =
      v && prev && typeof v === 'object' && typeof prev === 'object' && !Array.isArray(v)
        ? deepMerge(prev as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

/** API + worker in this process against real Redis and a real mock upstream over HTTP. */
export async function startTestStack(opts: TestStackOptions = {}): Promise<TestStack> {
  const redis = opts.redis ?? (await startRedis());
  const t = await launch(redis, opts);
  return {
    ...t,
    redis,
    async close() {
      await t.close();
      if (!opts.redis) await redis.stop();
    },
  };
}

/** The same stack on a Redis Cluster (`redis.cluster`); the caller owns the cluster. */
export async function startClusterTestStack(
  cluster: RedisClusterHandle,
  opts: Omit<TestStackOptions, 'redis'> = {},
): Promise<Omit<TestStack, 'redis'> & { cluster: RedisClusterHandle }> {
  return { ...(await launch(cluster, opts)), cluster };
}

async function launch(
  redis: RedisHandle | RedisClusterHandle,
  opts: TestStackOptions,
): Promise<Omit<TestStack, 'redis'>> {
  const mock = opts.mock ?? (await startMockLlm());
  const config = testConfig(redis, mock, opts.config);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString());
      cb();
    },
  });
  // At the config's level (info unless a test or benchmark asks otherwise): tests read the lines.
  const logger = createLogger({ name: 'e2e', level: config.log.level, destination: sink });
  const stack = await startStack({
    config,
    logger,
    api: opts.api,
    worker: opts.worker,
    secrets: opts.secrets,
  });
  const adminKey = config.api.adminKey ?? '';
  const admin = new Api(stack.url, adminKey);
  return {
    url: stack.url,
    config,
    mock,
    stack,
    adminKey,
    logs,
    admin,
    async tenant(scopes = ['jobs:write', 'jobs:read']) {
      const t = await admin.post('/v1/admin/tenants', { name: 'test tenant' });
      if (t.status !== 201) throw new Error(`creating a tenant: ${t.status} ${JSON.stringify(t.body)}`);
      const tenantId = (t.body as { id: string }).id;
      const k = await admin.post(`/v1/admin/tenants/${tenantId}/keys`, { scopes });
      if (k.status !== 201) throw new Error(`creating a key: ${k.status} ${JSON.stringify(k.body)}`);
      const key = (k.body as { key: string }).key;
      return { tenantId, key, api: new Api(stack.url, key) };
    },
    async close() {
      await stack.close();
      if (!opts.mock) await mock.close();
    },
  };
}
