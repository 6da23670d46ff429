import { describe, expect, it } from 'vitest';
import { idempotentJobId, isJobId, laneOfJobId, newJobId, shardOfJobId } from './job-ids.ts';

describe('job ids', () => {
  it('carry their lane, and a batch job its shard, so a lookup needs no read', () => {
    const ids = [newJobId('interactive'), newJobId('batch'), newJobId('batch', 1), newJobId('batch', 11)];
    expect(ids.map((id) => id.slice(0, id.indexOf('_') + 1))).toEqual(['ji_', 'jb_', 'jb1_', 'jb11_']);
    expect(ids.map(laneOfJobId)).toEqual(['interactive', 'batch', 'batch', 'batch']);
    expect(ids.map(shardOfJobId)).toEqual([0, 0, 1, 11]);
    expect(ids.every(isJobId)).toBe(true);
    // Interactive ids never carry a shard.
    expect(newJobId('interactive', 2).startsWith('ji_')).toBe(true);
  });

  it('refuse what no lane or shard makes', () => {
    for (const bad of [
      'ji1_0123456789abcdef0123',
      'jb0_0123456789abcdef0123',
      'jb12_0123456789abcdef0123',
      'jx_0123',
    ])
      expect([bad, isJobId(bad)]).toEqual([bad, false]);
    expect(laneOfJobId('ji1_0123456789abcdef0123')).toBeUndefined();
  });

  it('an Idempotency-Key names one job; on a sharded batch lane its digest spreads keys over every shard', () => {
    expect(idempotentJobId('batch', 't1', 'k')).toBe(idempotentJobId('batch', 't1', 'k'));
    expect(idempotentJobId('batch', 't1', 'k').startsWith('jb_k')).toBe(true);
    const shards = Array.from({ length: 300 }, (_, i) =>
      shardOfJobId(idempotentJobId('batch', 't1', `k${i}`, 3)),
    );
    const per = [0, 1, 2].map((s) => shards.filter((x) => x === s).length);
    for (const n of per) expect(n).toBeGreaterThan(60);
    expect(idempotentJobId('interactive', 't1', 'k', 3).startsWith('ji_k')).toBe(true);
    expect(isJobId(idempotentJobId('batch', 't1', 'k7', 3))).toBe(true);
  });
});
