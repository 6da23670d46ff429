import { describe, expect, it } from 'vitest';
import { contentKind, parseMediaType } from './content-type.ts';
import { textLinks, uniqueUrls } from './urls.ts';

const bytes = (s: string) => Buffer.from(s, 'latin1');

describe('content types', () => {
  it.each([
    ['text/html; charset=UTF-8', 'text/html', 'UTF-8', 'html'],
    ['Text/HTML;Charset="windows-1252"', 'text/html', 'windows-1252', 'html'],
    ['application/xhtml+xml', 'application/xhtml+xml', null, 'html'],
    ['text/plain;charset=iso-8859-1;format=flowed', 'text/plain', 'iso-8859-1', 'text'],
    ['text/markdown', 'text/markdown', null, 'markdown'],
    ['text/x-markdown; charset=utf-8', 'text/x-markdown', 'utf-8', 'markdown'],
    ['application/pdf', 'application/pdf', null, 'pdf'],
    ['image/png', 'image/png', null, 'other'],
    ['application/json', 'application/json', null, 'other'],
    ['text/csv', 'text/csv', null, 'other'],
  ])('%s is %s (charset %s): %s', (header, essence, charset, kind) => {
    const media = parseMediaType(header);
    expect(media).toEqual({ essence, charset });
    expect(contentKind(media, bytes('<html>'))).toBe(kind);
  });

  it.each([
    ['<!DOCTYPE html><title>x</title>', 'html'],
    ['\ufeff  <html lang="en">', 'html'],
    ['\n<head><meta charset=utf-8>', 'html'],
    ['%PDF-1.7\n', 'pdf'],
    ['{"html": true}', 'other'],
    ['\x89PNG\r\n', 'other'],
  ])('without a usable header, %j sniffs as %s', (start, kind) => {
    expect(contentKind(parseMediaType(null), Buffer.from(start))).toBe(kind);
    expect(contentKind(parseMediaType('nonsense'), Buffer.from(start))).toBe(kind);
  });
});

describe('links', () => {
  const base = new URL('https://site.example/docs/page.html');

  it('absolute http(s) only, fragments removed, first occurrence kept', () => {
    expect(
      uniqueUrls(
        [
          'a.html#x',
          '/b',
          'https://other.example/c#y',
          'a.html',
          'mailto:me@site.example',
          'javascript:void(0)',
          null,
          '//cdn.example/d',
          'ftp://f.example/',
        ],
        base,
      ),
    ).toEqual([
      'https://site.example/docs/a.html',
      'https://site.example/b',
      'https://other.example/c',
      'https://cdn.example/d',
    ]);
  });

  it('in text: bare URLs without trailing punctuation, and markdown targets resolved against the page', () => {
    expect(
      textLinks(
        'See https://a.example/x. Or [b](../b.md "B") and <https://c.example/>, (https://d.example/q?a=1).',
        base,
      ),
    ).toEqual([
      'https://a.example/x',
      'https://site.example/b.md',
      'https://c.example/',
      'https://d.example/q?a=1',
    ]);
  });
});
