/**
 * Single-job round trip: `POST /v1/jobs` with `Prefer: wait` (API → Redis → worker → mock
 * upstream → Redis → API) against a direct undici call to the same mock upstream, measured
 * sequentially in the same run. Prints p50/p99 and the latency Switchyard adds.
 *
 *   node test/bench/round-trip.ts [--quick] [--json out.json]
 */
import { writeFileSync } from 'node:fs';
import { startMockLlm } from '@switchyard/mock-upstream';
import { startRedis } from '@switchyard/test-kit';
import { Agent, request } from 'undici';
import { startTestStack } from '../e2e/support/stack.ts';
import { flag, option, summarize, timeIt } from './stats.ts';

export async function roundTrip(opts: { quick: boolean }) {
  const n = opts.quick ? 30 : 1_000;
  const warmup = opts.quick ? 5 : 100;
  const redis = await startRedis({ dedicated: true });
  const mock = await startMockLlm();
  const t = await startTestStack({ redis, mock, config: { log: { level: 'warn' } } });
  const { key } = await t.tenant();
  const agent = new Agent({ connections: 4 });
  const chat = JSON.stringify({ model: 'mock-small', messages: [{ role: 'user', content: 'benchmark me' }] });
  const job = JSON.stringify({
    type: 'completion',
    lane: 'interactive',
    request: { model: 'mock', messages: [{ role: 'user', content: 'benchmark me' }] },
  });
  const direct = async () => {
    const res = await request(`${mock.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chat,
      dispatcher: agent,
    });
    await res.body.json();
  };
  const viaSwitchyard = async () => {
    const res = await request(`${t.url}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, prefer: 'wait=30' },
      body: job,
      dispatcher: agent,
    });
    const body = (await res.body.json()) as { status: string };
    if (res.statusCode !== 200 || body.status !== 'succeeded')
      throw new Error(`job did not succeed: ${res.statusCode}`);
  };
  try {
    for (let i = 0; i < warmup; i++) {
      await direct();
      await viaSwitchyard();
    }
    const d: number[] = [];
    const s: number[] = [];
    // Interleaved so drift (GC, CPU frequency, neighbours) hits both series alike.
    for (let i = 0; i < n; i++) {
      d.push(await timeIt(direct));
      s.push(await timeIt(viaSwitchyard));
    }
    const directSummary = summarize(d);
    const switchyard = summarize(s);
    return {
      scenario: 'round-trip',
      n,
      direct: directSummary,
      switchyard,
      addedMs: {
        p50: Math.round((switchyard.p50 - directSummary.p50) * 1000) / 1000,
        p99: Math.round((switchyard.p99 - directSummary.p99) * 1000) / 1000,
      },
    };
  } finally {
    await agent.close();
    await t.close();
    await mock.close();
    await redis.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await roundTrip({ quick: flag('quick') });
  const out = option('json');
  if (out) writeFileSync(out, JSON.stringify(result, null, 2));
  const row = (name: string, x: { p50: number; p99: number }) =>
    `${name.padEnd(28)} p50 ${x.p50.toFixed(2).padStart(7)} ms   p99 ${x.p99.toFixed(2).padStart(7)} ms`;
  console.log(`single-job round trip, n=${result.n} sequential (Node ${process.version})`);
  console.log(row('direct call to mock', result.direct));
  console.log(row('Switchyard (Prefer: wait)', result.switchyard));
  console.log(row('added by Switchyard', result.addedMs));
}
