import type { Config } from '@switchyard/config';
import {
  costFromNanos,
  isFinal,
  JobSpecSchema,
  SwitchyardError,
  type AttemptLogEntry,
  type JobRecord,
} from '@switchyard/contracts';
import type { AttemptEntry, Ledger } from '@switchyard/ledger';
import type { JobStore, JobWaiter } from '@switchyard/jobs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { requireScope, tenantOf, type AuthDeps } from '../auth.ts';
import { parseIdempotencyKey, parsePreferWait } from '../headers.ts';
import { checkBudget } from '../budget.ts';
import { checkModels } from '../models.ts';
import { checkResponseFormat } from '../response-format.ts';
import { TargetAdmission } from '../target-admission.ts';
import { traceOf } from '../tracing.ts';
import { parseBody } from '../validation.ts';
import type { TenantStore } from '../tenancy/tenant-store.ts';
import { checkWebhookSecret } from '../webhook-admission.ts';

export interface JobRoutesDeps {
  config: Config;
  store: JobStore;
  waiter: JobWaiter;
  auth: AuthDeps;
  ledger: Ledger;
  tenants: TenantStore;
}

function attemptLog(entries: AttemptEntry[]): AttemptLogEntry[] {
  return entries.map((e) => ({
    attempt: e.attempt,
    model: e.model,
    proxy_id: e.proxyId,
    outcome: e.outcome,
    interrupted: e.interrupted,
    latency_ms: e.latencyMs,
    input_tokens: e.inputTokens,
    output_tokens: e.outputTokens,
    ...(e.cachedInputTokens ? { cached_input_tokens: e.cachedInputTokens } : {}),
    ...(e.cacheWriteTokens ? { cache_write_tokens: e.cacheWriteTokens } : {}),
    ...(e.reasoningTokens ? { reasoning_tokens: e.reasoningTokens } : {}),
    ...(e.estimated ? { estimated: true } : {}),
    bytes: e.bytes,
    cost: costFromNanos(e.costNanos),
    started_at: new Date(e.at).toISOString(),
  }));
}

const isDone = (r: JobRecord | undefined) => !r || isFinal(r);

/** Aborts when the client goes away before its response was sent. */
function abortOnClose(reply: FastifyReply): AbortSignal {
  const ctrl = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) ctrl.abort();
  });
  return ctrl.signal;
}

export function registerJobRoutes(app: FastifyInstance, deps: JobRoutesDeps): void {
  const { config, store, waiter } = deps;
  const targets = new TargetAdmission(config);

  /** Holds the response up to `seconds` for the job to finish (Prefer: wait), then re-reads it. */
  async function waitFor(
    req: FastifyRequest,
    reply: FastifyReply,
    tenantId: string,
    record: JobRecord,
    seconds: number | undefined,
  ) {
    if (seconds === undefined) return record;
    void reply.header('preference-applied', `wait=${seconds}`);
    if (isDone(record)) return record;
    const { finished } = await waiter.wait(
      record.id,
      seconds * 1000,
      () => store.isFinished(record.id),
      abortOnClose(reply),
    );
    if (!finished) return record;
    return (await store.find(tenantId, record.id)) ?? record;
  }

  const send = (reply: FastifyReply, record: JobRecord) => {
    const done = isDone(record);
    if (!done) void reply.header('location', `/v1/jobs/${record.id}`);
    return reply.code(done ? 200 : 202).send(record);
  };

  app.post('/v1/jobs', { preHandler: requireScope('jobs:write', deps.auth) }, async (req, reply) => {
    const tenantId = tenantOf(req);
    const idempotencyKey = parseIdempotencyKey(req.headers['idempotency-key']);
    const wait = parsePreferWait(req.headers.prefer, config.api.maxWaitSeconds);
    const spec = parseBody(JobSpecSchema, req.body);
    checkModels(spec, config);
    checkResponseFormat(spec);
    targets.check(spec);
    if (spec.webhook) await checkWebhookSecret(deps.tenants, tenantId, 'webhook');
    const admit = () => checkBudget(deps.tenants, deps.ledger, tenantId);
    const { job, replayed } = await store.submit({
      tenantId,
      spec,
      idempotencyKey,
      admit,
      trace: traceOf(req),
    });
    if (replayed) void reply.header('idempotent-replayed', 'true');
    req.log.info({ jobId: job.id, lane: job.lane, type: job.type, replayed }, 'job accepted');
    return send(reply, await waitFor(req, reply, tenantId, job, wait));
  });

  app.get<{ Params: { id: string } }>(
    '/v1/jobs/:id',
    { preHandler: requireScope('jobs:read', deps.auth) },
    async (req, reply) => {
      const tenantId = tenantOf(req);
      const record = await store.find(tenantId, req.params.id);
      if (!record) throw new SwitchyardError('not_found', `no job ${req.params.id}`);
      const wait = parsePreferWait(req.headers.prefer, config.api.maxWaitSeconds);
      const latest = await waitFor(req, reply, tenantId, record, wait);
      const entries = await deps.ledger.jobAttempts(tenantId, latest.id);
      return reply.code(200).send({ ...latest, attempt_log: attemptLog(entries) });
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/jobs/:id',
    { preHandler: requireScope('jobs:write', deps.auth) },
    async (req, reply) => {
      const tenantId = tenantOf(req);
      const record = await store.cancel(tenantId, req.params.id);
      req.log.info({ jobId: record.id }, 'job cancel requested');
      return reply.code(200).send(record);
    },
  );
}
