/**
 * robots.txt and per-host politeness (issue #18): what the checks cost a scrape, against a plain
 * scrape (both off) in the same run. Two stacks (API + worker in this process, direct egress) on
 * one Redis: `plain` with robots.txt and per-host politeness off, `polite` with both on and the
 * interval 0, so no scrape waits for its host and what is left is the checks themselves (robots.txt
 * verdict from the cache, the tenant's exemption, the host-claim, host-start and host-release
 * scripts).
 * Sequential `POST /v1/jobs` with `Prefer: wait`, the two stacks interleaved so drift hits both;
 * then the first scrape of new origins, where the polite stack also fetches robots.txt.
 *
 *   node test/bench/politeness.ts [--quick] [--json FILE]
 */
import { startMockLlm, startMockSite } from '@switchyard/mock-upstream';
import { startRedis } from '@switchyard/test-kit';
import { Redis } from 'ioredis';
import { Agent, request } from 'undici';
import { redisVersion, startBenchStack, type BenchStack } from './harness.ts';
import { emit, machine, ms, type ScenarioReport } from './report.ts';
import { flag, option, summarize, timeIt, type LatencySummary } from './stats.ts';

const TARGET_P50_MS = 5;

async function scrapeVia(agent: Agent, bench: BenchStack, url: string): Promise<void> {
  const res = await request(`${bench.url}/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bench.key}`, prefer: 'wait=30' },
    body: JSON.stringify({ type: 'scrape', lane: 'interactive', request: { url } }),
    dispatcher: agent,
  });
  const job = (await res.body.json()) as { status?: string };
  if (job.status !== 'succeeded') throw new Error(`scrape ${url}: ${job.status ?? res.statusCode}`);
}

export async function politeness(opts: { quick: boolean }): Promise<ScenarioReport> {
  const n = opts.quick ? 20 : 1_000;
  const origins = opts.quick ? 5 : 50;
  const redis = await startRedis({ dedicated: true });
  const mock = await startMockLlm();
  // Listens on every loopback address: 127.0.0.N:port is a new origin for each N.
  const site = await startMockSite({ host: '0.0.0.0' });
  const scrape = { egress: 'direct' as const };
  const plain = await startBenchStack({
    redis: { ...redis, prefix: `${redis.prefix}-plain` },
    mock,
    worker: true,
    config: { scrape: { ...scrape, robots: { enabled: false }, perHost: { enabled: false } } },
  });
  const polite = await startBenchStack({
    redis: { ...redis, prefix: `${redis.prefix}-polite` },
    mock,
    worker: true,
    config: { scrape: { ...scrape, perHost: { minIntervalMs: 0, maxConcurrency: 64 } } },
  });
  const agent = new Agent({ connections: 8 });
  const admin = new Redis(redis.url);
  try {
    const warm = `http://127.0.0.1:${site.port}`;
    for (let i = 0; i < Math.min(50, n); i++) {
      await scrapeVia(agent, plain, `${warm}/page/${i}`);
      await scrapeVia(agent, polite, `${warm}/page/${i}`);
    }
    const seq = { plain: [] as number[], polite: [] as number[] };
    for (let i = 0; i < n; i++) {
      seq.plain.push(await timeIt(() => scrapeVia(agent, plain, `${warm}/page/${i}`)));
      seq.polite.push(await timeIt(() => scrapeVia(agent, polite, `${warm}/page/${i}`)));
    }
    // First scrape of an origin: the polite stack fetches robots.txt first (a request of its own).
    const cold = { plain: [] as number[], polite: [] as number[] };
    for (let i = 0; i < origins; i++) {
      cold.plain.push(
        await timeIt(() => scrapeVia(agent, plain, `http://127.0.0.${100 + i}:${site.port}/page/1`)),
      );
      cold.polite.push(
        await timeIt(() => scrapeVia(agent, polite, `http://127.0.0.${160 + i}:${site.port}/page/1`)),
      );
    }
    return report({
      quick: opts.quick,
      n,
      origins,
      plain: summarize(seq.plain),
      polite: summarize(seq.polite),
      coldPlain: summarize(cold.plain),
      coldPolite: summarize(cold.polite),
      redis: await redisVersion(admin),
    });
  } finally {
    admin.disconnect();
    await agent.close();
    await polite.close();
    await plain.close();
    await site.close();
    await mock.close();
    await redis.stop();
  }
}

interface Measured {
  quick: boolean;
  n: number;
  origins: number;
  plain: LatencySummary;
  polite: LatencySummary;
  coldPlain: LatencySummary;
  coldPolite: LatencySummary;
  redis: string;
}

function report(m: Measured): ScenarioReport {
  const row = (what: string, s: LatencySummary, base: LatencySummary) => [
    what,
    String(s.n),
    ms(s.p50),
    ms(s.p90),
    ms(s.p99),
    s === base ? '—' : `+${ms(s.p50 - base.p50)}`,
  ];
  const added = m.polite.p50 - m.plain.p50;
  return {
    id: 'politeness',
    title: 'Politeness: what robots.txt and per-host checks cost a scrape',
    command: 'node test/bench/politeness.ts',
    setup:
      'Two stacks (API + worker in one process, direct egress) on one Redis: plain (scrape.robots and ' +
      'scrape.perHost off) and polite (both on, interval 0 so no scrape waits for its host). Sequential ' +
      'POST /v1/jobs scrapes of a mock site page with Prefer: wait, the stacks interleaved; then the first ' +
      `scrape of ${m.origins} new origins each (the polite stack fetches robots.txt first).`,
    columns: ['scrape', 'n', 'p50', 'p90', 'p99', 'p50 added'],
    rows: [
      row('plain, known origin', m.plain, m.plain),
      row('polite, robots.txt cached', m.polite, m.plain),
      row('plain, new origin', m.coldPlain, m.coldPlain),
      row('polite, new origin (robots.txt fetched)', m.coldPolite, m.coldPlain),
    ],
    targets: [
      {
        what: 'checks added per scrape, p50',
        target: `≤ ${TARGET_P50_MS} ms`,
        actual: ms(added),
        met: added <= TARGET_P50_MS,
      },
    ],
    notes: [
      'Waiting for a host (the interval, a Crawl-delay, a Retry-After pause) is politeness itself, not its ' +
        'cost: such a scrape is delayed in the queue, holding no worker slot; the e2e suites measure it.',
    ],
    quick: m.quick,
    machine: machine(m.redis),
    raw: m,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  emit(await politeness({ quick: flag('quick') }), option('json'));
}
