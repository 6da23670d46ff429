import { afterEach, describe, expect, it } from 'vitest';
import { interactive, leaseOk, openTestPool, proxySpec, type TestPool } from './test-support.ts';

describe('drain-3.lua', () => {
  let t: TestPool;
  afterEach(async () => t.close());

  it('a drained proxy gets no new leases while in-flight ones finish; undrain puts it back', async () => {
    t = await openTestPool();
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 4 }));
    await t.pool.upsert(proxySpec('b', { maxConcurrency: 4 }));
    const onA = await leaseOk(t.pool, interactive('x.test'));
    expect(onA.proxyId).toBe('a');
    expect(await t.pool.drain('a')).toBe(1);
    expect(await t.pool.drain('missing')).toBeNull();
    expect(await t.pool.counts()).toMatchObject({ capacity: 4, proxies: { draining: 1, available: 1 } });
    for (let i = 0; i < 4; i++) expect((await leaseOk(t.pool, interactive('x.test'))).proxyId).toBe('b');
    expect(await t.pool.lease(interactive('x.test'))).toMatchObject({ exhausted: true });

    expect(await t.pool.release(onA, { outcome: 'ok' })).toBe('released');
    expect((await t.pool.list())[0]).toMatchObject({ state: 'draining', inFlight: 0 });
    expect(await t.pool.undrain('a')).toBe(0);
    expect((await leaseOk(t.pool, interactive('x.test'))).proxyId).toBe('a');
    expect((await t.pool.counts()).capacity).toBe(8);
  });

  it('draining a quarantined proxy ends the quarantine; undraining it with faults on record waits for a probe', async () => {
    t = await openTestPool({ quarantine: { baseMs: 60_000 } });
    await t.pool.upsert(proxySpec('a'));
    await t.pool.release(await leaseOk(t.pool, interactive('x.test')), { outcome: 'proxy_fault' });
    await t.pool.drain('a');
    expect((await t.pool.list())[0]).toMatchObject({ state: 'draining', consecutiveFaults: 1 });
    expect(await t.pool.counts()).toMatchObject({ proxies: { draining: 1, quarantined: 0 } });
    expect(await t.pool.probeDue()).toEqual([]);

    await t.pool.undrain('a');
    expect((await t.pool.list())[0]?.state).toBe('quarantined');
    expect(await t.pool.lease(interactive('x.test'))).toMatchObject({ exhausted: true });
    expect((await t.pool.probeDue()).map((d) => d.id)).toEqual(['a']);
    await t.pool.reportProbe('a', true);
    expect((await leaseOk(t.pool, interactive('x.test'))).proxyId).toBe('a');
  });

  it('a proxy fault on a draining proxy is counted but does not quarantine it', async () => {
    t = await openTestPool();
    await t.pool.upsert(proxySpec('a'));
    const l = await leaseOk(t.pool, interactive('x.test'));
    await t.pool.drain('a');
    await t.pool.release(l, { outcome: 'proxy_fault' });
    expect((await t.pool.list())[0]).toMatchObject({ state: 'draining', consecutiveFaults: 1, inFlight: 0 });
    expect((await t.pool.counts()).capacity).toBe(0);
  });
});
