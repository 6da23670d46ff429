/**
 * What the benchmark programs share: a Switchyard API in this process (worker in-process or as
 * its own process), Redis probes (INFO commandstats, memory, CPU, version), batch submission and
 * polling, and the RSS of a process. Everything runs on loopback against a Redis the program
 * started itself.
 */
import type { Config, ConfigInput } from '@switchyard/config';
import type { MockLlm } from '@switchyard/mock-upstream';
import { startStack, type Stack } from '@switchyard/standalone';
import { createLogger } from '@switchyard/telemetry';
import type { RedisClusterHandle, RedisHandle } from '@switchyard/test-kit';
import type { Redis } from 'ioredis';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { request, type Dispatcher } from 'undici';
import { Api } from '../e2e/support/api.ts';
import { MOCK_MODEL, MOCK_PRICE, testConfig } from '../e2e/support/stack.ts';
import { startWorkerProcess, writeConfigFile, type WorkerProcess } from '../e2e/support/worker-process.ts';

export { MOCK_MODEL };

export interface BenchStack {
  url: string;
  config: Config;
  stack: Stack;
  /** A tenant's key with jobs:write + jobs:read. */
  key: string;
  close(): Promise<void>;
}

/**
 * The API (and, with `worker: true`, a worker) in this process, configured like the e2e tests
 * (`testConfig`: the mock model, no rate limit) plus `config`. Unlike the e2e stack it logs at
 * `log.level` (default `warn`) to stderr, so request logging is not part of what is measured
 * unless a program asks for it.
 */
export async function startBenchStack(opts: {
  redis: RedisHandle | RedisClusterHandle;
  mock: MockLlm;
  config?: ConfigInput;
  worker?: boolean;
}): Promise<BenchStack> {
  const config = testConfig(opts.redis, opts.mock, { log: { level: 'warn' }, ...opts.config });
  const logger = createLogger({ name: 'bench', level: config.log.level, destination: process.stderr });
  const stack = await startStack({ config, logger, worker: opts.worker ?? false });
  const admin = new Api(stack.url, config.api.adminKey);
  const tenant = await admin.post<{ id: string }>('/v1/admin/tenants', { name: 'bench' });
  const key = await admin.post<{ key: string }>(`/v1/admin/tenants/${tenant.body.id}/keys`, {
    scopes: ['jobs:write', 'jobs:read'],
  });
  if (tenant.status !== 201 || key.status !== 201) throw new Error('could not create the bench tenant');
  return { url: stack.url, config, stack, key: key.body.key, close: () => stack.close() };
}

/**
 * One interactive completion through `POST /v1/jobs` with `Prefer: wait`, as a latency sample:
 * resolves when the job succeeded, throws otherwise.
 */
export function interactiveJob(
  bench: Pick<BenchStack, 'url' | 'key'>,
  agent: Dispatcher,
): () => Promise<void> {
  const body = JSON.stringify({
    type: 'completion',
    lane: 'interactive',
    request: completionRequest('hi'),
  });
  return async () => {
    const res = await request(`${bench.url}/v1/jobs`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${bench.key}`,
        prefer: 'wait=30',
      },
      body,
      dispatcher: agent,
    });
    const job = (await res.body.json()) as { status: string };
    if (job.status !== 'succeeded') throw new Error(`interactive job ${job.status}`);
  };
}

/** `apps/worker` as its own process with this config (`args`: e.g. `['--lanes', 'batch']`). */
export async function startBenchWorker(config: Config, args: string[] = []): Promise<WorkerProcess> {
  return startWorkerProcess(writeConfigFile(config), args);
}

/** SIGTERM (graceful: a profiled process writes its profile), SIGKILL if it takes too long. */
export async function stopProcess(p: { terminate(s?: NodeJS.Signals): void; exited: Promise<unknown> }) {
  p.terminate('SIGTERM');
  const timer = setTimeout(() => p.terminate('SIGKILL'), 15_000);
  await p.exited;
  clearTimeout(timer);
}

/** A model served by the mock upstream, like `testConfig`'s MOCK_MODEL (default 5 s timeout). */
export const mockModel = (mock: MockLlm, extra: { egress?: 'direct' | 'pool'; timeoutMs?: number } = {}) => ({
  baseUrl: `${mock.url}/v1`,
  upstreamModel: 'mock-small',
  price: MOCK_PRICE,
  timeoutMs: 5_000,
  ...extra,
});

// ---- Redis probes

export type CommandStats = Map<string, { calls: number; usec: number }>;

/** INFO commandstats. Commands run by Lua scripts are counted too, under their own names. */
export async function commandStats(redis: Redis): Promise<CommandStats> {
  const text = await redis.info('commandstats');
  const out: CommandStats = new Map();
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm))
    out.set(m[1] ?? '', { calls: Number(m[2]), usec: Number(m[3]) });
  return out;
}

export function statsDelta(before: CommandStats, after: CommandStats): CommandStats {
  const out: CommandStats = new Map();
  for (const [name, a] of after) {
    const b = before.get(name) ?? { calls: 0, usec: 0 };
    if (a.calls > b.calls) out.set(name, { calls: a.calls - b.calls, usec: a.usec - b.usec });
  }
  return out;
}

export const totalCalls = (s: CommandStats) => [...s.values()].reduce((a, c) => a + c.calls, 0);

/** One field of INFO `section`, e.g. (`server`, `redis_version`). */
export async function infoField(redis: Redis, section: string, field: string): Promise<string> {
  const m = new RegExp(`^${field}:(.*)$`, 'm').exec(await redis.info(section));
  return m?.[1]?.trim() ?? '';
}

export const redisVersion = (redis: Redis) => infoField(redis, 'server', 'redis_version');
export const usedMemory = async (redis: Redis) => Number(await infoField(redis, 'memory', 'used_memory'));
/** Redis server CPU (user + system), seconds. */
export async function redisCpuSeconds(redis: Redis): Promise<number> {
  const text = await redis.info('cpu');
  const f = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(text)?.[1] ?? 0);
  return f('used_cpu_user') + f('used_cpu_sys');
}

// ---- batches

export const completionRequest = (content: string, model = MOCK_MODEL) => ({
  model,
  messages: [{ role: 'user', content }],
});

export interface BatchRecord {
  id: string;
  status: 'in_progress' | 'completed';
  counts: Record<string, number>;
}

/** POSTs `n` job lines as one streamed NDJSON body; `line(i)` gives the line's job spec. */
export async function submitBatch(
  bench: Pick<BenchStack, 'url' | 'key'>,
  n: number,
  line: (i: number) => Record<string, unknown>,
): Promise<BatchRecord> {
  async function* body() {
    for (let i = 0; i < n; i += 1000) {
      let chunk = '';
      for (let j = i; j < Math.min(n, i + 1000); j++)
        chunk += `${JSON.stringify({ custom_id: `l${j}`, ...line(j) })}\n`;
      yield chunk;
    }
  }
  const res = await request(`${bench.url}/v1/batches`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bench.key}`, 'content-type': 'application/x-ndjson' },
    body: Readable.from(body()),
  });
  const batch = (await res.body.json()) as BatchRecord;
  if (res.statusCode !== 202 || batch.counts.accepted !== n)
    throw new Error(`batch answered ${res.statusCode}: ${JSON.stringify(batch).slice(0, 500)}`);
  return batch;
}

/** Polls GET /v1/batches/{id} until it is completed. */
export async function waitForBatch(
  bench: Pick<BenchStack, 'url' | 'key'>,
  id: string,
  everyMs = 100,
  timeoutMs = 600_000,
): Promise<BatchRecord> {
  const api = new Api(bench.url, bench.key);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const b = await api.get<BatchRecord>(`/v1/batches/${id}`);
    if (b.body.status === 'completed') return b.body;
    if (Date.now() > deadline) throw new Error(`batch ${id} not completed: ${JSON.stringify(b.body.counts)}`);
    await sleep(everyMs);
  }
}

/** Polls until `check` is truthy. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

// ---- processes

/** Resident set size of a process, from /proc/<pid>/status (Linux). */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** CPU time (user + system) a process has used so far, in seconds, from /proc/<pid>/stat (Linux). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15 (clock ticks).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}
const CLOCK_TICKS = 100;

/** The largest RSS seen over `ms`, sampled every 50 ms. */
export async function peakRss(pid: number, ms: number): Promise<number> {
  let peak = rssBytes(pid);
  for (const until = Date.now() + ms; Date.now() < until;) {
    await sleep(50);
    peak = Math.max(peak, rssBytes(pid));
  }
  return peak;
}
