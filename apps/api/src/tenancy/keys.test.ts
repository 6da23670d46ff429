import { politenessKeys } from '@switchyard/scrape';
import { webhookKeys } from '@switchyard/webhooks';
import { describe, expect, it } from 'vitest';
import { tenancyKeys } from './keys.ts';

describe('TenancyKeys', () => {
  it('names the keys exactly as earlier versions wrote them', () => {
    const keys = tenancyKeys('sy');
    expect(keys.tenant('t1')).toBe('sy:tenant:t1');
    expect(keys.tenants).toBe('sy:tenants');
    expect(keys.apiKey('abc')).toBe('sy:apikey:abc');
    expect(keys.tenantKeys('t1')).toBe('sy:tenant:t1:keys');
    expect(keys.rateLimit('t1')).toBe('sy:rate:{t1}');
  });

  it('the worker reads the webhook secret from the same tenant hash the API writes', () => {
    expect(webhookKeys('sy').tenant('t1')).toBe(tenancyKeys('sy').tenant('t1'));
  });

  it('the worker reads robots_exempt_hosts from the same tenant hash the API writes', () => {
    expect(politenessKeys('sy').tenant('t1')).toBe(tenancyKeys('sy').tenant('t1'));
  });

  it('refuses a prefix that is empty or has spaces or braces', () => {
    for (const bad of ['', 'a b', '{sy}']) expect(() => tenancyKeys(bad)).toThrow(RangeError);
  });
});
