import { describe, expect, it } from 'vitest';
import { webhookKeys } from './keys.ts';

describe('WebhookKeys', () => {
  it('names the keys exactly as earlier versions wrote them', () => {
    const keys = webhookKeys('sy');
    expect(keys.queueName).toBe('{webhooks}');
    expect(keys.tenant('t1')).toBe('sy:tenant:t1');
  });

  it('refuses a prefix that is empty or has spaces or braces', () => {
    for (const bad of ['', 'a b', '{sy}']) expect(() => webhookKeys(bad)).toThrow(RangeError);
  });
});
