import { describe, expect, it } from 'vitest';
import { JobKeys } from './keys.ts';

describe('JobKeys', () => {
  it('names the keys exactly as earlier versions wrote them', () => {
    const keys = new JobKeys('sy');
    expect(keys.queueName('interactive')).toBe('{interactive}');
    expect(keys.queueName('batch')).toBe('{batch}');
    expect(keys.idempotency('t1', 'abc')).toBe('sy:idem:{t1}:abc');
    expect(keys.cancel('ji_1')).toBe('sy:cancel:ji_1');
    expect(keys.cancelChannel).toBe('sy:cancel');
    expect(keys.attempts('ji_1')).toBe('sy:attempts:ji_1');
    expect(keys.deltas('ji_1')).toBe('sy:deltas:ji_1');
    expect(keys.retryBudget).toBe('sy:retry-budget');
  });
});
