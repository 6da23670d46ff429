import { isFinal, SwitchyardError, type JobRecord } from '@switchyard/contracts';
import type { JobStore, JobWaiter } from '@switchyard/jobs';
import type { FastifyInstance } from 'fastify';
import { requireScope, tenantOf, type AuthDeps } from '../auth.ts';
import { openEventStream } from '../sse.ts';

const KEEPALIVE_MS = 15_000;

/**
 * `GET /v1/jobs/{id}/events`: server-sent events of a job's status changes. The first event is
 * the current state; each `status` event carries the job record; the stream ends after the job
 * finishes (or at its deadline).
 */
export function registerJobEventRoutes(
  app: FastifyInstance,
  deps: { store: JobStore; waiter: JobWaiter; auth: AuthDeps },
): void {
  const { store, waiter } = deps;
  app.get<{ Params: { id: string } }>(
    '/v1/jobs/:id/events',
    { preHandler: requireScope('jobs:read', deps.auth) },
    async (req, reply) => {
      const tenantId = tenantOf(req);
      const first = await store.find(tenantId, req.params.id);
      if (!first) throw new SwitchyardError('not_found', `no job ${req.params.id}`);
      const res = openEventStream(reply);
      let last = '';
      const send = (r: JobRecord) => {
        const key = `${r.status}/${r.attempts}`;
        if (key === last) return;
        last = key;
        res.write(`event: status\ndata: ${JSON.stringify(r)}\n\n`);
      };
      let done = false;
      let pending = Promise.resolve();
      const stop = () => {
        if (done) return;
        done = true;
        unwatch();
        clearInterval(keepalive);
        clearTimeout(deadline);
        res.end();
      };
      const refresh = () => {
        pending = pending.then(async () => {
          if (done) return;
          const r = await store.find(tenantId, first.id).catch(() => undefined);
          if (!r) return;
          send(r);
          if (isFinal(r)) stop();
        });
      };
      const unwatch = waiter.watch(first.id, refresh);
      const keepalive = setInterval(() => res.write(': keep-alive\n\n'), KEEPALIVE_MS);
      const deadline = setTimeout(stop, Math.max(0, Date.parse(first.deadline_at) - Date.now()) + 5_000);
      res.once('close', stop);
      send(first);
      if (isFinal(first)) stop();
      else refresh(); // it may have moved on between the first read and the subscription
    },
  );
}
