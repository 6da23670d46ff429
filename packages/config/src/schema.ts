import { z } from 'zod';
import { ScrapeConfigSchema } from './scrape-schema.ts';
import { WorkerConfigSchema } from './worker-schema.ts';
import { positiveInt, SsrfPolicySchema } from './primitives.ts';

export { SsrfPolicySchema, type SsrfPolicy } from './primitives.ts';

/** A model as clients name it, mapped to the provider that serves it. */
export const ModelConfigSchema = z.strictObject({
  /** Adapter kind: `openai` covers every OpenAI-compatible API, `anthropic` the Messages API. */
  provider: z.enum(['openai', 'anthropic']).default('openai'),
  /** Base URL up to and including `/v1`, e.g. `https://api.openai.com/v1`, `https://api.anthropic.com/v1`. */
  baseUrl: z.url({ protocol: /^https?$/ }),
  /** Name of the environment variable that holds the provider API key; absent for keyless mocks. */
  apiKeyEnv: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/, 'an environment variable name')
    .optional(),
  /** The model name sent upstream. */
  upstreamModel: z.string().min(1),
  /** `direct` dials the provider; `pool` leases an egress proxy first. */
  egress: z.enum(['direct', 'pool']).default('direct'),
  /** Per-attempt timeout for the whole upstream call. */
  timeoutMs: positiveInt().default(60_000),
  /** USD per million tokens; at most 3 decimals so costs stay exact in nano-dollars. */
  price: z
    .strictObject({
      inputPerMTok: z.number().nonnegative().default(0),
      outputPerMTok: z.number().nonnegative().default(0),
      /** Input tokens read from the provider's prompt cache; default `inputPerMTok`. */
      cachedInputPerMTok: z.number().nonnegative().optional(),
      /** Input tokens written to the prompt cache (Anthropic bills them); default `inputPerMTok`. */
      cacheWritePerMTok: z.number().nonnegative().optional(),
      /** Reasoning tokens; default `outputPerMTok` (they are output tokens). */
      reasoningPerMTok: z.number().nonnegative().optional(),
    })
    .prefault({}),
  /** Marks the built-in demo model (a local mock, not a real LLM). */
  demo: z.boolean().default(false),
  /**
   * Exact-match response cache for this model: its deterministic requests (`temperature: 0`) are
   * answered from a stored answer at most `ttlS` old, per tenant. A request's `cache` overrides it.
   */
  cache: z.strictObject({ ttlS: positiveInt().max(30 * 86_400) }).optional(),
});
export type ModelConfig = z.infer<typeof ModelConfigSchema>;

/** An egress proxy from the config file (the admin API can add more at run time). */
export const ProxyConfigSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, ., _ and -'),
  /** `http://` or `https://` forward proxy, optionally with `user:pass@`; never logged or returned. */
  url: z.url({ protocol: /^https?$/, error: 'an http:// or https:// proxy URL (socks is not supported)' }),
  tags: z.array(z.string().min(1).max(64)).max(16).default([]),
  /** ISO 3166-1 alpha-2. */
  country: z
    .string()
    .regex(/^[A-Za-z]{2}$/, 'a two-letter country code')
    .transform((c) => c.toUpperCase())
    .optional(),
  maxConcurrency: positiveInt().max(10_000).default(8),
  /** USD per GB (1e9 bytes) through this proxy. */
  pricePerGbUsd: z.number().nonnegative().default(0),
});
export type ProxyConfig = z.infer<typeof ProxyConfigSchema>;

export const ConfigSchema = z
  .strictObject({
    redis: z
      .strictObject({
        /** Redis connection URL. Env: REDIS_URL. */
        url: z
          .string()
          .regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL')
          .default('redis://127.0.0.1:6379'),
        /** Prefix for every key Switchyard writes. */
        prefix: z
          .string()
          .regex(/^[a-z0-9_-]+$/, 'lowercase letters, digits, - and _')
          .default('sy'),
        /**
         * How long a starting API or worker waits for Redis before it exits 1 saying it cannot
         * reach it (an orchestrator restarts it; a process that answered 503 forever would hide the
         * fault).
         */
        startupWaitMs: positiveInt().default(30_000),
        /**
         * Seed nodes (`host:port`) of a Redis Cluster; set instead of `url`, every role then uses a
         * cluster client. Env: REDIS_CLUSTER (comma-separated).
         */
        cluster: z
          .array(z.string().regex(/^[^\s:/]+:\d{1,5}$/, 'a host:port seed node'))
          .min(1)
          .optional(),
        /**
         * Replicas that must hold a submission before it is acknowledged (`WAIT n`); 0 trusts
         * asynchronous replication, which a master's failover can lose recent writes to.
         */
        waitReplicas: z.number().int().min(0).max(16).default(0),
        /**
         * How long a submission waits for `waitReplicas` before it is answered 503; below the
         * API's 2 s Redis command timeout.
         */
        waitTimeoutMs: positiveInt().max(1_500).default(1_000),
      })
      .prefault({}),
    api: z
      .strictObject({
        host: z.string().default('127.0.0.1'),
        /** Env: PORT. */
        port: z.number().int().min(0).max(65535).default(8080),
        /** Largest request body accepted, in bytes (413 above it). */
        bodyLimitBytes: positiveInt().default(1_048_576),
        /** Longest `Prefer: wait=N` honoured, in seconds. */
        maxWaitSeconds: positiveInt().max(600).default(60),
        /** Bootstrap admin key. Env: SWITCHYARD_ADMIN_KEY. At least 24 characters. */
        adminKey: z.string().min(24, 'at least 24 characters').optional(),
      })
      .prefault({}),
    worker: WorkerConfigSchema,
    jobs: z
      .strictObject({
        /** How long an Idempotency-Key is remembered. */
        idempotencyTtlSeconds: positiveInt().default(86_400),
        /** How long finished jobs and results are kept; never shorter than the idempotency window. */
        retentionSeconds: positiveInt().default(86_400),
        /** Deadline for jobs that do not set `timeout_ms`. */
        defaultTimeoutMs: positiveInt().default(600_000),
        /** Upstream attempts per model of a job (first try included); fallbacks get as many each. */
        maxAttempts: positiveInt().max(20).default(3),
        /** First retry delay; later ones back off exponentially with jitter. */
        backoffMs: positiveInt().default(500),
        /**
         * Retry budget per upstream (model, or scraped host) and per tenant's share of it: retries
         * (and fallbacks) may not exceed `ratio` × first attempts in a sliding window, plus
         * `floor`; past it jobs fail with `retry_budget_exhausted` (ADR 0021).
         */
        retryBudget: z
          .strictObject({
            ratio: z.number().min(0).max(10).default(0.2),
            windowSeconds: positiveInt().max(3600).default(30),
            floor: z.number().int().min(0).default(10),
          })
          .prefault({}),
      })
      .prefault({}),
    /** Uploaded files (`POST /v1/files`, OpenAI's Files API), stored compressed in Redis. */
    files: z
      .strictObject({
        /** Largest upload accepted, in bytes before compression (413 `file_too_large` above it). */
        maxBytes: positiveInt().default(209_715_200),
        /** Most lines a file may hold (413 `file_too_many_lines` above it); OpenAI's batch limit. */
        maxLines: positiveInt().default(50_000),
        /** How long an uploaded file is kept; a batch reads its input file once, when created. */
        ttlSeconds: positiveInt().default(86_400),
      })
      .prefault({}),
    /** Signed completion webhooks (docs/webhooks.md). */
    webhooks: z
      .strictObject({
        /** Delivery attempts per event (first try included); after the last one it is given up. */
        maxAttempts: positiveInt().max(30).default(8),
        /** Wait before the first retry; each later one doubles (20% jitter). */
        backoffMs: positiveInt().default(1_000),
        /** One attempt: connect, send and the receiver's answer. */
        timeoutMs: positiveInt().max(60_000).default(5_000),
        /** The SSRF guard for webhook URLs: `allowCidrs`, `allowPorts`. */
        ...SsrfPolicySchema.shape,
      })
      .prefault({}),
    /** Per-tenant limits, enforced in Redis across every API process. */
    limits: z
      .strictObject({
        /** Requests per second per tenant (token bucket refill); 0 turns the limit off. */
        requestsPerSecond: z.number().nonnegative().default(100),
        /** Requests a tenant may send at once above the rate. */
        burst: positiveInt().default(200),
        /** Jobs a tenant may have admitted and not finished (queued, running, retrying); 0: no limit. */
        maxJobsInFlight: z.number().int().nonnegative().default(0),
        /** Jobs a tenant may have waiting for a worker (never started); 0: no limit. */
        maxJobsQueued: z.number().int().nonnegative().default(200_000),
      })
      .prefault({}),
    /** Fair share between tenants inside the batch lane (docs/adr/0005-batch-fair-share.md). */
    fairness: z
      .strictObject({
        /** Off: batch jobs go straight into the lane in submission order, tenants mixed. */
        enabled: z.boolean().default(true),
        /**
         * Ready batch jobs each worker's mover keeps in the lane (in each shard of a sharded lane);
         * about the fleet's batch concurrency.
         */
        bufferJobs: positiveInt().max(100_000).default(64),
      })
      .prefault({}),
    /** The lanes' queues (docs/adr/0026-sharded-batch-lane.md). */
    lanes: z
      .strictObject({
        batch: z
          .strictObject({
            /**
             * Queues the batch lane is spread over, each its own hash tag (a Redis Cluster puts
             * them on different masters); 1 is one queue under today's keys. Workers serve every
             * shard, `worker.concurrency.batch` split between them.
             */
            shards: positiveInt().max(12).default(1),
          })
          .prefault({}),
      })
      .prefault({}),
    proxies: z.array(ProxyConfigSchema).max(10_000).default([]),
    pool: z
      .strictObject({
        /** Share of total proxy capacity only interactive leases may use. */
        interactiveReserve: z.number().min(0).max(0.9).default(0.1),
        /** What the prober fetches through a quarantined proxy; without it, a TCP connect to the proxy. */
        probeUrl: z.url({ protocol: /^https?$/ }).optional(),
        /** Pause between probe rounds. */
        probeIntervalMs: positiveInt().default(5_000),
        /**
         * A lease lives for the attempt's timeout plus this margin; a worker killed mid-attempt
         * gives its proxy slots back when the lease expires.
         */
        leaseMarginMs: positiveInt().default(5_000),
        /** First quarantine of a faulty proxy; doubles per consecutive fault (jittered). */
        quarantineBaseMs: positiveInt().default(5_000),
        /**
         * Pacing per (proxy, host) pair after a 429 (docs/adr/0013-pool-pacing-aimd.md): the pair's
         * starts per second are cut by `decrease` at each 429 and raised by `increaseRps` at each
         * success; a paced pair is not leased for the host before its next start (jobs are delayed).
         */
        pacing: z
          .strictObject({
            enabled: z.boolean().default(true),
            /** Starts per second after a pair's first 429. */
            startRps: z.number().positive().default(10),
            /** Factor applied at each further 429 (once per episode). */
            decrease: z.number().gt(0).lt(1).default(0.5),
            /** Starts per second added by each success. */
            increaseRps: z.number().positive().default(0.1),
            /** Floor of a pair's rate. */
            minRps: z.number().positive().default(0.2),
            /** A pair raised to this rate is unpaced again. */
            maxRps: z.number().positive().default(100),
            /** A pair's pacing is forgotten after this long without a release. */
            idleMs: positiveInt().default(300_000),
          })
          .prefault({}),
      })
      .prefault({}),
    scrape: ScrapeConfigSchema,
    models: z
      .record(z.string().regex(/^[A-Za-z0-9._:/-]{1,128}$/, 'a model name'), ModelConfigSchema)
      .prefault({}),
    log: z
      .strictObject({
        /** Env: LOG_LEVEL. */
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .prefault({}),
  })
  .superRefine((cfg, ctx) => {
    if (cfg.jobs.retentionSeconds < cfg.jobs.idempotencyTtlSeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['jobs', 'retentionSeconds'],
        message: 'must be at least jobs.idempotencyTtlSeconds, so a late duplicate never re-runs a job',
      });
    }
  });

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;
