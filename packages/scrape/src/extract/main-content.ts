import { Readability } from '@mozilla/readability';
import { removeFurniture, removeUnrendered } from './clean.ts';
import { cleanText, type DomDocument, type DomElement } from './dom.ts';

/** Code-block language classes (`language-ts`, `lang-yaml`), which Readability would strip. */
function languageClasses(doc: DomDocument): string[] {
  const found = new Set<string>();
  for (const el of doc.querySelectorAll('pre[class], code[class]')) {
    for (const c of el.className.split(/\s+/)) if (/^(language|lang)-/.test(c)) found.add(c);
  }
  return [...found];
}

/**
 * Puts the page's `<h1>` back on top of Readability's article: Readability drops it (it reports it
 * as the title) or demotes it to an `<h2>`, and a chunk of the page without its heading loses the
 * most telling line.
 */
function restoreHeading(doc: DomDocument, article: DomElement, heading: string): void {
  if (article.querySelector('h1')) return;
  const first = article.querySelector('h2');
  if (first && cleanText(first.textContent) === heading) first.remove();
  const h1 = doc.createElement('h1');
  h1.textContent = heading;
  article.prepend(h1);
}

/** Readability's article, as an element of `doc`; `null` when it finds none with text. */
function readabilityArticle(doc: DomDocument): DomElement | null {
  const heading = cleanText(doc.querySelector('h1')?.textContent);
  let parsed;
  try {
    parsed = new Readability<DomElement>(doc, {
      classesToPreserve: languageClasses(doc),
      serializer: (el): DomElement => el,
    }).parse();
  } catch {
    // A heuristic that trips on an odd page is no reason to fail it: the landmarks will do.
    return null;
  }
  // Readability wraps the article in <div><div id="readability-page-1" class="page">.
  const article = parsed?.content?.querySelector('#readability-page-1') ?? parsed?.content;
  if (!article || !cleanText(article.textContent)) return null;
  if (heading) restoreHeading(doc, article, heading);
  return article;
}

/** Without an article: the page's `<main>` (or `<article>`), else what is left of the body. */
function landmarkContent(doc: DomDocument): DomElement | null {
  return doc.querySelector('main, [role="main"]') ?? doc.querySelector('article') ?? doc.body;
}

/**
 * The part of the page to convert. `onlyMainContent`: page furniture removed, then Readability's
 * article (or the page's `<main>` when Readability finds nothing); otherwise the whole body. Both
 * lose scripts, styles and hidden elements. Mutates `doc`.
 */
export function contentRoot(doc: DomDocument, onlyMainContent: boolean): DomElement | null {
  const body = doc.body;
  if (!body) return null;
  removeUnrendered(body);
  if (!onlyMainContent) return body;
  removeFurniture(body);
  return readabilityArticle(doc) ?? landmarkContent(doc);
}
