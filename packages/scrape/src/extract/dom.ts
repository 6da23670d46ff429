import { parseHTML } from 'linkedom';

// The slice of the DOM the extractor uses, typed here: the package compiles without the DOM lib
// (no browser globals in a Node package), and linkedom's own types lean on it.

export interface DomNode {
  nodeType: number;
  textContent: string | null;
  parentElement: DomElement | null;
}

export interface DomElement extends DomNode {
  localName: string;
  id: string;
  className: string;
  innerHTML: string;
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
  removeAttribute(name: string): void;
  querySelector(selectors: string): DomElement | null;
  querySelectorAll(selectors: string): Iterable<DomElement>;
  closest(selectors: string): DomElement | null;
  contains(other: DomNode): boolean;
  remove(): void;
  prepend(...nodes: DomNode[]): void;
}

export interface DomDocument {
  documentElement: DomElement;
  body: DomElement | null;
  querySelector(selectors: string): DomElement | null;
  querySelectorAll(selectors: string): Iterable<DomElement>;
  createElement(tagName: string): DomElement;
}

/** Parses a whole HTML document (linkedom: fast, no layout, no script execution). */
export function parseDocument(html: string): DomDocument {
  const window: { document: DomDocument } = parseHTML(html);
  return window.document;
}

/** An element's text with runs of whitespace collapsed; `null` when empty. */
export function cleanText(value: string | null | undefined): string | null {
  const text = value?.replace(/\s+/g, ' ').trim();
  return text ? text : null;
}
