import { afterEach, describe, expect, it } from 'vitest';
import type { PacingOptions } from './options.ts';
import { interactive, leaseOk, openTestPool, proxySpec, type TestPool } from './test-support.ts';
import type { Lease } from './types.ts';

const PACING: PacingOptions = {
  startRps: 10,
  decrease: 0.5,
  increaseRps: 5,
  minRps: 1,
  maxRps: 20,
  idleMs: 60_000,
};
const X = 'x.test';

describe('pacing per (proxy, host) pair (AIMD)', () => {
  let t: TestPool;
  afterEach(async () => t.close());

  async function open(pacing: Partial<PacingOptions> = {}, ids = ['a']): Promise<void> {
    t = await openTestPool({ pacing: { ...PACING, ...pacing } });
    for (const id of ids) await t.pool.upsert(proxySpec(id));
  }
  /** A 429 with a 1 ms Retry-After (the cooldown out of the way), then the clock past it. */
  async function limited(lease: Lease): Promise<void> {
    await t.pool.release(lease, { outcome: 'rate_limited', retryAfterMs: 1 });
    t.clock.advance(1);
  }
  /** How long the next lease for the host must wait (0: leased now, and released ok). */
  async function wait(host = X): Promise<number> {
    const r = await t.pool.lease(interactive(host));
    if (!r.exhausted) {
      await t.pool.release(r, { outcome: 'ok' });
      return 0;
    }
    expect(r.reason).toBe('cooling');
    return r.retryAfterMs;
  }
  /** The pair's spacing between starts: one lease now, then how long the next one waits. */
  async function spacing(): Promise<number> {
    const l = await leaseOk(t.pool, interactive(X));
    const next = await t.pool.lease(interactive(X));
    await t.pool.release(l, { outcome: 'canceled' });
    return next.exhausted ? next.retryAfterMs : 0;
  }

  it('an unpaced pair is leased without spacing; after a 429 it is leased at the start rate, the next lease told exactly when', async () => {
    await open();
    for (let i = 0; i < 5; i++) expect(await wait()).toBe(0);
    await limited(await leaseOk(t.pool, interactive(X)));
    const l = await leaseOk(t.pool, interactive(X));
    expect(await wait()).toBe(100); // 10 starts per second
    t.clock.advance(100);
    await t.pool.release(l, { outcome: 'ok' });
    expect(await wait()).toBe(0);
  });

  it('requests a paced host turns away are told successive starts of its pairs, not all the same one', async () => {
    await open({}, ['a', 'b']);
    await limited(await leaseOk(t.pool, interactive(X)));
    await leaseOk(t.pool, interactive(X));
    await leaseOk(t.pool, interactive(X)); // both pairs paced at 10/s: 20 starts per second together
    const waits = [];
    for (let i = 0; i < 4; i++) waits.push(await wait());
    expect(waits).toEqual([100, 150, 200, 250]);
    t.clock.advance(100);
    expect(await wait()).toBe(0); // the first in line: a start is free
  });

  it('each later 429 cuts the rate by the factor, once per episode: a 429 of a lease in flight at the cut cuts nothing', async () => {
    await open();
    await limited(await leaseOk(t.pool, interactive(X))); // 10/s
    const first = await leaseOk(t.pool, interactive(X));
    t.clock.advance(100);
    const inFlight = await leaseOk(t.pool, interactive(X));
    t.clock.advance(100);
    await limited(first); // 5/s
    await limited(inFlight); // granted before that cut: still 5/s
    expect(await spacing()).toBe(200);
    t.clock.advance(200);
    await limited(await leaseOk(t.pool, interactive(X))); // a new episode: 2.5/s
    t.clock.advance(400);
    expect(await spacing()).toBe(400);
  });

  it('the rate never falls below the floor', async () => {
    await open({ minRps: 4 });
    await limited(await leaseOk(t.pool, interactive(X))); // 10/s
    for (let i = 0; i < 4; i++) {
      t.clock.advance(1000);
      await limited(await leaseOk(t.pool, interactive(X)));
    }
    t.clock.advance(1000);
    expect(await spacing()).toBe(250);
  });

  it('each success raises the rate by the step; at the ceiling the pair is unpaced again', async () => {
    await open();
    await limited(await leaseOk(t.pool, interactive(X))); // 10/s
    await t.pool.release(await leaseOk(t.pool, interactive(X)), { outcome: 'ok' }); // 15/s
    t.clock.advance(100);
    expect(await spacing()).toBe(67);
    t.clock.advance(67);
    await t.pool.release(await leaseOk(t.pool, interactive(X)), { outcome: 'ok' }); // 20/s: unpaced
    t.clock.advance(67);
    for (let i = 0; i < 5; i++) expect(await wait()).toBe(0);
  });

  it('pacing holds one host only: the paced proxy serves other hosts at once', async () => {
    await open();
    await limited(await leaseOk(t.pool, interactive(X)));
    await leaseOk(t.pool, interactive(X));
    expect(await wait()).toBe(100);
    for (let i = 0; i < 10; i++) expect(await wait('y.test')).toBe(0);
  });

  it("after a 429 the host's other proxies start paced at the start rate, and a job waits for the soonest start", async () => {
    await open({}, ['a', 'b']);
    await limited(await leaseOk(t.pool, interactive(X)));
    const a = await leaseOk(t.pool, interactive(X));
    t.clock.advance(30);
    const b = await leaseOk(t.pool, interactive(X));
    expect(new Set([a.proxyId, b.proxyId])).toEqual(new Set(['a', 'b']));
    expect(await wait()).toBe(70); // a's next start, before b's
  });

  it('pacing lapses after idleMs without a release, and the host keys go with the last of its state', async () => {
    await open({ idleMs: 5000 });
    await limited(await leaseOk(t.pool, interactive(X)));
    await t.pool.release(await leaseOk(t.pool, interactive(X)), { outcome: 'ok' });
    expect(await wait()).toBe(100);
    t.clock.advance(5000);
    for (let i = 0; i < 5; i++) expect(await wait()).toBe(0);
    // the 429's cooldown streak is kept a minute (cooldown.resetAfterMs) past the cooldown
    t.clock.advance(55_000);
    await t.pool.reclaimExpired();
    expect(await t.redis.keys(`${t.pool.keys.base}*${X}`)).toEqual([]);
  });

  it('a 429 after successes at the pace is the pace probing: the cooldown (no Retry-After) starts over', async () => {
    await open();
    const cooldownAfter429 = async () => {
      await t.pool.release(await leaseOk(t.pool, interactive(X)), { outcome: 'rate_limited' });
      return wait();
    };
    expect(await cooldownAfter429()).toBe(1000);
    t.clock.advance(1000);
    expect(await cooldownAfter429()).toBe(2000); // refused again at once: the streak grows
    t.clock.advance(2000);
    await t.pool.release(await leaseOk(t.pool, interactive(X)), { outcome: 'ok' });
    t.clock.advance(1000);
    expect(await cooldownAfter429()).toBe(1000); // the base again, not 4000
  });

  it('a sticky session waits for its paced proxy instead of moving; a cooldown still moves it', async () => {
    await open({}, ['a', 'b']);
    const s1 = (extra = {}) => interactive(X, { session: 's1', ...extra });
    const first = await leaseOk(t.pool, s1());
    await limited(first);
    await t.pool.release(await leaseOk(t.pool, s1()), { outcome: 'ok' });
    const waiting = await t.pool.lease(s1());
    expect(waiting).toEqual({ exhausted: true, reason: 'cooling', retryAfterMs: 100 });
    t.clock.advance(100);
    const again = await leaseOk(t.pool, s1());
    expect(again.proxyId).toBe(first.proxyId);
    await t.pool.release(again, { outcome: 'rate_limited', retryAfterMs: 30_000 });
    expect((await leaseOk(t.pool, s1())).proxyId).not.toBe(first.proxyId);
  });

  it('with pacing off (start rate 0) a 429 only cools the pair', async () => {
    await open({ startRps: 0 });
    await limited(await leaseOk(t.pool, interactive(X)));
    for (let i = 0; i < 5; i++) expect(await wait()).toBe(0);
  });
});
