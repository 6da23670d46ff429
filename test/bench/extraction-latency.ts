/**
 * Extraction and interactive latency (issue #18): interactive completion round trips (POST
 * /v1/jobs + Prefer: wait) through ONE worker process, first alone, then while the same process
 * scrapes 5 MB HTML pages to markdown on its batch lane, in one run. Target: p99 with the scrapes
 * ≤ 2 × p99 without. The extraction runs in the worker's `ContentExtractor` threads, so its event
 * loop keeps serving the completions; what is left is the cores the threads take and the result
 * moving through Redis.
 *
 *   node test/bench/extraction-latency.ts [--quick] [--json FILE]
 *
 * The API, the mock upstream (5 ms latency) and a page server run in this process; the worker is
 * its own process serving both lanes (interactive concurrency 8, batch 2).
 */
import { longArticle, startMockLlm } from '@switchyard/mock-upstream';
import { freePort, startRedis } from '@switchyard/test-kit';
import { Redis } from 'ioredis';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { Api } from '../e2e/support/api.ts';
import {
  interactiveJob,
  redisVersion,
  startBenchStack,
  startBenchWorker,
  stopProcess,
  submitBatch,
  type BatchRecord,
} from './harness.ts';
import { bytes, emit, int, machine, ms, times, type ScenarioReport } from './report.ts';
import { flag, option, summarize, timeIt, type LatencySummary } from './stats.ts';

const PAGE_BYTES = 5_000_000;

/** A page server: one 5 MB boilerplate-heavy article at every path. */
async function startPageServer(page: Buffer) {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': page.length });
    res.end(page);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(r)) };
}

/**
 * The worker's event-loop delay since the last read, from its /metrics (prom-client resets the
 * histogram on every read): p99 and max, in ms.
 */
async function loopDelay(metricsUrl: string): Promise<{ p99: number; max: number }> {
  const text = await (await request(metricsUrl)).body.text();
  const read = (name: string) =>
    Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([\\d.e+-]+)`, 'm').exec(text)?.[1] ?? NaN) * 1000;
  return { p99: read('nodejs_eventloop_lag_p99_seconds'), max: read('nodejs_eventloop_lag_max_seconds') };
}

export async function extractionLatency(opts: { quick: boolean }): Promise<ScenarioReport> {
  const samples = opts.quick ? 20 : 500;
  const redis = await startRedis({ dedicated: true });
  const admin = new Redis(redis.url);
  const mock = await startMockLlm({ latencyMs: 5 });
  const page = Buffer.from(longArticle(PAGE_BYTES));
  const metricsPort = await freePort();
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  const pages = await startPageServer(page);
  const bench = await startBenchStack({
    redis,
    mock,
    config: {
      worker: { concurrency: { interactive: 8, batch: 2 }, metricsHost: '127.0.0.1', metricsPort },
      // A loaded 2-core machine takes seconds per 5 MB page: give the threads room, so every page counts.
      scrape: { extraction: { timeoutMs: 120_000 } },
    },
  });
  const worker = await startBenchWorker(bench.config);
  const agent = new Agent({ connections: 8 });
  const interactive = interactiveJob(bench, agent);
  const measure = async () => {
    const s: number[] = [];
    for (let i = 0; i < samples; i++) s.push(await timeIt(interactive));
    return summarize(s);
  };
  // Scrapes of the 5 MB page on the batch lane, two batches of two open at a time, so the
  // worker's two batch slots always hold a page; batch counts are polled, never the big results.
  const api = new Api(bench.url, bench.key);
  const scrapeLine = (i: number) => ({ type: 'scrape', request: { url: `${pages.url}/p/${i}` } });
  let feeding = true;
  let submitted = 0;
  const finished: BatchRecord[] = [];
  const feeder = async (lane: number) => {
    while (feeding) {
      const batch = await submitBatch(bench, 2, (i) => scrapeLine(lane * 1_000_000 + submitted + i));
      submitted += 2;
      for (;;) {
        const b = (await api.get<BatchRecord>(`/v1/batches/${batch.id}`)).body;
        if (b.status === 'completed') {
          finished.push(b);
          break;
        }
        await sleep(200);
      }
    }
  };
  try {
    for (let i = 0; i < 20; i++) await interactive();
    await loopDelay(metricsUrl);
    const idle = await measure();
    const idleLoop = await loopDelay(metricsUrl);
    // The control: one core kept busy by another process, nothing else changed. What the scrapes
    // add beyond it is what extraction costs the worker's event loop rather than the machine's cores.
    const burner = spawn(process.execPath, ['-e', 'for (;;);'], { stdio: 'ignore' });
    await sleep(200);
    await loopDelay(metricsUrl);
    const burn = await measure();
    const burnLoop = await loopDelay(metricsUrl);
    burner.kill('SIGKILL');
    const scrapingFrom = performance.now();
    const feeders = [feeder(0), feeder(1)];
    // Let the first pages reach the threads before measuring.
    await sleep(opts.quick ? 500 : 2_000);
    const doneBefore = finished.length;
    const started = performance.now();
    await loopDelay(metricsUrl);
    const busy = await measure();
    const busyLoop = await loopDelay(metricsUrl);
    const seconds = (performance.now() - started) / 1000;
    const batchesDuring = finished.length - doneBefore;
    feeding = false;
    await Promise.all(feeders);
    const scrapingSeconds = (performance.now() - scrapingFrom) / 1000;
    const counts = finished.reduce(
      (sum, b) => ({ ok: sum.ok + (b.counts.succeeded ?? 0), failed: sum.failed + (b.counts.failed ?? 0) }),
      { ok: 0, failed: 0 },
    );
    return report({
      quick: opts.quick,
      samples,
      pageBytes: page.length,
      threads: Math.max(1, availableParallelism() - 1),
      idle,
      busy,
      burn,
      burnLoop,
      idleLoop,
      busyLoop,
      seconds,
      pagesDuring: batchesDuring * 2,
      scrapingSeconds,
      counts,
      redis: await redisVersion(admin),
    });
  } finally {
    feeding = false;
    await stopProcess(worker);
    admin.disconnect();
    await agent.close();
    await bench.close();
    await pages.close();
    await mock.close();
    await redis.stop();
  }
}

function report(r: {
  quick: boolean;
  samples: number;
  pageBytes: number;
  threads: number;
  idle: LatencySummary;
  busy: LatencySummary;
  burn: LatencySummary;
  burnLoop: { p99: number; max: number };
  idleLoop: { p99: number; max: number };
  busyLoop: { p99: number; max: number };
  seconds: number;
  pagesDuring: number;
  scrapingSeconds: number;
  counts: { ok: number; failed: number };
  redis: string;
}): ScenarioReport {
  const p99Ratio = r.busy.p99 / r.idle.p99;
  return {
    id: 'extraction-latency',
    title: 'Extraction and interactive latency: one worker process, with and without 5 MB page scrapes',
    command: 'node test/bench/extraction-latency.ts',
    setup:
      `${r.samples} sequential interactive completions (POST /v1/jobs + Prefer: wait; mock upstream with 5 ms ` +
      `latency) through one worker process, alone, then while the same process scrapes ${bytes(r.pageBytes)} ` +
      `HTML pages to markdown on its batch lane (2 batch slots, always full; ${r.threads} extraction ` +
      `thread${r.threads === 1 ? '' : 's'}). Baseline: the measurement without scrapes; control: the same ` +
      'with one core kept busy by another process (what any CPU-bound neighbour costs). Event-loop delay is ' +
      "the worker's own (prom-client, 10 ms resolution).",
    columns: ['', 'p50', 'p99', 'worker event-loop delay p99', 'worker event-loop delay max'],
    rows: [
      ['without scrapes', ms(r.idle.p50), ms(r.idle.p99), ms(r.idleLoop.p99), ms(r.idleLoop.max)],
      [
        'without scrapes, one core busy in another process',
        ms(r.burn.p50),
        ms(r.burn.p99),
        ms(r.burnLoop.p99),
        ms(r.burnLoop.max),
      ],
      [
        `while scraping ${bytes(r.pageBytes)} pages`,
        ms(r.busy.p50),
        ms(r.busy.p99),
        ms(r.busyLoop.p99),
        ms(r.busyLoop.max),
      ],
      ['ratio, scraping vs without', times(r.busy.p50 / r.idle.p50), times(p99Ratio), '', ''],
    ],
    targets: [
      { what: 'p99 while scraping vs without', target: '≤ 2×', actual: times(p99Ratio), met: p99Ratio <= 2 },
    ],
    notes: [
      `${r.counts.ok} scrapes of the page succeeded and ${r.counts.failed} failed in ` +
        `${r.scrapingSeconds.toFixed(1)} s of scraping (${int(r.pagesDuring)} finished inside the ` +
        `${r.seconds.toFixed(1)} s measurement): a ${bytes(r.pageBytes)} page takes seconds of extraction, so the ` +
        'thread was busy throughout',
    ],
    quick: r.quick,
    machine: machine(r.redis),
    raw: r,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  emit(await extractionLatency({ quick: flag('quick') }), option('json'));
}
