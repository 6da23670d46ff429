import { CodedError, SwitchyardError } from '@switchyard/contracts';
import { isReady, isStoreFull } from '@switchyard/jobs';
import type { FastifyInstance, RouteOptions } from 'fastify';
import type { Cluster, Redis } from 'ioredis';

const RETRY_AFTER_SECONDS = 1;
/** Memory frees as jobs finish and expire: seconds, not a moment. */
const STORAGE_FULL_RETRY_AFTER_SECONDS = 5;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Guard a route outside `/v1/` as `installRedisGuard` guards those. */
    redis?: boolean;
  }
}

const unavailable = (cause?: unknown) =>
  new SwitchyardError('redis_unavailable', undefined, { retryAfterSeconds: RETRY_AFTER_SECONDS, cause });

/**
 * What an error inside a Redis-backed route means. Errors raised on purpose (a `CodedError`: ours,
 * the pool's, the ledger's; Fastify's `FST_*` errors) and programming errors (a TypeError,
 * RangeError or SyntaxError: 500) pass unchanged. ioredis reports transport failures (closed
 * connection, command timeout, offline queue disabled) as plain errors without a code, and every
 * other failure left is a Redis command failing (LOADING, READONLY and BUSY replies included):
 * all of them mean "the store did not take the request", a 503 with Retry-After. Redis out of
 * memory under `noeviction` (an `OOM` reply; nothing was written) is `storage_full`.
 */
export function asStoreFailure(err: unknown): unknown {
  if (err instanceof CodedError) return err;
  if (isStoreFull(err)) {
    const retryAfterSeconds = STORAGE_FULL_RETRY_AFTER_SECONDS;
    return new SwitchyardError('storage_full', undefined, { retryAfterSeconds, cause: err });
  }
  if (err instanceof TypeError || err instanceof RangeError || err instanceof SyntaxError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('FST_')) return err;
  return unavailable(err);
}

type AsyncStep = (this: unknown, ...args: unknown[]) => Promise<unknown>;

/** Fails fast (503, never queued, never a hang) while Redis is down; maps what `fn` throws. */
function guard(redis: Redis | Cluster, fn: AsyncStep): AsyncStep {
  return async function guarded(this: unknown, ...args: unknown[]) {
    if (!isReady(redis)) throw unavailable();
    try {
      return await fn.apply(this, args);
    } catch (err) {
      throw asStoreFailure(err);
    }
  };
}

const HOOKS = ['onRequest', 'preHandler'] as const;

/**
 * The one place Redis failures become `503 redis_unavailable`: every route under `/v1/` (and any
 * route with `config: { redis: true }`) has its handler and its route-level `onRequest` and
 * `preHandler` hooks (async functions, as every route here uses) guarded. Routes that must answer
 * without Redis (liveness, metrics, docs) are outside `/v1/`.
 */
export function installRedisGuard(app: FastifyInstance, redis: Redis | Cluster): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    const config = route.config;
    if (!route.url.startsWith('/v1/') && config?.redis !== true) return;
    route.handler = guard(redis, route.handler as AsyncStep);
    for (const hook of HOOKS) {
      const steps = route[hook];
      if (!steps) continue;
      const list = (Array.isArray(steps) ? steps : [steps]) as AsyncStep[];
      (route as unknown as Record<string, AsyncStep[]>)[hook] = list.map((step) => guard(redis, step));
    }
  });
}
