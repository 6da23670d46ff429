// Apps and tests compile this package's source under their own tsconfig, which does not include
// src/types: the reference brings the declarations along.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="../types/vendor.d.ts" />
import { gfm } from '@joplin/turndown-plugin-gfm';
import TurndownService from 'turndown';
import { trimNewlines } from './normalize.ts';

type TurndownNode = TurndownService.Node;

/** The language of a code block: a `language-x` / `lang-x` class on the `<pre>` or its `<code>`. */
function codeLanguage(pre: TurndownNode): string {
  const classes = `${pre.getAttribute('class') ?? ''} ${pre.querySelector('code')?.getAttribute('class') ?? ''}`;
  return /(?:^|\s)(?:language|lang)-([\w+#.-]+)/.exec(classes)?.[1] ?? '';
}

/** A fence longer than any run of backticks at a line start inside the code. */
function fenceFor(code: string): string {
  const longest = Math.max(2, ...[...code.matchAll(/^`{3,}/gm)].map((m) => m[0].length));
  return '`'.repeat(longest + 1);
}

/**
 * HTML to CommonMark + GFM tables with turndown (docs/adr/0010-content-extraction.md): ATX
 * headings, fenced code with its language, `-` bullets, inline links. Two rules replace
 * turndown's own: every `<pre>` is a fenced block (not only `<pre><code>`), and list items use
 * one space after the marker, nested content indented to match.
 */
function createMarkdownService(): TurndownService {
  const service = new TurndownService({
    headingStyle: 'atx',
    codeBlockStyle: 'fenced',
    bulletListMarker: '-',
    emDelimiter: '_',
    strongDelimiter: '**',
    linkStyle: 'inlined',
  });
  service.use(gfm);
  service.addRule('preformatted', {
    filter: 'pre',
    replacement: (_content, node) => {
      const code = (node.textContent ?? '').replace(/\n$/, '');
      const fence = fenceFor(code);
      return `\n\n${fence}${codeLanguage(node)}\n${code}\n${fence}\n\n`;
    },
  });
  service.addRule('listItem', {
    filter: 'li',
    replacement: (content, node, options) => {
      const parent = node.parentNode;
      let prefix = `${options.bulletListMarker ?? '-'} `;
      if (parent?.nodeName === 'OL') {
        const start = Number(parent.getAttribute('start') ?? '1') || 1;
        prefix = `${start + Array.prototype.indexOf.call(parent.children, node)}. `;
      }
      const paragraph = /\n$/.test(content);
      const body = trimNewlines(content) + (paragraph ? '\n' : '');
      return `${prefix}${body.replace(/\n/g, `\n${' '.repeat(prefix.length)}`)}${node.nextSibling ? '\n' : ''}`;
    },
  });
  return service;
}

let markdownService: TurndownService | undefined;

export function htmlToMarkdown(html: string): string {
  markdownService ??= createMarkdownService();
  return markdownService.turndown(html);
}
