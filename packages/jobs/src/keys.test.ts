import { describe, expect, it } from 'vitest';
import { jobKeys } from './keys.ts';

describe('JobKeys', () => {
  it('names the keys exactly as earlier versions wrote them', () => {
    const keys = jobKeys('sy');
    expect(keys.queueName('interactive')).toBe('{interactive}');
    expect(keys.queueName('batch')).toBe('{batch}');
    expect(keys.idempotency('t1', 'abc')).toBe('sy:idem:{t1}:abc');
    expect(keys.cancel('ji_1')).toBe('sy:cancel:ji_1');
    expect(keys.cancelChannel).toBe('sy:cancel');
    expect(keys.attempts('ji_1')).toBe('sy:attempts:ji_1');
    expect(keys.deltas('ji_1')).toBe('sy:deltas:ji_1');
    expect(keys.retryBudget).toBe('sy:retry-budget');
    expect(keys.delayedFor('batch', 'host')).toBe('sy:lane:{batch}:delayed-for:host');
    expect(keys.workers).toBe('sy:{workers}');
    expect(keys.workerBeats).toBe('sy:{workers}:beats');
    expect(keys.failures).toBe('sy:failures');
  });

  it('refuses a prefix that is empty or has spaces or braces', () => {
    for (const bad of ['', 'a b', '{sy}']) expect(() => jobKeys(bad)).toThrow(RangeError);
  });
});
