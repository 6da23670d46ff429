/**
 * The measured comparison behind docs/adr/0010-content-extraction.md: which HTML-to-markdown
 * converter (turndown + its GFM plugin, node-html-markdown) and which DOM under Readability
 * (linkedom, jsdom). Run by hand when revisiting the choice; not part of `pnpm bench`.
 *
 *   node test/bench/extraction-libraries.ts
 *
 * Quality: each converter turns Readability's article of the two HTML fixtures into markdown, and
 * a list of checks says what survived (tables, code blocks in list items, nested lists, inline
 * code in links and cells, spacing after links). Speed: pages/s for the article grown to 50 KB
 * and 1 MB, converter alone (on Readability's output) and DOM + Readability alone.
 */
import { createRequire } from 'node:module';
import { fixture, longArticle } from '@switchyard/mock-upstream';
import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import { NodeHtmlMarkdown } from 'node-html-markdown';
import TurndownService from 'turndown';
import { textTable } from './report.ts';

// Neither ships types this program can use; both are CommonJS.
const require = createRequire(import.meta.url);
const { gfm } = require('@joplin/turndown-plugin-gfm') as { gfm: TurndownService.Plugin };
const { JSDOM, VirtualConsole } = require('jsdom') as {
  JSDOM: new (html: string, options: { virtualConsole: unknown }) => { window: { document: unknown } };
  VirtualConsole: new () => unknown;
};

const turndown = new TurndownService({
  headingStyle: 'atx',
  codeBlockStyle: 'fenced',
  bulletListMarker: '-',
});
turndown.use(gfm);
const nhm = new NodeHtmlMarkdown();
const converters: Record<string, (html: string) => string> = {
  'turndown + gfm': (html) => turndown.turndown(html),
  'node-html-markdown': (html) => nhm.translate(html),
};

/** Readability's article as HTML, code-language classes kept (as the extractor keeps them). */
function article(html: string, dom: 'linkedom' | 'jsdom' = 'linkedom'): string {
  const document =
    dom === 'linkedom'
      ? parseHTML(html).document
      : new JSDOM(html, { virtualConsole: new VirtualConsole() }).window.document;
  const classesToPreserve = ['language-ts', 'language-yaml', 'language-shell'];
  return new Readability(document as never, { classesToPreserve }).parse()?.content ?? '';
}

const CHECKS: [string, 'article.html' | 'docs.html', RegExp][] = [
  ['GFM table with header row', 'article.html', /\| Configuration +\| p50 +\| p99 .*\|\n\| -+ \|/],
  ['fenced code keeps its language', 'article.html', /```ts\nimport \{ Agent \}/],
  ['nested ordered list indented under its item', 'article.html', /handshake work: *\n {2,4}1\. +ECDHE/],
  ['inline code inside link text', 'article.html', /\[Node\.js documentation for `http\.Agent`\]/],
  ['space kept after a link', 'article.html', /inventory\.ts\) and nobody/],
  ['inline code inside table cells', 'docs.html', /\| `attempts` +\| integer/],
  [
    'code block stays inside its list item',
    'docs.html',
    /Publish as usual:\n *\n {3,4}```shell\n {3,4}tide publish/,
  ],
  ['no stray blank line before a closing fence', 'docs.html', /jitter: full\n```/],
];

function quality(): string[][] {
  const rows: string[][] = [];
  for (const [what, page, pattern] of CHECKS) {
    const html = article(fixture(page).toString('utf8'));
    rows.push([
      what,
      ...Object.values(converters).map((convert) => (pattern.test(convert(html)) ? 'yes' : 'NO')),
    ]);
  }
  return rows;
}

/** Pages per second of `fn`: as many runs as fit in `seconds`, at least one (after one warm-up). */
function rate(fn: () => unknown, seconds: number): number {
  fn();
  let n = 0;
  const started = performance.now();
  do {
    fn();
    n++;
  } while (performance.now() - started < seconds * 1000);
  return n / ((performance.now() - started) / 1000);
}

function speed(): string[][] {
  const rows: string[][] = [];
  for (const [label, bytes] of [
    ['50 KB', 50 * 1024],
    ['1 MB', 1024 * 1024],
  ] as const) {
    const page = longArticle(bytes);
    const content = article(page);
    for (const [name, convert] of Object.entries(converters)) {
      rows.push([`${name} (converter alone)`, label, rate(() => convert(content), 3).toFixed(2)]);
    }
    for (const dom of ['linkedom', 'jsdom'] as const) {
      rows.push([
        `Readability over ${dom} (parse + article)`,
        label,
        rate(() => article(page, dom), 3).toFixed(2),
      ]);
    }
  }
  return rows;
}

console.log('\nQuality on the fixtures (does the markdown keep it?)');
console.log(textTable(['check', ...Object.keys(converters)], quality()));
console.log('\nSpeed, one thread (pages/s)');
console.log(textTable(['what', 'page', 'pages/s'], speed()));
