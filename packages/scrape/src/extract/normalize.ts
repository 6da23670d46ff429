import { createHash } from 'node:crypto';

/**
 * The markdown or text as returned: Unicode NFC, `\n` line ends, no trailing whitespace on a line,
 * at most one blank line in a row, no blank lines at either end.
 */
export function tidy(text: string): string {
  // Line by line and with loops, not /[ \t]+$/gm or /\n+$/: those backtrack quadratically on long
  // runs of spaces or newlines, and a text/plain body is untrusted input.
  const lines = text
    .normalize('NFC')
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.trimEnd());
  return trimNewlines(lines.join('\n').replace(/\n{3,}/g, '\n\n'));
}

/** `text` without leading and trailing newlines (a loop: /\n+$/ backtracks on inner runs). */
export function trimNewlines(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && text.charAt(start) === '\n') start++;
  while (end > start && text.charAt(end - 1) === '\n') end--;
  return text.slice(start, end);
}

/**
 * What `content_hash` hashes, so that the same content fetched twice hashes equal when only
 * whitespace differs: NFC; zero-width characters and BOMs removed; `\r\n` and `\r` as `\n`; every
 * line trimmed and its runs of spaces and tabs collapsed to one space; blank lines removed.
 * Indentation and blank lines therefore do not count, and neither do hard-break spaces; words,
 * punctuation, markup and line breaks do.
 */
export function normalizeForHash(markdown: string): string {
  return markdown
    .normalize('NFC')
    .replace(/[\u200b-\u200d\u2060\ufeff]/g, '')
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.replace(/[ \t\u00a0]+/g, ' ').trim())
    .filter((line) => line !== '')
    .join('\n');
}

export function sha256(data: string | Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** `content_hash` of a markdown document (see `normalizeForHash`). */
export function markdownHash(markdown: string): string {
  return sha256(normalizeForHash(markdown));
}
