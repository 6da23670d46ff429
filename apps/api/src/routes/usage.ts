import { SwitchyardError } from '@switchyard/contracts';
import { utcDay, type Ledger } from '@switchyard/ledger';
import type { FastifyInstance } from 'fastify';
import { requireScope, tenantOf, type AuthDeps } from '../auth.ts';

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const GROUPS = ['model', 'day', 'outcome'] as const;
type Group = (typeof GROUPS)[number];

/** `GET /v1/usage`: the caller's costs by model, day or outcome, with the share spent on retries. */
export function registerUsageRoutes(app: FastifyInstance, deps: { ledger: Ledger; auth: AuthDeps }): void {
  app.get<{ Querystring: { group_by?: string; from?: string; to?: string } }>(
    '/v1/usage',
    { preHandler: requireScope('jobs:read', deps.auth) },
    async (req) => {
      const tenantId = tenantOf(req);
      const groupBy = (req.query.group_by ?? 'model') as Group;
      if (!GROUPS.includes(groupBy)) {
        throw new SwitchyardError('validation_failed', 'group_by must be model, day or outcome', {
          errors: [{ path: 'group_by', message: 'expected model, day or outcome' }],
        });
      }
      const to = req.query.to ?? utcDay(Date.now());
      const from = req.query.from ?? utcDay(Date.parse(`${to}T00:00:00Z`) - 6 * 86_400_000);
      for (const [path, v] of [
        ['from', from],
        ['to', to],
      ] as const) {
        if (!DAY.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`))) {
          throw new SwitchyardError('validation_failed', `${path} must be a date YYYY-MM-DD`, {
            errors: [{ path, message: 'expected YYYY-MM-DD' }],
          });
        }
      }
      return deps.ledger.usage(tenantId, { from, to, groupBy });
    },
  );
}
