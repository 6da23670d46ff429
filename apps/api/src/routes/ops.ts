import type { Config } from '@switchyard/config';
import type { FastifyInstance } from 'fastify';
import type { Cluster, Redis } from 'ioredis';
import type { Registry } from '@switchyard/telemetry';
import { requireScope, type AuthDeps } from '../auth.ts';

export function registerOpsRoutes(
  app: FastifyInstance,
  deps: { config: Config; redis: Redis | Cluster; auth: AuthDeps; registry: Registry },
): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  /** Prometheus text; unauthenticated like most scrape targets: restrict it at the network edge. */
  app.get('/metrics', async (_req, reply) =>
    reply.type(deps.registry.contentType).send(await deps.registry.metrics()),
  );

  // Guarded like the /v1 routes (redis-guard.ts): 503 with Retry-After while Redis is down.
  app.get('/readyz', { config: { redis: true } }, async () => {
    await deps.redis.ping();
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
