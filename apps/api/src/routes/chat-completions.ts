import type { Config } from '@switchyard/config';
import { DEFAULT_PRIORITY, isFinal, SwitchyardError, type JobRecord } from '@switchyard/contracts';
import type { Ledger } from '@switchyard/ledger';
import { jobKeys, type JobReturn, type JobStore, type JobWaiter } from '@switchyard/jobs';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Cluster, Redis } from 'ioredis';
import { requireScope, tenantOf, type AuthDeps } from '../auth.ts';
import { checkBudget } from '../budget.ts';
import { isStoreOutage, toSwitchyardError } from '../errors.ts';
import { parseIdempotencyKey } from '../headers.ts';
import { checkModels } from '../models.ts';
import { checkResponseFormat } from '../response-format.ts';
import { ChatCompletionsBodySchema, toCompletionRequest } from '../openai/chat-body.ts';
import { chatCompletion } from '../openai/chat-shapes.ts';
import { openAiError } from '../openai/openai-errors.ts';
import { relayStream } from '../openai/stream-relay.ts';
import { traceOf } from '../tracing.ts';
import { parseBody } from '../validation.ts';
import type { TenantStore } from '../tenancy/tenant-store.ts';

export interface ChatRoutesDeps {
  config: Config;
  redis: Redis | Cluster;
  store: JobStore;
  waiter: JobWaiter;
  auth: AuthDeps;
  ledger: Ledger;
  tenants: TenantStore;
}

const isDone = (r: JobRecord | undefined) => !r || isFinal(r);

/** Cancels the job when the client goes away before the answer: nobody would read it. */
export function cancelOnDisconnect(
  reply: FastifyReply,
  store: JobStore,
  tenantId: string,
  jobId: string,
  gone: AbortController,
) {
  reply.raw.once('close', () => {
    if (reply.raw.writableFinished || gone.signal.aborted) return;
    gone.abort();
    void store.cancel(tenantId, jobId).catch(() => undefined);
  });
}

/**
 * `POST /v1/chat/completions`, OpenAI-compatible: the request becomes an interactive-lane job;
 * the response waits for it (or streams its deltas as server-sent events). Errors are OpenAI-style
 * error bodies, so OpenAI SDKs raise their usual exceptions.
 */
export function registerChatRoutes(app: FastifyInstance, deps: ChatRoutesDeps): void {
  const { config, redis, store, waiter } = deps;
  const keys = jobKeys(config.redis.prefix);
  app.post(
    '/v1/chat/completions',
    {
      preHandler: requireScope('jobs:write', deps.auth),
      errorHandler: (err, req, reply: FastifyReply) => {
        const sy = toSwitchyardError(err, req.routeOptions.bodyLimit);
        if (sy.status >= 500 && !isStoreOutage(sy.code)) req.log.error({ err }, 'chat completion failed');
        if (sy.retryAfterSeconds !== undefined)
          void reply.header('retry-after', String(sy.retryAfterSeconds));
        const { status, body } = openAiError(sy.code, sy.message, sy.errors?.[0]?.path ?? null);
        void reply.code(status).send(body);
      },
    },
    async (req, reply) => {
      const tenantId = tenantOf(req);
      const idempotencyKey = parseIdempotencyKey(req.headers['idempotency-key']);
      const body = parseBody(ChatCompletionsBodySchema, req.body);
      const spec = {
        type: 'completion' as const,
        lane: 'interactive' as const,
        priority: DEFAULT_PRIORITY,
        request: toCompletionRequest(body),
        ...(body.cache ? { cache: body.cache } : {}),
      };
      checkModels(spec, config);
      checkResponseFormat(spec, 'response_format');
      const admit = () => checkBudget(deps.tenants, deps.ledger, tenantId);
      const { job, replayed } = await store.submit({
        tenantId,
        spec,
        idempotencyKey,
        admit,
        stream: body.stream === true,
        trace: traceOf(req),
      });
      void reply.header('x-switchyard-job-id', job.id);
      if (replayed) void reply.header('idempotent-replayed', 'true');
      const gone = new AbortController();
      cancelOnDisconnect(reply, store, tenantId, job.id, gone);
      const deadline = Date.parse(job.deadline_at);

      if (body.stream) {
        return relayStream({
          reply,
          redis,
          key: keys.deltas(job.id),
          job,
          includeUsage: body.stream_options?.include_usage === true,
          signal: gone.signal,
          deadline,
        });
      }
      return answerWhenDone({ store, waiter }, reply, tenantId, job, gone.signal);
    },
  );
}

/**
 * Waits for a non-streaming job until its deadline and answers it: from the completion event when
 * it carries the answer (no read of the job), else from the stored job (failures, older workers).
 */
async function answerWhenDone(
  deps: Pick<ChatRoutesDeps, 'store' | 'waiter'>,
  reply: FastifyReply,
  tenantId: string,
  job: JobRecord,
  signal: AbortSignal,
) {
  const { store, waiter } = deps;
  let record: JobRecord | undefined = job;
  if (!isDone(job)) {
    const deadline = Date.parse(job.deadline_at);
    const waited = await waiter.wait(job.id, deadline - Date.now(), () => store.isFinished(job.id), signal);
    const done = waited.returnvalue as Partial<JobReturn> | undefined;
    if (done?.result?.type === 'completion' && typeof done.attempts === 'number') {
      if (done.result.cached) void reply.header('x-switchyard-cache', 'hit');
      void reply.header('x-switchyard-attempts', String(done.attempts));
      void reply.header('x-switchyard-cost-usd', ((done.costNanos ?? 0) / 1e9).toFixed(9));
      return reply.code(200).send(chatCompletion({ ...job, result: done.result }));
    }
    record = await store.find(tenantId, job.id);
  }
  if (!record) throw new SwitchyardError('internal_error', 'the job disappeared');
  if (record.result?.type === 'completion' && record.result.cached)
    void reply.header('x-switchyard-cache', 'hit');
  void reply.header('x-switchyard-attempts', String(record.attempts));
  void reply.header('x-switchyard-cost-usd', record.cost.usd.toFixed(9));
  if (record.status === 'succeeded') return reply.code(200).send(chatCompletion(record));
  const code = record.error?.code ?? (isDone(record) ? 'internal_job_error' : 'deadline_exceeded');
  const { status, body: errBody } = openAiError(
    code,
    record.error?.message ?? 'the job did not finish in time',
  );
  return reply.code(status).send(errBody);
}
