import { describe, expect, it } from 'vitest';
import { jobKeys } from './keys.ts';

describe('JobKeys', () => {
  it('names the keys exactly as earlier versions wrote them', () => {
    const keys = jobKeys('sy');
    expect(keys.queueName('interactive')).toBe('{interactive}');
    expect(keys.queueName('batch')).toBe('{batch}');
    expect(keys.queueName('batch', 0)).toBe('{batch}');
    expect(keys.idempotency('t1', 'abc')).toBe('sy:idem:{t1}:abc');
    expect(keys.cancel('ji_1')).toBe('sy:cancel:ji_1');
    expect(keys.cancelChannel).toBe('sy:cancel');
    expect(keys.attempts('ji_1')).toBe('sy:attempts:ji_1');
    expect(keys.deltas('ji_1')).toBe('sy:deltas:ji_1');
    // Retry budgets changed with ADR 0021 (a budget only spans its window: nothing to carry over).
    expect(keys.retryBudget('model:gpt-4o')).toBe('sy:retry-budget:{model:gpt-4o}');
    expect(keys.retryBudgetShare('host:example.com', 't1')).toBe('sy:retry-budget:{host:example.com}:t1');
    expect(keys.delayedFor('batch', 'host')).toBe('sy:lane:{batch}:delayed-for:host');
    expect(keys.workers).toBe('sy:{workers}');
    expect(keys.workerBeats).toBe('sy:{workers}:beats');
    expect(keys.failures).toBe('sy:failures');
  });

  it('a batch shard past the first is its own queue and hash tag; the interactive lane has no shards', () => {
    const keys = jobKeys('sy');
    expect(keys.queueName('batch', 1)).toBe('{batch-1}');
    expect(keys.queueName('batch', 2)).toBe('{batch-2-163}');
    expect(keys.queueName('interactive', 2)).toBe('{interactive}');
  });

  it("keeps an upstream's retry budget and each tenant's share of it in one Redis Cluster slot", () => {
    const keys = jobKeys('sy');
    const tag = (key: string) => /\{([^}]*)\}/.exec(key)?.[1];
    for (const upstream of ['model:gpt-4o', 'host:a.example', 'model:odd}name', 'model:odd{name'])
      expect(tag(keys.retryBudgetShare(upstream, 't1'))).toBe(tag(keys.retryBudget(upstream)));
  });

  it('refuses a prefix that is empty or has spaces or braces', () => {
    for (const bad of ['', 'a b', '{sy}']) expect(() => jobKeys(bad)).toThrow(RangeError);
  });
});
