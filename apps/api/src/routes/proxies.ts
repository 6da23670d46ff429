import { ProxyConfigSchema } from '@switchyard/config';
import { SwitchyardError } from '@switchyard/contracts';
import { formatPoolTable, type ProxyPool } from '@switchyard/proxy-pool';
import type { FastifyInstance } from 'fastify';
import { requireScope, type AuthDeps } from '../auth.ts';
import { parseBody } from '../validation.ts';

/** Admin routes for the egress pool. Proxy URLs are returned redacted; credentials never leave. */
export function registerProxyRoutes(app: FastifyInstance, deps: { pool: ProxyPool; auth: AuthDeps }): void {
  const admin = { preHandler: requireScope('admin', deps.auth) };
  const { pool } = deps;

  app.get<{ Querystring: { format?: string } }>('/v1/admin/proxies', admin, async (req, reply) => {
    const list = await pool.list();
    if (req.query.format === 'table')
      return reply.type('text/plain; charset=utf-8').send(formatPoolTable(list));
    return { object: 'list', data: list };
  });

  app.post('/v1/admin/proxies', admin, async (req, reply) => {
    const proxy = parseBody(ProxyConfigSchema, req.body ?? {});
    const result = await pool.upsert(proxy);
    req.log.info({ proxyId: proxy.id, result }, 'proxy saved');
    const saved = (await pool.list()).find((p) => p.id === proxy.id);
    return reply.code(result === 'created' ? 201 : 200).send(saved);
  });

  app.delete<{ Params: { id: string } }>('/v1/admin/proxies/:id', admin, async (req, reply) => {
    if (!(await pool.remove(req.params.id)))
      throw new SwitchyardError('not_found', `no proxy ${req.params.id}`);
    req.log.info({ proxyId: req.params.id }, 'proxy removed');
    return reply.code(204).send();
  });

  for (const action of ['drain', 'undrain'] as const) {
    app.post<{ Params: { id: string } }>(`/v1/admin/proxies/:id/${action}`, admin, async (req) => {
      const inFlight = await pool[action](req.params.id);
      if (inFlight === null) throw new SwitchyardError('not_found', `no proxy ${req.params.id}`);
      req.log.info({ proxyId: req.params.id, inFlight }, `proxy ${action}ed`);
      return { id: req.params.id, draining: action === 'drain', in_flight: inFlight };
    });
  }
}
