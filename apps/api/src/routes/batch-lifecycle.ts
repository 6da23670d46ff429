import { SwitchyardError, viewOfBatch, type BatchList } from '@switchyard/contracts';
import type { BatchStore } from '@switchyard/batches';
import type { FastifyInstance } from 'fastify';
import { requireScope, tenantOf, type AuthDeps } from '../auth.ts';

export interface BatchLifecycleDeps {
  batches: BatchStore;
  auth: AuthDeps;
}

/** OpenAI's limits for `GET /v1/batches`. */
export const BATCH_LIST_LIMIT = { default: 20, max: 100 } as const;

type ListQuery = { Querystring: { after?: string; limit?: string } };

function parseLimit(value: string | undefined): number {
  if (value === undefined) return BATCH_LIST_LIMIT.default;
  const n = Number(value);
  if (!/^\d{1,3}$/.test(value) || n < 1 || n > BATCH_LIST_LIMIT.max) {
    throw new SwitchyardError(
      'validation_failed',
      `limit must be an integer from 1 to ${BATCH_LIST_LIMIT.max}`,
      {
        errors: [{ path: 'limit', message: `expected 1–${BATCH_LIST_LIMIT.max}` }],
      },
    );
  }
  return n;
}

/**
 * `GET /v1/batches` (the tenant's batches, newest first, OpenAI's cursor page) and
 * `POST /v1/batches/{id}/cancel` (cancels the unfinished jobs), for batches of either form.
 */
export function registerBatchLifecycleRoutes(scope: FastifyInstance, deps: BatchLifecycleDeps): void {
  const read = { preHandler: requireScope('jobs:read', deps.auth) };
  const write = { preHandler: requireScope('jobs:write', deps.auth) };
  scope.get<ListQuery>('/v1/batches', read, async (req): Promise<BatchList> => {
    const limit = parseLimit(req.query.limit);
    const page = await deps.batches.list(tenantOf(req), { after: req.query.after, limit });
    const data = page.data.map(viewOfBatch);
    return {
      object: 'list',
      data,
      first_id: data[0]?.id ?? null,
      last_id: data.at(-1)?.id ?? null,
      has_more: page.has_more,
    };
  });
  scope.post<{ Params: { id: string } }>('/v1/batches/:id/cancel', write, async (req) => {
    const batch = await deps.batches.cancel(tenantOf(req), req.params.id);
    if (!batch) throw new SwitchyardError('not_found', `no batch ${req.params.id}`);
    req.log.info({ batchId: batch.id, status: batch.status }, 'batch cancel requested');
    return viewOfBatch(batch);
  });
}
