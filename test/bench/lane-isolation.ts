/**
 * Lane isolation: interactive round-trip latency (POST /v1/jobs + Prefer: wait) while the batch
 * lane holds a flood of queued jobs and its workers are saturated, against the same measurement
 * on an idle broker, in one run. Target: flood p99 ≤ 2 × idle p99.
 *
 *   node test/bench/lane-isolation.ts [--quick] [--json out.json]
 *
 * The API and the mock upstream run in this process; each lane has its own worker process
 * (`--lanes interactive`, `--lanes batch`; batch concurrency 32, interactive 8).
 */
import { writeFileSync } from 'node:fs';
import { startMockLlm } from '@switchyard/mock-upstream';
import { startRedis } from '@switchyard/test-kit';
import { Agent, request } from 'undici';
import { startTestStack } from '../e2e/support/stack.ts';
import { startWorkerProcess, writeConfigFile } from '../e2e/support/worker-process.ts';
import { flag, option, summarize, timeIt } from './stats.ts';

export async function laneIsolation(opts: { quick: boolean }) {
  const samples = opts.quick ? 30 : 400;
  const flood = opts.quick ? 2_000 : 100_000;
  const redis = await startRedis({ dedicated: true });
  const mock = await startMockLlm({ latencyMs: 5 });
  const t = await startTestStack({
    redis,
    mock,
    worker: false,
    config: { log: { level: 'warn' }, worker: { concurrency: { interactive: 8, batch: 32 } } },
  });
  // One worker process per lane, as ops would scale them (`--lanes`).
  const cfg = writeConfigFile(t.config);
  const workers = [
    await startWorkerProcess(cfg, ['--lanes', 'interactive']),
    await startWorkerProcess(cfg, ['--lanes', 'batch']),
  ];
  const { key } = await t.tenant();
  const agent = new Agent({ connections: 8 });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${key}` };
  const interactive = async () => {
    const res = await request(`${t.url}/v1/jobs`, {
      method: 'POST',
      headers: { ...headers, prefer: 'wait=30' },
      body: JSON.stringify({
        type: 'completion',
        lane: 'interactive',
        request: { model: 'mock', messages: [{ role: 'user', content: 'hi' }] },
      }),
      dispatcher: agent,
    });
    const body = (await res.body.json()) as { status: string };
    if (body.status !== 'succeeded') throw new Error(`interactive job ${body.status}`);
  };
  const measure = async () => {
    const s: number[] = [];
    for (let i = 0; i < samples; i++) s.push(await timeIt(interactive));
    return summarize(s);
  };
  try {
    for (let i = 0; i < 20; i++) await interactive();
    const idle = await measure();
    // Flood the batch lane through /v1/batches (NDJSON, 50,000 lines per request).
    const started = Date.now();
    for (let sent = 0; sent < flood; sent += 50_000) {
      const n = Math.min(50_000, flood - sent);
      const body = Array.from({ length: n }, (_, i) =>
        JSON.stringify({
          custom_id: `f${sent + i}`,
          type: 'completion',
          request: { model: 'mock', messages: [{ role: 'user', content: 'flood' }] },
        }),
      ).join('\n');
      const res = await request(`${t.url}/v1/batches`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/x-ndjson' },
        body,
        dispatcher: agent,
      });
      await res.body.dump();
      if (res.statusCode !== 202) throw new Error(`batch submission answered ${res.statusCode}`);
    }
    const enqueueSeconds = (Date.now() - started) / 1000;
    const busy = await measure();
    const callsBefore = mock.stats().calls;
    await new Promise((r) => setTimeout(r, 1000));
    const batchPerSecond = mock.stats().calls - callsBefore;
    return {
      scenario: 'lane-isolation',
      samples,
      floodJobs: flood,
      enqueueSeconds,
      batchJobsPerSecondDuringFlood: batchPerSecond,
      idle,
      flood: busy,
      p99Ratio: Math.round((busy.p99 / idle.p99) * 100) / 100,
      p50Ratio: Math.round((busy.p50 / idle.p50) * 100) / 100,
    };
  } finally {
    for (const w of workers) w.terminate('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await agent.close();
    await t.close();
    await mock.close();
    await redis.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await laneIsolation({ quick: flag('quick') });
  const out = option('json');
  if (out) writeFileSync(out, JSON.stringify(r, null, 2));
  console.log(
    `lane isolation: ${r.samples} sequential interactive jobs, idle vs ${r.floodJobs} queued batch jobs (Node ${process.version})`,
  );
  console.log(`  idle   p50 ${r.idle.p50.toFixed(2)} ms  p99 ${r.idle.p99.toFixed(2)} ms`);
  console.log(
    `  flood  p50 ${r.flood.p50.toFixed(2)} ms  p99 ${r.flood.p99.toFixed(2)} ms   (batch lane running ${r.batchJobsPerSecondDuringFlood} jobs/s)`,
  );
  console.log(
    `  p99 ratio ${r.p99Ratio} (target <= 2: ${r.p99Ratio <= 2 ? 'met' : 'missed'}); flood enqueued in ${r.enqueueSeconds.toFixed(1)} s`,
  );
}
