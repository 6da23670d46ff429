import { startRedis, type RedisHandle } from '@switchyard/test-kit';
import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostGate, type HostLease } from './host-gate.ts';

let handle: RedisHandle;
let redis: Redis;

beforeAll(async () => {
  handle = await startRedis();
  redis = new Redis(handle.url);
});
afterAll(async () => {
  redis?.disconnect();
  await handle?.stop();
});

// Each test has hosts of its own: one prefix per test.
const gate = (name: string, maxConcurrency = 2, leaseTtlMs = 10_000) =>
  new HostGate({ redis, prefix: `${handle.prefix}-${name}`, maxConcurrency, leaseTtlMs });

async function reserveOrThrow(
  g: HostGate,
  host: string,
  job: string,
  intervalMs: number,
): Promise<HostLease> {
  const c = await g.claim(host, job, { intervalMs });
  if (!c.granted) throw new Error(`${job} was not granted: ${JSON.stringify(c)}`);
  return c.lease;
}

/** A grant whose request is sent at once (its start reported). */
async function grantOrThrow(g: HostGate, host: string, job: string, intervalMs: number): Promise<HostLease> {
  const lease = await reserveOrThrow(g, host, job, intervalMs);
  await g.started(lease);
  return lease;
}

describe('HostGate (host-claim-3.lua, host-start-1.lua, host-release-2.lua)', () => {
  it('the first request starts at once; later jobs get tickets one interval apart, in the order they asked', async () => {
    const g = gate('tickets');
    await grantOrThrow(g, 'a.example', 'j0', 1_000);
    const waits = [];
    for (let i = 1; i <= 4; i++) waits.push(await g.claim('a.example', `j${i}`, { intervalMs: 1_000 }));
    expect(waits.every((w) => !w.granted && w.reason === 'interval' && w.beforeDeadline)).toBe(true);
    const ms = waits.map((w) => (w.granted ? 0 : w.waitMs));
    // About 1 s, 2 s, 3 s, 4 s from now (1,050 ms apart: the interval and its 5% slack).
    for (let i = 0; i < ms.length; i++) expect(Math.abs(ms[i]! - 1_050 * (i + 1))).toBeLessThan(100);
    // Asking again before its ticket does not move it.
    const again = await g.claim('a.example', 'j2', { intervalMs: 1_000 });
    expect(again.granted ? 0 : again.waitMs).toBeGreaterThan(ms[1]! - 100);
    // Another host is not held back.
    expect((await g.claim('b.example', 'k0', { intervalMs: 1_000 })).granted).toBe(true);
  });

  it('a job whose ticket is due starts then, and the interval holds between starts', async () => {
    const g = gate('due');
    const first = await grantOrThrow(g, 'a.example', 'j0', 150);
    const w = await g.claim('a.example', 'j1', { intervalMs: 150 });
    expect(w.granted).toBe(false);
    await sleep(w.granted ? 0 : w.waitMs);
    const second = await grantOrThrow(g, 'a.example', 'j1', 150);
    expect(second.startedAt - first.startedAt).toBeGreaterThanOrEqual(150);
  });

  it('never more than maxConcurrency in flight; a released slot serves the next due ticket', async () => {
    const g = gate('concurrency', 2);
    await grantOrThrow(g, 'a.example', 'j0', 0);
    const b = await grantOrThrow(g, 'a.example', 'j1', 0);
    const third = await g.claim('a.example', 'j2', { intervalMs: 0 });
    expect(third).toMatchObject({ granted: false, reason: 'concurrency' });
    await g.release(b);
    await sleep(third.granted ? 0 : third.waitMs);
    expect((await g.claim('a.example', 'j2', { intervalMs: 0 })).granted).toBe(true);
  });

  it('a grant that has not sent yet holds the next start back; the interval runs from the send', async () => {
    const g = gate('two-phase');
    const first = await reserveOrThrow(g, 'a.example', 'j0', 100);
    const grantedAt = first.startedAt;
    await sleep(150); // the worker is slow between its grant and its send
    const held = await g.claim('a.example', 'j1', { intervalMs: 100 });
    expect(held).toMatchObject({ granted: false, reason: 'interval' });
    await g.started(first);
    expect(first.startedAt - grantedAt).toBeGreaterThanOrEqual(150);
    const early = await g.claim('a.example', 'j2', { intervalMs: 100 });
    expect(early.granted).toBe(false);
    await sleep(held.granted ? 0 : held.waitMs);
    for (;;) {
      const c = await g.claim('a.example', 'j1', { intervalMs: 100 });
      if (c.granted) {
        await g.started(c.lease);
        expect(c.lease.startedAt - first.startedAt).toBeGreaterThanOrEqual(100);
        break;
      }
      await sleep(c.waitMs);
    }
  });

  it('a grant given back unsent does not hold the host: a due job starts at once', async () => {
    const g = gate('unsent');
    const lease = await reserveOrThrow(g, 'a.example', 'j0', 1_000);
    expect((await g.claim('a.example', 'j1', { intervalMs: 1_000, resume: true })).granted).toBe(false);
    await g.release(lease);
    expect((await g.claim('a.example', 'j2', { intervalMs: 1_000, resume: true })).granted).toBe(true);
  });

  it('a crashed worker that never sent frees the host when its lease expires', async () => {
    const g = gate('unsent-crash', 2, 300);
    await reserveOrThrow(g, 'a.example', 'crashed', 100); // never started, never released
    expect((await g.claim('a.example', 'j1', { intervalMs: 100 })).granted).toBe(false);
    await sleep(350);
    expect((await g.claim('a.example', 'j1', { intervalMs: 100 })).granted).toBe(true);
  });

  it('a lease of a crashed worker expires: its slot is not leaked', async () => {
    const g = gate('expiry', 1, 300);
    await grantOrThrow(g, 'a.example', 'crashed', 0); // never released
    expect((await g.claim('a.example', 'j1', { intervalMs: 0 })).granted).toBe(false);
    await sleep(350);
    expect((await g.claim('a.example', 'j1', { intervalMs: 0 })).granted).toBe(true);
  });

  it('a Retry-After pauses the host for everyone, tickets already handed out included', async () => {
    const g = gate('pause');
    const lease = await grantOrThrow(g, 'a.example', 'j0', 50);
    const ticketed = await g.claim('a.example', 'j1', { intervalMs: 50 });
    await g.release(lease, { pauseMs: 800 });
    const fresh = await g.claim('a.example', 'j2', { intervalMs: 50 });
    expect(fresh).toMatchObject({ granted: false, reason: 'paused' });
    expect(fresh.granted ? 0 : fresh.waitMs).toBeGreaterThan(700);
    await sleep(ticketed.granted ? 0 : ticketed.waitMs);
    const due = await g.claim('a.example', 'j1', { intervalMs: 50 });
    expect(due).toMatchObject({ granted: false, reason: 'paused' });
    expect(due.granted ? 0 : due.waitMs).toBeGreaterThan(600);
  });

  it('no ticket at or past the deadline: the job is told, and holds nothing', async () => {
    const g = gate('deadline');
    await grantOrThrow(g, 'a.example', 'j0', 5_000);
    const late = await g.claim('a.example', 'j1', { intervalMs: 5_000, deadline: Date.now() + 1_000 });
    expect(late).toMatchObject({ granted: false, beforeDeadline: false });
    // It took no place in line: the next job gets the first ticket.
    const next = await g.claim('a.example', 'j2', { intervalMs: 5_000 });
    expect(next.granted ? 0 : next.waitMs).toBeLessThan(5_400);
  });

  it('many workers at once: starts stay an interval apart and concurrency within the limit', async () => {
    const g = gate('fleet', 2);
    const clients = Array.from({ length: 4 }, () => new Redis(handle.url));
    const gates = clients.map(
      (r) =>
        new HostGate({ redis: r, prefix: `${handle.prefix}-fleet`, maxConcurrency: 2, leaseTtlMs: 10_000 }),
    );
    const spans: { start: number; end: number }[] = [];
    const runJob = async (i: number) => {
      const gi = gates[i % gates.length] ?? g;
      for (;;) {
        const c = await gi.claim('a.example', `j${i}`, { intervalMs: 40 });
        if (!c.granted) {
          await sleep(c.waitMs);
          continue;
        }
        await sleep(i % 4); // grant to send: the gap counts from the send
        await gi.started(c.lease);
        const start = c.lease.startedAt;
        await sleep(60 + (i % 3) * 20);
        const [s, us] = await redis.time();
        spans.push({ start, end: Number(s) * 1000 + Math.floor(Number(us) / 1000) });
        await gi.release(c.lease);
        return;
      }
    };
    await Promise.all(Array.from({ length: 30 }, (_, i) => runJob(i)));
    for (const c of clients) c.disconnect();
    const starts = spans.map((s) => s.start).sort((a, b) => a - b);
    const gaps = starts.slice(1).map((s, i) => s - starts[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(40);
    const maxInFlight = Math.max(...starts.map((t) => spans.filter((s) => s.start <= t && s.end > t).length));
    expect(maxInFlight).toBeLessThanOrEqual(2);
    expect(spans).toHaveLength(30);
  });
});

describe('HostGate resume', () => {
  it('a job just served (its robots.txt) goes at the next free slot, ahead of tickets queued meanwhile', async () => {
    const g = gate('resume');
    const robots = await grantOrThrow(g, 'a.example', 'first', 1_000);
    for (let i = 0; i < 5; i++) await g.claim('a.example', `q${i}`, { intervalMs: 1_000 });
    await g.release(robots);
    const back = await g.claim('a.example', 'first', { intervalMs: 1_000, resume: true });
    expect(back.granted ? 0 : back.waitMs).toBeLessThan(1_100);
  });
});

describe('HostGate release fromEnd', () => {
  it('counts the interval from the end of a request its own job follows (robots.txt, then the page)', async () => {
    const g = gate('from-end');
    const robots = await grantOrThrow(g, 'a.example', 'j0', 200);
    await sleep(150);
    await g.release(robots, { fromEnd: true });
    const page = await g.claim('a.example', 'j0', { intervalMs: 200, resume: true });
    expect(page.granted ? 0 : page.waitMs).toBeGreaterThan(150);
  });
});
