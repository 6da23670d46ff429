import { readFileSync } from 'node:fs';

/**
 * The fixture pages in `../fixtures/` and the Content-Type the mock site serves each with: the
 * charset is in the header where a real server would state it; `shift_jis.html` is served without
 * one, so its `<meta charset>` is what decides.
 */
export const FIXTURES = {
  /** A blog post heavy with boilerplate: nav, cookie banner, sidebar, ads, scripts, footer. */
  'article.html': 'text/html; charset=utf-8',
  /** A documentation page: sidebar, table of contents, code blocks, an options table. */
  'docs.html': 'text/html; charset=utf-8',
  /** French, with accents, € and curly quotes, in windows-1252. */
  'windows-1252.html': 'text/html; charset=windows-1252',
  /** Japanese, in Shift_JIS, declared only by `<meta charset>`. */
  'shift_jis.html': 'text/html',
  'notes.txt': 'text/plain; charset=utf-8',
  'guide.md': 'text/markdown; charset=utf-8',
  /** Two pages of known text and one link annotation. */
  'report.pdf': 'application/pdf',
  'logo.png': 'image/png',
} as const;

export type FixtureName = keyof typeof FIXTURES;

export const isFixtureName = (name: string): name is FixtureName => Object.hasOwn(FIXTURES, name);

/** A fixture's bytes, exactly as they are served. */
export function fixture(name: FixtureName): Buffer {
  return readFileSync(new URL(`../fixtures/${name}`, import.meta.url));
}

/**
 * The article fixture grown to about `bytes` by repeating its body (ids made unique), for
 * benchmarks and size tests: same structure, same boilerplate, more content.
 */
export function longArticle(bytes: number): string {
  const html = fixture('article.html').toString('utf8');
  const open = '<div class="post-content">';
  const start = html.indexOf(open) + open.length;
  const end = html.indexOf('<footer class="post-footer">');
  const body = html.slice(start, end);
  const parts: string[] = [];
  let size = html.length - body.length;
  for (let i = 0; i === 0 || size < bytes; i++) {
    const part = body.replaceAll('id="', `id="r${i}-`);
    parts.push(part);
    size += part.length;
  }
  return html.slice(0, start) + parts.join('') + html.slice(end);
}
