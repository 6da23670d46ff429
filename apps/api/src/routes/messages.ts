import { DEFAULT_PRIORITY, isFinal, SwitchyardError, type JobRecord } from '@switchyard/contracts';
import { jobKeys, type JobReturn } from '@switchyard/jobs';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { MessagesBodySchema, toCompletionRequest } from '../anthropic/messages-body.ts';
import { relayMessages } from '../anthropic/messages-relay.ts';
import { anthropicError, messageOf } from '../anthropic/messages-shapes.ts';
import { requireScope, tenantOf } from '../auth.ts';
import { checkBudget } from '../budget.ts';
import { toSwitchyardError } from '../errors.ts';
import { parseIdempotencyKey } from '../headers.ts';
import { checkModels } from '../models.ts';
import { traceOf } from '../tracing.ts';
import { parseBody } from '../validation.ts';
import { cancelOnDisconnect, type ChatRoutesDeps } from './chat-completions.ts';

/**
 * `POST /v1/messages`, Anthropic-compatible: the request becomes an interactive-lane completion job
 * on any configured model (Claude or not); the response waits for it, or streams it as Messages
 * API events. Errors are Anthropic-style bodies, so Anthropic SDKs raise their usual exceptions.
 */
export function registerMessagesRoutes(app: FastifyInstance, deps: ChatRoutesDeps): void {
  const { config, redis, store } = deps;
  const keys = jobKeys(config.redis.prefix);
  app.post(
    '/v1/messages',
    {
      preHandler: requireScope('jobs:write', deps.auth),
      errorHandler: (err, req, reply: FastifyReply) => {
        const sy = toSwitchyardError(err);
        if (sy.status >= 500 && sy.code !== 'redis_unavailable') req.log.error({ err }, 'message failed');
        if (sy.retryAfterSeconds !== undefined)
          void reply.header('retry-after', String(sy.retryAfterSeconds));
        const { status, body } = anthropicError(sy.code, sy.message);
        void reply.code(status).send(body);
      },
    },
    async (req, reply) => {
      const tenantId = tenantOf(req);
      const body = parseBody(MessagesBodySchema, req.body);
      const request = toCompletionRequest(body);
      const spec = {
        type: 'completion' as const,
        lane: 'interactive' as const,
        priority: DEFAULT_PRIORITY,
        request,
      };
      checkModels(spec, config);
      const { job, replayed } = await store.submit({
        tenantId,
        spec,
        idempotencyKey: parseIdempotencyKey(req.headers['idempotency-key']),
        admit: () => checkBudget(deps.tenants, deps.ledger, tenantId),
        stream: body.stream === true,
        trace: traceOf(req),
      });
      void reply.header('x-switchyard-job-id', job.id);
      if (replayed) void reply.header('idempotent-replayed', 'true');
      const gone = new AbortController();
      cancelOnDisconnect(reply, store, tenantId, job.id, gone);
      const deadline = Date.parse(job.deadline_at);
      if (body.stream) {
        const key = keys.deltas(job.id);
        return relayMessages({ reply, redis, key, job, model: body.model, signal: gone.signal, deadline });
      }
      return messageWhenDone(deps, reply, tenantId, job, gone.signal);
    },
  );
}

/** Waits for a non-streaming job until its deadline and answers it as a `message` or an error. */
async function messageWhenDone(
  deps: Pick<ChatRoutesDeps, 'store' | 'waiter'>,
  reply: FastifyReply,
  tenantId: string,
  job: JobRecord,
  signal: AbortSignal,
) {
  const { store, waiter } = deps;
  let record: JobRecord | undefined = job;
  if (!isFinal(job)) {
    const waitMs = Date.parse(job.deadline_at) - Date.now();
    const waited = await waiter.wait(job.id, waitMs, () => store.isFinished(job.id), signal);
    const done = waited.returnvalue as Partial<JobReturn> | undefined;
    if (done?.result?.type === 'completion' && typeof done.attempts === 'number') {
      void reply.header('x-switchyard-attempts', String(done.attempts));
      void reply.header('x-switchyard-cost-usd', ((done.costNanos ?? 0) / 1e9).toFixed(9));
      return reply.code(200).send(messageOf(job, done.result));
    }
    record = await store.find(tenantId, job.id);
  }
  if (!record) throw new SwitchyardError('internal_error', 'the job disappeared');
  void reply.header('x-switchyard-attempts', String(record.attempts));
  void reply.header('x-switchyard-cost-usd', record.cost.usd.toFixed(9));
  if (record.status === 'succeeded' && record.result?.type === 'completion')
    return reply.code(200).send(messageOf(record, record.result));
  const code = record.error?.code ?? (isFinal(record) ? 'internal_job_error' : 'deadline_exceeded');
  const { status, body } = anthropicError(code, record.error?.message ?? 'the job did not finish in time');
  return reply.code(status).send(body);
}
