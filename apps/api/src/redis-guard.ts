import { SwitchyardError } from '@switchyard/contracts';
import { isReady } from '@switchyard/jobs';
import type { Redis } from 'ioredis';

const RETRY_AFTER_SECONDS = 1;

/**
 * Runs Redis work for a request, failing fast with 503 + Retry-After when Redis is down: never
 * queued for later, never a hang, never a 500. Errors we raise ourselves pass through.
 */
export async function withRedis<T>(redis: Redis, fn: () => Promise<T>): Promise<T> {
  if (!isReady(redis)) {
    throw new SwitchyardError('redis_unavailable', undefined, { retryAfterSeconds: RETRY_AFTER_SECONDS });
  }
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SwitchyardError) throw err;
    if (err instanceof TypeError || err instanceof RangeError || err instanceof SyntaxError) throw err; // our bugs: 500
    // ioredis reports transport failures (closed connection, command timeout, offline queue
    // disabled) as plain errors without a code; inside this guard every other failure is a
    // Redis command failing (LOADING, READONLY and BUSY replies included), so all of them
    // mean "the store did not take the request".
    throw new SwitchyardError('redis_unavailable', undefined, {
      retryAfterSeconds: RETRY_AFTER_SECONDS,
      cause: err,
    });
  }
}
