import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startProxyFleet, type ProxyFleet } from '@switchyard/test-kit';
import { createHttpProbe, ProxyProber } from './prober.ts';
import { interactive, leaseOk, openTestPool, proxySpec, type TestPool } from './test-support.ts';

describe('quarantine: release-many-5.lua, probe-due-1.lua and report-probe-2.lua', () => {
  let t: TestPool;
  afterEach(async () => t.close());

  it('proxy faults quarantine with growing backoff and a successful probe re-admits', async () => {
    t = await openTestPool({ quarantine: { baseMs: 1000, maxMs: 10_000 } });
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 2 }));
    await t.pool.upsert(proxySpec('b', { maxConcurrency: 2 }));
    const fault = async () => {
      const l = await leaseOk(t.pool, interactive('x.test'));
      expect(l.proxyId).toBe('a');
      await t.pool.release(l, { outcome: 'proxy_fault' });
    };
    await fault();
    let [a] = await t.pool.list();
    expect(a).toMatchObject({
      state: 'quarantined',
      consecutiveFaults: 1,
      quarantinedUntil: t.clock.now() + 1000,
    });
    expect(await t.pool.counts()).toMatchObject({ capacity: 2, proxies: { quarantined: 1, available: 1 } });
    // quarantined everywhere, for every host
    for (const host of ['x.test', 'y.test'])
      expect((await leaseOk(t.pool, interactive(host))).proxyId).toBe('b');
    expect(await t.pool.lease(interactive('z.test'))).toMatchObject({ exhausted: true });

    expect(await t.pool.probeDue()).toEqual([]);
    t.clock.advance(1000);
    const due = await t.pool.probeDue();
    expect(due.map((d) => d.id)).toEqual(['a']);
    expect(due[0]?.proxyUrl).toBe('http://user:secret-a@127.0.0.1:3128');
    expect(JSON.stringify(due)).not.toContain('secret');
    // expired backoff alone does not re-admit: only a probe does
    expect((await t.pool.list())[0]?.state).toBe('quarantined');

    expect(await t.pool.reportProbe('a', false)).toEqual({ status: 'extended', until: t.clock.now() + 2000 });
    t.clock.advance(2000);
    expect((await t.pool.probeDue()).map((d) => d.id)).toEqual(['a']);
    expect(await t.pool.reportProbe('a', true)).toEqual({ status: 'readmitted' });
    [a] = await t.pool.list();
    expect(a).toMatchObject({ state: 'available', consecutiveFaults: 2 });
    expect((await t.pool.counts()).capacity).toBe(4);

    // the fault count survives re-admission, so a relapse quarantines for longer
    await t.pool.upsert(proxySpec('b', { maxConcurrency: 2 }));
    await t.pool.drain('b');
    await fault();
    expect((await t.pool.list())[0]?.quarantinedUntil).toBe(t.clock.now() + 4000);
    await t.pool.reportProbe('a', true);
    // a request that gets through resets it
    await t.pool.release(await leaseOk(t.pool, interactive('x.test')), { outcome: 'ok' });
    await fault();
    expect((await t.pool.list())[0]).toMatchObject({
      consecutiveFaults: 1,
      quarantinedUntil: t.clock.now() + 1000,
    });
  });

  it('faults from leases in flight during a quarantine do not grow it', async () => {
    t = await openTestPool({ quarantine: { baseMs: 1000 } });
    await t.pool.upsert(proxySpec('a'));
    const leases = await Promise.all([1, 2, 3].map(() => leaseOk(t.pool, interactive('x.test'))));
    for (const l of leases) await t.pool.release(l, { outcome: 'proxy_fault' });
    expect((await t.pool.list())[0]).toMatchObject({
      consecutiveFaults: 1,
      quarantinedUntil: t.clock.now() + 1000,
      inFlight: 0,
    });
  });

  it('a claimed proxy goes to one prober only, until the claim runs out', async () => {
    t = await openTestPool({ quarantine: { baseMs: 1000, probeClaimMs: 5000 } });
    await t.pool.upsert(proxySpec('a'));
    await t.pool.release(await leaseOk(t.pool, interactive('x.test')), { outcome: 'proxy_fault' });
    t.clock.advance(1000);
    expect(await t.pool.probeDue()).toHaveLength(1);
    expect(await t.pool.probeDue()).toHaveLength(0);
    t.clock.advance(5000);
    expect(await t.pool.probeDue()).toHaveLength(1);
    expect(await t.pool.reportProbe('nope', true)).toEqual({ status: 'unknown' });
    expect(await t.pool.reportProbe('a', true)).toEqual({ status: 'readmitted' });
    expect(await t.pool.reportProbe('a', true)).toEqual({ status: 'noop' });
  });
});

describe('ProxyProber with createHttpProbe, through real local proxies', () => {
  let fleet: ProxyFleet;
  let target: Server;
  let probeUrl: string;
  let t: TestPool;

  beforeAll(async () => {
    fleet = await startProxyFleet({ count: 2, firstHostOctet: 41, credentials: true });
    target = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    probeUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}/health`;
  });
  afterAll(async () => {
    await fleet.stop();
    await new Promise((resolve) => target.close(resolve));
  });
  afterEach(async () => t.close());

  it('keeps a dead proxy quarantined and re-admits it once it answers again', async () => {
    t = await openTestPool({ quarantine: { baseMs: 1000 } });
    for (const p of fleet.proxies) await t.pool.upsert(proxySpec(p.id, { url: p.url }));
    const prober = new ProxyProber({
      pool: t.pool,
      probe: createHttpProbe({ url: probeUrl }),
      timeoutMs: 2000,
    });
    const dead = fleet.get('p41');
    await dead.setFault('dead');
    await t.pool.release(await leaseOk(t.pool, interactive('x.test')), { outcome: 'proxy_fault' });
    t.clock.advance(1000);

    expect(await prober.runOnce()).toEqual([
      { id: 'p41', ok: false, report: { status: 'extended', until: t.clock.now() + 2000 } },
    ]);
    await dead.revive();
    t.clock.advance(2000);
    expect(await prober.runOnce()).toEqual([{ id: 'p41', ok: true, report: { status: 'readmitted' } }]);
    expect((await t.pool.list()).map((p) => p.state)).toEqual(['available', 'available']);
  });

  it('a proxy answering 407 fails its probe', async () => {
    t = await openTestPool({ quarantine: { baseMs: 1000 } });
    const p = fleet.get('p42');
    await t.pool.upsert(proxySpec(p.id, { url: p.url }));
    await p.setFault('auth');
    try {
      await t.pool.release(await leaseOk(t.pool, interactive('x.test')), { outcome: 'proxy_fault' });
      t.clock.advance(1000);
      const [outcome] = await new ProxyProber({
        pool: t.pool,
        probe: createHttpProbe({ url: probeUrl }),
      }).runOnce();
      expect(outcome).toMatchObject({ id: 'p42', ok: false, report: { status: 'extended' } });
    } finally {
      await p.setFault('none');
    }
  });

  it('runs rounds on its interval until stopped', async () => {
    t = await openTestPool();
    let calls = 0;
    const prober = new ProxyProber({
      pool: {
        probeDue: async () => {
          calls++;
          return [];
        },
        reportProbe: async () => ({ status: 'noop' }),
      },
      probe: async () => true,
      intervalMs: 20,
    });
    prober.start();
    await sleep(110);
    await prober.stop();
    const seen = calls;
    expect(seen).toBeGreaterThanOrEqual(3);
    await sleep(60);
    expect(calls).toBe(seen);
  });
});
