import type { FastifyInstance } from 'fastify';
import { requireScope, type AuthDeps } from '../auth.ts';
import type { LaneMonitor } from '../ops/lane-monitor.ts';

/** `GET /v1/admin/lanes`: per lane what is ready, running and delayed (and why), and the live workers. */
export function registerLaneRoutes(app: FastifyInstance, deps: { lanes: LaneMonitor; auth: AuthDeps }): void {
  app.get('/v1/admin/lanes', { preHandler: requireScope('admin', deps.auth) }, () => deps.lanes.report());
}
