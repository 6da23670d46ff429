import type { Problem } from '@switchyard/contracts';
import { startStack, type Stack } from '@switchyard/standalone';
import { createLogger } from '@switchyard/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api } from './support/api.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

const RATE = 5;
const BURST = 10;

let t: TestStack;
let second: Stack;

beforeAll(async () => {
  t = await startTestStack({ worker: false, config: { limits: { requestsPerSecond: RATE, burst: BURST } } });
  // A second API process's worth of state: its own Fastify server and Redis clients, same Redis.
  second = await startStack({
    config: t.config,
    logger: createLogger({ name: 'api-2', level: 'silent' }),
    worker: false,
  });
});
afterAll(async () => {
  await second?.close();
  await t?.close();
});

describe('per-tenant request rate', () => {
  it('holds across two API processes sharing one Redis, with 429 rate_limited and Retry-After', async () => {
    const { key } = await t.tenant();
    const apis = [new Api(t.url, key), new Api(second.url, key)];
    const started = Date.now();
    const res = await Promise.all(
      Array.from({ length: 40 }, (_, i) => apis[i % 2]!.get<Problem>('/v1/usage')),
    );
    const elapsedS = (Date.now() - started) / 1000;
    const ok = res.filter((r) => r.status === 200).length;
    const limited = res.filter((r) => r.status === 429);
    // One shared bucket: the burst plus what refilled meanwhile, whichever process answered.
    expect(ok).toBeGreaterThanOrEqual(BURST);
    expect(ok).toBeLessThanOrEqual(BURST + Math.ceil(RATE * elapsedS) + 1);
    expect(limited.length).toBe(40 - ok);
    for (const r of limited) {
      expect(r.body.code).toBe('rate_limited');
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    // Another tenant has its own bucket.
    const other = await t.tenant();
    expect((await other.api.get('/v1/usage')).status).toBe(200);
    // The bucket refills.
    await new Promise((r) => setTimeout(r, 1_200));
    expect((await apis[1]!.get('/v1/usage')).status).toBe(200);
  });
});
