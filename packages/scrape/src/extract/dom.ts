import { parseHTML } from 'linkedom';

// The slice of the DOM the extractor uses, typed here: the package compiles without the DOM lib
// (no browser globals in a Node package), and linkedom's own types lean on it.

export interface DomNode {
  nodeType: number;
  textContent: string | null;
  parentElement: DomElement | null;
  childNodes: Iterable<DomNode>;
  remove(): void;
}

export interface DomElement extends DomNode {
  localName: string;
  id: string;
  className: string;
  innerHTML: string;
  attributes: Iterable<{ name: string; value: string }>;
  children: Iterable<DomElement>;
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
  removeAttribute(name: string): void;
  querySelector(selectors: string): DomElement | null;
  querySelectorAll(selectors: string): Iterable<DomElement>;
  closest(selectors: string): DomElement | null;
  contains(other: DomNode): boolean;
  prepend(...nodes: DomNode[]): void;
  append(...nodes: DomNode[]): void;
  normalize(): void;
}

export interface DomDocument {
  /** Always an <html> element once `parseDocument` has shaped the document. */
  documentElement: DomElement;
  body: DomElement | null;
  childNodes: Iterable<DomNode>;
  querySelector(selectors: string): DomElement | null;
  querySelectorAll(selectors: string): Iterable<DomElement>;
  createElement(tagName: string): DomElement;
  append(...nodes: DomNode[]): void;
}

const ELEMENT = 1;
const TEXT = 3;
const DOCTYPE = 10;
/** What the HTML parser puts in <head> when the page leaves the <head> tag out. */
const HEAD_CONTENT = new Set(['title', 'meta', 'link', 'base', 'style', 'script', 'noscript', 'template']);

/**
 * Gives the document the <html><head><body> shape a browser's parser would: linkedom keeps the
 * tags it is given, and HTML lets a page leave out <html>, <head> and <body> (or send a fragment),
 * which would leave linkedom's body empty. Head content up to the first other content goes to
 * <head>, the rest to <body>; the attributes of the tags that were there are kept.
 */
function ensureStructure(doc: DomDocument): void {
  // linkedom's documentElement is the first element, whatever it is, or null for text alone.
  const root = doc.documentElement as DomElement | null;
  if (root?.localName === 'html' && [...root.children].some((c) => c.localName === 'body')) return;
  const [html, head, body] = ['html', 'head', 'body'].map((tag) => doc.createElement(tag)) as [
    DomElement,
    DomElement,
    DomElement,
  ];
  html.append(head, body);
  let inBody = false;
  const place = (node: DomNode): void => {
    if (node.nodeType === ELEMENT) {
      const el = node as DomElement;
      const target = { html, head, body }[el.localName as 'html' | 'head' | 'body'] as DomElement | undefined;
      if (target) {
        for (const { name, value } of el.attributes) target.setAttribute(name, value);
        inBody ||= target === body;
        for (const child of [...el.childNodes]) place(child);
        return el.remove();
      }
      inBody ||= !HEAD_CONTENT.has(el.localName);
    } else if (node.nodeType === TEXT) {
      if (!inBody && !node.textContent?.trim()) return node.remove();
      inBody = true;
    }
    (inBody ? body : head).append(node);
  };
  for (const node of [...doc.childNodes]) if (node.nodeType !== DOCTYPE) place(node);
  doc.append(html);
}

/**
 * How deep elements may nest before what is below becomes plain text. Real pages stay well under
 * 100; Readability's time grows with the square of the depth and turndown recurses once per
 * level, so a page nesting thousands deep would take minutes or overflow the stack.
 */
export const MAX_DEPTH = 256;

/** Replaces each element at `MAX_DEPTH` that still has element children by its text. */
function flattenDeepNesting(root: DomElement): void {
  const stack: [DomElement, number][] = [[root, 0]];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [el, depth] = next;
    const children = [...el.children];
    if (depth < MAX_DEPTH) for (const child of children) stack.push([child, depth + 1]);
    else if (children.length > 0) el.textContent = el.textContent ?? '';
  }
}

/**
 * Parses a whole HTML document (linkedom: fast, no layout, no script execution) and shapes it as
 * a browser would: <html>, <head> and <body> present, nesting bounded, adjacent text merged.
 */
export function parseDocument(html: string): DomDocument {
  const window: { document: DomDocument } = parseHTML(html);
  ensureStructure(window.document);
  flattenDeepNesting(window.document.documentElement);
  // linkedom gives each character reference its own text node: merge them, as a browser would.
  window.document.documentElement.normalize();
  return window.document;
}

/** An element's text with runs of whitespace collapsed; `null` when empty. */
export function cleanText(value: string | null | undefined): string | null {
  const text = value?.replace(/\s+/g, ' ').trim();
  return text ? text : null;
}
