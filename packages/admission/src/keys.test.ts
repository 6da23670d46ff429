import { describe, expect, it } from 'vitest';
import { admissionKeys, BATCH_SHARD_TAGS } from './keys.ts';

/** Redis Cluster's key slot of a hash tag: CRC16 (XMODEM) mod 16384. */
function slotOf(tag: string): number {
  let crc = 0;
  for (const byte of Buffer.from(tag)) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

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
      ring: 'sy:fair:{batch-2-163}:ring',
      members: 'sy:fair:{batch-2-163}:members',
      inflight: 'sy:fair:{batch-2-163}:inflight',
      backlogPrefix: 'sy:fair:{batch-2-163}:t:',
    });
    expect(() => keys.fairShard(BATCH_SHARD_TAGS.length)).toThrow(RangeError);
  });

  it('the first N shards of the batch lane hash to N different N-ths of the slot range, so N masters get one each', () => {
    expect([slotOf('foo'), slotOf('somekey')]).toEqual([12182, 11058]); // Redis's CLUSTER KEYSLOT
    const slots = BATCH_SHARD_TAGS.map((tag) => slotOf(tag));
    expect(new Set(slots).size).toBe(slots.length);
    for (let n = 1; n <= slots.length; n++) {
      // redis-cli --cluster create gives master i the slots from about i * 16384 / n: keep clear of the edges.
      const parts = slots.slice(0, n).map((slot) => Math.floor((slot * n) / 16384));
      expect(new Set(parts).size).toBe(n);
      for (const slot of slots.slice(0, n)) {
        const offset = (slot * n) % 16384; // n × the distance from the part's lower edge, in slots
        expect(Math.min(offset, 16384 - offset) / n).toBeGreaterThan(4);
      }
    }
  });

  it('refuses a prefix that is empty or has spaces or braces', () => {
    for (const bad of ['', 'a b', '{sy}']) expect(() => admissionKeys(bad)).toThrow(RangeError);
  });
});
