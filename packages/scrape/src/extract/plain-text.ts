import TurndownService from 'turndown';
import { trimNewlines } from './normalize.ts';

type TurndownNode = TurndownService.Node;

const block = (content: string) => `\n\n${content}\n\n`;
const isLastCell = (node: TurndownNode) => {
  for (let next = node.nextSibling; next; next = next.nextSibling) {
    if (next.nodeName === 'TD' || next.nodeName === 'TH') return false;
  }
  return true;
};

/**
 * HTML to plain text: turndown's whitespace handling (the hard part of HTML to text) with rules
 * that emit no markup. Blocks are separated by blank lines, list items are lines (nested ones
 * indented by two spaces), table cells are separated by tabs, code keeps its line breaks, links
 * and images keep only their text.
 */
function createTextService(): TurndownService {
  const service = new TurndownService({ headingStyle: 'atx', codeBlockStyle: 'fenced' });
  service.escape = (text) => text;
  service.addRule('heading', { filter: ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'], replacement: block });
  service.addRule('blockquote', { filter: 'blockquote', replacement: (content) => block(content.trim()) });
  service.addRule('inline', {
    filter: ['a', 'strong', 'b', 'em', 'i', 'code', 'kbd', 'samp', 'del', 's', 'u', 'mark', 'small', 'abbr'],
    replacement: (content) => content,
  });
  service.addRule('image', { filter: 'img', replacement: () => '' });
  service.addRule('rule', { filter: 'hr', replacement: () => '\n\n' });
  service.addRule('preformatted', {
    filter: 'pre',
    replacement: (_content, node) => block((node.textContent ?? '').replace(/\n$/, '')),
  });
  service.addRule('list', {
    filter: ['ul', 'ol'],
    replacement: (content, node) => (node.parentNode?.nodeName === 'LI' ? `\n${content}` : block(content)),
  });
  service.addRule('listItem', {
    filter: 'li',
    replacement: (content, node) => {
      const body = trimNewlines(content).replace(/\n/g, '\n  ');
      return `${body}${node.nextSibling ? '\n' : ''}`;
    },
  });
  service.addRule('tableCell', {
    filter: ['td', 'th'],
    replacement: (content, node) => `${content.replace(/\s+/g, ' ').trim()}${isLastCell(node) ? '' : '\t'}`,
  });
  service.addRule('tableRow', { filter: 'tr', replacement: (content) => `\n${content}\n` });
  service.addRule('tableSection', { filter: ['thead', 'tbody', 'tfoot'], replacement: (content) => content });
  service.addRule('caption', { filter: 'caption', replacement: (content) => `\n${content}\n` });
  return service;
}

let textService: TurndownService | undefined;

export function htmlToText(html: string): string {
  textService ??= createTextService();
  return textService.turndown(html);
}
