import { describe, expect, it } from 'vitest';
import { batchKeys } from './keys.ts';

describe('BatchKeys', () => {
  it('names the keys exactly as earlier versions wrote them', () => {
    expect(batchKeys('sy').batch('t1', 'bt_1')).toEqual({
      batch: 'sy:batch:{t1}:bt_1',
      jobs: 'sy:batch:{t1}:bt_1:jobs',
      done: 'sy:batch:{t1}:bt_1:done',
      staging: 'sy:batch:{t1}:bt_1:staging:',
      rejected: 'sy:batch:{t1}:bt_1:rejected',
    });
    expect(batchKeys('sy').index('t1')).toBe('sy:batches:{t1}');
  });

  it('refuses a prefix that is empty or has spaces or braces', () => {
    for (const bad of ['', 'a b', '{sy}']) expect(() => batchKeys(bad)).toThrow(RangeError);
  });
});
