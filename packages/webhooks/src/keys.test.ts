import { describe, expect, it } from 'vitest';
import { WebhookKeys } from './keys.ts';

describe('WebhookKeys', () => {
  it('names the keys exactly as earlier versions wrote them', () => {
    const keys = new WebhookKeys('sy');
    expect(keys.webhookQueueName).toBe('{webhooks}');
    expect(keys.tenant('t1')).toBe('sy:tenant:t1');
  });
});
