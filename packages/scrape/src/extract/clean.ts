import type { DomDocument, DomElement, DomNode } from './dom.ts';
import { resolveHttp } from './urls.ts';

const TEXT_NODE = 3;

/** Never content, in either mode: code, styles, and what a browser does not render. */
const NOT_RENDERED = 'script, style, noscript, template, iframe, object, embed, svg, canvas, [hidden]';

/** Page furniture around the main content (for `onlyMainContent`). */
const FURNITURE =
  'nav, aside, footer, form, button, dialog, input, select, textarea, menu, [aria-hidden="true"], ' +
  '[role="navigation"], [role="banner"], [role="contentinfo"], [role="complementary"], ' +
  '[role="dialog"], [role="alertdialog"], [role="search"], [role="menu"], [role="menubar"]';

/**
 * Class and id words of cookie banners, ads, share bars, newsletter boxes, tables of contents and
 * the like. A class matches when it is one of these or has one as a `-`/`_`-separated part
 * (`cookie-banner`, `ad-slot`, `theme-doc-breadcrumbs`).
 */
const FURNITURE_WORDS = new Set(
  (
    'cookie cookies consent gdpr newsletter subscribe subscription share sharing social related ad ads ' +
    'advert advertisement adslot sponsor sponsored promo popup modal breadcrumb breadcrumbs toc ' +
    'table-of-contents tableofcontents comments comment pagination announcementbar skiptocontent sidebar ' +
    'navbar menu'
  ).split(' '),
);

function isFurnitureName(name: string): boolean {
  const lower = name.toLowerCase();
  return FURNITURE_WORDS.has(lower) || lower.split(/[-_]+/).some((part) => FURNITURE_WORDS.has(part));
}

function hasFurnitureName(el: DomElement): boolean {
  return el.className.split(/\s+/).some(isFurnitureName) || (el.id !== '' && isFurnitureName(el.id));
}

/** An inline style that hides the element (`display: none`, `visibility: hidden`). */
function hidesElement(style: string): boolean {
  // Declarations parsed by hand: a regex over the attribute backtracks on long runs of spaces.
  return style.split(';').some((declaration) => {
    const colon = declaration.indexOf(':');
    const property = declaration.slice(0, colon).trim().toLowerCase();
    const value = declaration
      .slice(colon + 1)
      .replace('!important', '')
      .trim()
      .toLowerCase();
    return (
      colon > 0 &&
      ((property === 'display' && value === 'none') || (property === 'visibility' && value === 'hidden'))
    );
  });
}

const textLength = (el: DomElement) => (el.textContent ?? '').replace(/\s+/g, '').length;

/**
 * Removes what is never content: scripts, styles, templates, embedded frames and hidden elements
 * (`hidden`, inline `display:none` / `visibility:hidden`), and the other inline styles. Used in
 * both modes.
 */
export function removeUnrendered(root: DomElement): void {
  for (const el of root.querySelectorAll(NOT_RENDERED)) el.remove();
  for (const el of root.querySelectorAll('[style]')) {
    if (hidesElement(el.getAttribute('style') ?? '')) el.remove();
    // What is left is presentation; linkedom's style parser is also quadratic on long values.
    else el.removeAttribute('style');
  }
  capWhitespaceRuns(root);
}

/** Longest run of whitespace kept in a text node; the rest of the run is dropped. */
export const MAX_WHITESPACE_RUN = 1000;

/**
 * Shortens runs of whitespace (code blocks keep theirs, and &nbsp; survives HTML's collapsing)
 * to `MAX_WHITESPACE_RUN`: turndown trims its output with /[\t\r\n\s]+$/, which takes time
 * quadratic in the longest run, minutes for a run of a few hundred thousand.
 */
function capWhitespaceRuns(root: DomElement): void {
  const stack: DomNode[] = [root];
  for (let node = stack.pop(); node; node = stack.pop()) {
    if (node.nodeType !== TEXT_NODE) {
      for (const child of node.childNodes) stack.push(child);
      continue;
    }
    const text = node.textContent ?? '';
    if (text.length <= MAX_WHITESPACE_RUN) continue;
    let out = '';
    let run = 0;
    for (const ch of text) {
      run = /\s/.test(ch) ? run + 1 : 0;
      if (run <= MAX_WHITESPACE_RUN) out += ch;
    }
    if (out.length !== text.length) node.textContent = out;
  }
}

/**
 * Removes page furniture: navigation, sidebars, footers, forms, dialogs, cookie banners, ads, share
 * and newsletter boxes, site headers (a `<header>` outside the article). An element that holds the
 * page's heading or its article, or more than half of the page's text, is kept whatever its name:
 * some sites wrap everything in a `<form>` or a `sidebar-layout` div.
 */
export function removeFurniture(body: DomElement): void {
  const total = textLength(body);
  const keep = (el: DomElement) =>
    el.querySelector('h1, article, main, [role="main"]') !== null || textLength(el) > total / 2;
  const candidates = [
    ...body.querySelectorAll(FURNITURE),
    ...[...body.querySelectorAll('header')].filter((h) => !h.closest('article, main, [role="main"]')),
    ...[...body.querySelectorAll('[class], [id]')].filter(hasFurnitureName),
  ];
  for (const el of candidates) {
    if (el.localName === 'body' || el.localName === 'main' || el.localName === 'article') continue;
    // Syntax highlighters put `comment`, `tag`, ... on spans inside code blocks.
    if (!body.contains(el) || el.closest('pre, code') || keep(el)) continue;
    el.remove();
  }
}

const URL_ATTRIBUTES: [string, string][] = [
  ['a[href], area[href]', 'href'],
  ['img[src], video[src], audio[src], source[src], track[src]', 'src'],
  ['video[poster]', 'poster'],
];

/**
 * Makes every link and media URL absolute against the document's base, so markdown and html carry
 * URLs that work out of context. Links to `javascript:` and the like lose their href (their text
 * stays), `data:` images go (they would be megabytes of base64 in markdown), `srcset` is dropped.
 */
export function absolutizeUrls(doc: DomDocument, base: URL): void {
  for (const [selector, attribute] of URL_ATTRIBUTES) {
    for (const el of doc.querySelectorAll(selector)) {
      const value = el.getAttribute(attribute) ?? '';
      const url = resolveHttp(value, base);
      if (url) el.setAttribute(attribute, url.href);
      else if (/^\s*(mailto|tel):/i.test(value)) continue;
      else if (el.localName === 'img') el.remove();
      else el.removeAttribute(attribute);
    }
  }
  for (const el of doc.querySelectorAll('[srcset]')) el.removeAttribute('srcset');
}
