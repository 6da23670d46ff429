import type { Config } from '@switchyard/config';
import { SwitchyardError } from '@switchyard/contracts';
import { isReady } from '@switchyard/jobs';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Registry } from '@switchyard/telemetry';
import { requireScope, type AuthDeps } from '../auth.ts';
import { withRedis } from '../redis-guard.ts';

export function registerOpsRoutes(
  app: FastifyInstance,
  deps: { config: Config; redis: Redis; auth: AuthDeps; registry: Registry },
): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  /** Prometheus text; unauthenticated like most scrape targets: restrict it at the network edge. */
  app.get('/metrics', async (_req, reply) =>
    reply.type(deps.registry.contentType).send(await deps.registry.metrics()),
  );

  app.get('/readyz', async () => {
    if (!isReady(deps.redis))
      throw new SwitchyardError('redis_unavailable', undefined, { retryAfterSeconds: 1 });
    await withRedis(deps.redis, () => deps.redis.ping());
    return { status: 'ready' };
  });

  app.get('/v1/models', { preHandler: requireScope('jobs:read', deps.auth) }, async () => ({
    object: 'list',
    data: Object.entries(deps.config.models).map(([id, m]) => ({
      id,
      object: 'model',
      owned_by: m.demo ? 'switchyard-demo' : m.provider,
      created: 0,
    })),
  }));
}
