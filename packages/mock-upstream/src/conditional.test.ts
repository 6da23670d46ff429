import { describe, expect, it } from 'vitest';
import { FIXTURE_LAST_MODIFIED, notModified, validatorsOf } from './conditional.ts';

const v = validatorsOf(Buffer.from('page'));

describe('conditional requests (RFC 9110 §13.2.2)', () => {
  it.each<[string, Record<string, string>, boolean]>([
    ['no conditional header', {}, false],
    ['the same ETag', { 'if-none-match': v.etag }, true],
    ['the same ETag, weak', { 'if-none-match': `W/${v.etag}` }, true],
    ['the ETag in a list', { 'if-none-match': `"other", ${v.etag}` }, true],
    ['*', { 'if-none-match': '*' }, true],
    ['another ETag', { 'if-none-match': '"other"' }, false],
    ['Last-Modified itself', { 'if-modified-since': FIXTURE_LAST_MODIFIED }, true],
    ['a later date', { 'if-modified-since': 'Thu, 02 Oct 2025 00:00:00 GMT' }, true],
    ['an earlier date', { 'if-modified-since': 'Tue, 30 Sep 2025 00:00:00 GMT' }, false],
    ['an unreadable date', { 'if-modified-since': 'yesterday' }, false],
    // If-None-Match decides when present, even if the date alone would say 304.
    [
      'another ETag with a later date',
      { 'if-none-match': '"x"', 'if-modified-since': 'Fri, 01 Jan 2100 00:00:00 GMT' },
      false,
    ],
  ])('%s → 304: %s', (_what, headers, expected) => {
    expect(notModified(headers, v)).toBe(expected);
  });

  it('the ETag is strong and changes with the bytes', () => {
    expect(v.etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(validatorsOf(Buffer.from('page 2')).etag).not.toBe(v.etag);
  });
});
