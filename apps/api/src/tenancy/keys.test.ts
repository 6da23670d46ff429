import { WebhookKeys } from '@switchyard/webhooks';
import { describe, expect, it } from 'vitest';
import { TenancyKeys } from './keys.ts';

describe('TenancyKeys', () => {
  it('names the keys exactly as earlier versions wrote them', () => {
    const keys = new TenancyKeys('sy');
    expect(keys.tenant('t1')).toBe('sy:tenant:t1');
    expect(keys.tenants).toBe('sy:tenants');
    expect(keys.apiKey('abc')).toBe('sy:apikey:abc');
    expect(keys.tenantKeys('t1')).toBe('sy:tenant:t1:keys');
  });

  it('the worker reads the webhook secret from the same tenant hash the API writes', () => {
    expect(new WebhookKeys('sy').tenant('t1')).toBe(new TenancyKeys('sy').tenant('t1'));
  });
});
