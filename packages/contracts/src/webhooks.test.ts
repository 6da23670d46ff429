import { describe, expect, it } from 'vitest';
import { JobSpecSchema, WebhookUrlSchema } from './jobs.ts';

describe('webhook URLs', () => {
  it.each(['https://hooks.example.com/a?b=c', 'http://127.0.0.1:8080/hook'])('%s is accepted', (url) => {
    expect(WebhookUrlSchema.safeParse(url).success).toBe(true);
  });

  it.each([
    ['not a url', 'must be an http(s) URL'],
    ['http://[', 'must be an http(s) URL'],
    ['ftp://example.com/hook', 'must be an http(s) URL'],
    ['https://user:pw@example.com/hook', 'must not carry credentials'],
    ['https://user@example.com/hook', 'must not carry credentials'],
    [`https://example.com/${'a'.repeat(2048)}`, 'Too big'],
  ])('%s is a validation issue, never a throw', (url, message) => {
    const parsed = WebhookUrlSchema.safeParse(url);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.message).join(' ')).toContain(message);
  });

  it('both job kinds take an optional webhook; unknown fields in it are rejected', () => {
    const url = 'https://hooks.example.com/x';
    const scrape = { type: 'scrape', request: { url: 'https://example.com/' }, webhook: { url } };
    expect(JobSpecSchema.parse(scrape).webhook).toEqual({ url });
    const completion = {
      type: 'completion',
      request: { model: 'm', messages: [{ role: 'user', content: 'hi' }] },
      webhook: { url },
    };
    expect(JobSpecSchema.parse(completion).webhook).toEqual({ url });
    expect(JobSpecSchema.safeParse({ ...scrape, webhook: { url, secret: 'x' } }).success).toBe(false);
  });
});
