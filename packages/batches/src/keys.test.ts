import { describe, expect, it } from 'vitest';
import { BatchKeys } from './keys.ts';

describe('BatchKeys', () => {
  it('names the keys exactly as earlier versions wrote them', () => {
    expect(new BatchKeys('sy').batch('t1', 'bt_1')).toEqual({
      batch: 'sy:batch:{t1}:bt_1',
      jobs: 'sy:batch:{t1}:bt_1:jobs',
      done: 'sy:batch:{t1}:bt_1:done',
      staging: 'sy:batch:{t1}:bt_1:staging:',
    });
  });
});
