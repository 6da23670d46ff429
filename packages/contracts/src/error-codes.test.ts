import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG, ERROR_CODES } from './error-codes.ts';

const doc = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
/** Rows of the docs tables: `| \`code\` | status | meaning |`, whatever the column padding. */
const rows = new Map(
  [...doc.matchAll(/^\|\s*`([a-z_]+)`\s*\|\s*(\d{3})\s*\|/gm)].map((m) => [m[1], Number(m[2])] as const),
);

describe('error catalog', () => {
  it.each(ERROR_CODES)('%s is documented in docs/errors.md with its status', (code) => {
    expect(rows.get(code), `docs/errors.md has no row for ${code}`).toBe(ERROR_CATALOG[code].status);
  });

  it('documents no code that the catalog lacks', () => {
    expect([...rows.keys()].sort()).toEqual([...ERROR_CODES].sort());
  });
});
