import { describe, expect, it } from 'vitest';
import { admissionKeys } from './keys.ts';

describe('AdmissionKeys', () => {
  it('names the keys exactly as earlier versions wrote them', () => {
    const keys = admissionKeys('sy');
    expect(keys.fair).toEqual({
      ring: 'sy:fair:{batch}:ring',
      members: 'sy:fair:{batch}:members',
      inflight: 'sy:fair:{batch}:inflight',
      backlogPrefix: 'sy:fair:{batch}:t:',
    });
    expect(keys.tenantLoad('t1')).toEqual({ open: 'sy:load:{t1}:open', started: 'sy:load:{t1}:started' });
  });

  it("a batch shard's fair-share keys carry that shard's queue tag; shard 0's are the lane's own", () => {
    const keys = admissionKeys('sy');
    expect(keys.fairShard(0)).toEqual(keys.fair);
    expect(keys.fairShard(2)).toEqual({
      ring: 'sy:fair:{batch-2}:ring',
      members: 'sy:fair:{batch-2}:members',
      inflight: 'sy:fair:{batch-2}:inflight',
      backlogPrefix: 'sy:fair:{batch-2}:t:',
    });
  });

  it('refuses a prefix that is empty or has spaces or braces', () => {
    for (const bad of ['', 'a b', '{sy}']) expect(() => admissionKeys(bad)).toThrow(RangeError);
  });
});
