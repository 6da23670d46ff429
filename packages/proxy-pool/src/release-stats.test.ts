import { afterEach, describe, expect, it, vi } from 'vitest';
import { ProxyPool } from './proxy-pool.ts';
import { ReleaseStats, STATS_FLUSH_MS } from './release-stats.ts';
import type { ScriptArg } from './scripts.ts';
import { interactive, leaseOk, openTestPool, proxySpec, type TestPool } from './test-support.ts';

describe('release counts (ReleaseStats, count-1.lua)', () => {
  let t: TestPool;
  afterEach(async () => {
    vi.useRealTimers();
    await t?.close();
  });

  it("each process sends its own counts: list() includes this process's at once, another's after its flush", async () => {
    t = await openTestPool();
    const other = new ProxyPool({ redis: t.redis, prefix: t.prefix, now: t.clock.now });
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 10 }));
    const mine = await leaseOk(t.pool, interactive('x.test'));
    const theirs = await leaseOk(other, interactive('x.test'));
    await t.pool.release(mine, { outcome: 'ok', bytes: 100 });
    await other.release(theirs, { outcome: 'upstream_fault', bytes: 50 });
    expect((await t.pool.list())[0]).toMatchObject({ bytes: 100, outcomes: { ok: 1, upstream_fault: 0 } });
    await other.flush();
    expect((await t.pool.list())[0]).toMatchObject({ bytes: 150, outcomes: { ok: 1, upstream_fault: 1 } });
  });

  it('counts go to Redis on their own within a second', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const sent: ScriptArg[][] = [];
    const stats = new ReleaseStats(async (args) => sent.push(args));
    stats.add('a', 7, 'ok', 10);
    stats.add('a', 5, 'canceled', 0);
    stats.add('b', 9, 'ok', 0);
    expect(sent).toEqual([]);
    await vi.advanceTimersByTimeAsync(STATS_FLUSH_MS);
    // per proxy: the earliest epoch counted, then field and amount
    expect(sent).toEqual([
      ['a', 5, 'released', 2, 'a', 5, 'bytes', 10, 'a', 5, 'o:canceled', 1, 'b', 9, 'released', 1],
    ]);
  });

  it('a pool sends them as often as statsFlushMs says', async () => {
    t = await openTestPool({ statsFlushMs: 60_000 });
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 4 }));
    await t.pool.release(await leaseOk(t.pool, interactive('x.test')), { outcome: 'ok', bytes: 10 });
    await new Promise((r) => setTimeout(r, STATS_FLUSH_MS + 200));
    expect(await t.redis.hget(t.pool.keys.proxy('a'), 'bytes')).toBe('0');
    await t.pool.flush();
    expect(await t.redis.hget(t.pool.keys.proxy('a'), 'bytes')).toBe('10');
    expect(() => new ProxyPool({ redis: t.redis, prefix: t.prefix, statsFlushMs: 0 })).toThrow(
      /statsFlushMs/,
    );
  });

  it('a failed send keeps the counts for the next one', async () => {
    const sent: ScriptArg[][] = [];
    let fail = true;
    const stats = new ReleaseStats(async (args) => {
      if (fail) throw new Error('redis down');
      sent.push(args);
    });
    stats.add('a', 1, 'ok', 10);
    await expect(stats.flush()).rejects.toThrow('redis down');
    stats.add('a', 2, 'ok', 5);
    fail = false;
    await stats.flush();
    expect(sent).toEqual([['a', 1, 'released', 2, 'a', 1, 'bytes', 15]]);
  });

  it('counts for a proxy that was removed, or removed and re-added, are dropped', async () => {
    t = await openTestPool();
    await t.pool.upsert(proxySpec('a', { maxConcurrency: 4 }));
    await t.pool.upsert(proxySpec('b', { maxConcurrency: 4 }));
    const onA = await leaseOk(t.pool, interactive('x.test'));
    const onB = await leaseOk(t.pool, interactive('x.test'));
    await t.pool.release(onA, { outcome: 'ok', bytes: 10 });
    await t.pool.release(onB, { outcome: 'ok', bytes: 20 });
    await t.pool.remove('a');
    await t.pool.remove('b');
    await t.pool.upsert(proxySpec('b', { maxConcurrency: 4 }));
    await t.pool.flush();
    expect(await t.redis.exists(t.pool.keys.proxy('a'))).toBe(0);
    expect((await t.pool.list())[0]).toMatchObject({ id: 'b', bytes: 0, outcomes: { ok: 0 } });
  });
});
