import { startRedis, type RedisHandle } from './redis-harness.ts';

let shared: RedisHandle | undefined;

/** Starts one Redis for the whole run unless REDIS_URL names one; test files share it by prefix. */
export async function setup(): Promise<void> {
  if (process.env.REDIS_URL) return;
  shared = await startRedis({ dedicated: true });
  process.env.SWITCHYARD_TEST_REDIS_URL = shared.url;
}

export async function teardown(): Promise<void> {
  await shared?.stop();
}
