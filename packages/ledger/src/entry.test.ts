import { afterEach, describe, expect, it } from 'vitest';
import { decodeEntry, encodeEntry } from './entry.ts';
import { ledgerKeys } from './keys.ts';
import { entry, openTestLedger, type TestLedger } from './test-support.ts';

describe('ledger entries as stored', () => {
  let t: TestLedger | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('come back with every field as written, nulls and unusual model names included', () => {
    for (const e of [
      entry(),
      entry({ lane: 'batch', kind: 'scrape', provider: null, model: null, proxyId: 'px-1.a_b' }),
      entry({ model: 'odd|name%7C with | bars', interrupted: true, inputTokens: 0, outputTokens: 0 }),
      entry({
        inputTokens: 90,
        cachedInputTokens: 50,
        cacheWriteTokens: 40,
        outputTokens: 9,
        reasoningTokens: 3,
      }),
      entry({ outcome: 'upstream_fault', inputTokens: 12, outputTokens: 5, estimated: true }),
    ]) {
      expect(decodeEntry(e.tenantId, e.jobId, e.attempt, encodeEntry(e))).toEqual(e);
    }
  });

  it('an entry written by an older version (positional JSON) still reads', () => {
    const raw =
      '[1,"interactive","completion","openai","gpt-4o-mini",null,"ok",0,118,4,24,448,15000,1710072000000]';
    expect(decodeEntry('acme', 'job-1', 1, raw)).toMatchObject({
      lane: 'interactive',
      model: 'gpt-4o-mini',
      proxyId: null,
      latencyMs: 118,
      costNanos: 15_000,
      at: 1_710_072_000_000,
    });
  });

  it('a typical attempt keeps its job hash in Redis’s compact listpack encoding', async () => {
    const e = entry({
      lane: 'batch',
      latencyMs: 1_234,
      inputTokens: 1_000,
      outputTokens: 1_000,
      bytes: 4_096,
    });
    expect(encodeEntry(e).length).toBeLessThanOrEqual(64);
    t = await openTestLedger();
    await t.ledger.record(e);
    const key = ledgerKeys(t.prefix, e.tenantId).job(e.jobId);
    expect(await t.redis.object('ENCODING', key)).toBe('listpack');
  });
});
