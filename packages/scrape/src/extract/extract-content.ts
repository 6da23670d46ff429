import { SwitchyardError } from '@switchyard/contracts';
import { contentKind, parseMediaType, type MediaType } from './content-type.ts';
import { decodeHtml, decodeText } from './decode.ts';
import { cleanText, parseDocument } from './dom.ts';
import { CONTENT_FORMATS, type Extracted, type ExtractInput, type PageMetadata } from './formats.ts';
import { contentRoot } from './main-content.ts';
import { htmlToMarkdown } from './markdown.ts';
import { bareMetadata, htmlMetadata } from './metadata.ts';
import { markdownHash, sha256, tidy } from './normalize.ts';
import { readPdf } from './pdf.ts';
import { htmlToText } from './plain-text.ts';
import { absolutizeUrls } from './clean.ts';
import { documentBase, documentLinks, textLinks } from './urls.ts';

/** A body understood: its markdown (always: `content_hash` needs it), the other formats on demand. */
interface Understood {
  markdown: string;
  text(): string;
  html(): string;
  links(): string[];
  metadata: PageMetadata;
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
/** Readability creates elements as `DIV`, `P`, and linkedom writes them so; HTML says `div`, `p`. */
const lowerCaseTags = (html: string) =>
  html.replace(
    /<(\/?)([A-Z][A-Z0-9]*)(?=[\s/>])/g,
    (_tag, slash: string, name: string) => `<${slash}${name.toLowerCase()}`,
  );
/** Text without markup of its own, as HTML: one `<pre>`, so its line breaks survive. */
const preformatted = (text: string) => `<pre>${escapeHtml(text)}</pre>`;

function understandHtml(input: ExtractInput, media: MediaType): Understood {
  const doc = parseDocument(decodeHtml(input.body, media.charset).text);
  const base = documentBase(doc, input.url);
  // Metadata and links come from the page as served, before cleaning removes <head> scripts and nav.
  const metadata = htmlMetadata(doc, input, base);
  const links = input.formats.includes('links') ? documentLinks(doc, base) : [];
  absolutizeUrls(doc, base);
  const html = lowerCaseTags(contentRoot(doc, input.onlyMainContent)?.innerHTML.trim() ?? '');
  return {
    markdown: tidy(htmlToMarkdown(html)),
    text: () => tidy(htmlToText(html)),
    html: () => html,
    links: () => links,
    metadata,
  };
}

/** The text of a markdown document's first `# heading` line, its closing `#`s removed. */
function markdownTitle(text: string): string | null {
  // Scanned by hand: /^#[ \t]+(.+?)[ \t#]*$/m backtracks quadratically on a long heading line.
  const line = text.split('\n').find((l) => /^#[ \t]/.test(l));
  if (!line) return null;
  let end = line.length;
  while (end > 1 && line.charAt(end - 1) === '#') end--;
  const closed = end < line.length && ' \t'.includes(line.charAt(end - 1));
  return cleanText(line.slice(1, closed ? end : line.length));
}

/** text/plain and text/markdown pass through; a markdown file's first `# heading` is its title. */
function understandText(input: ExtractInput, media: MediaType, markdown: boolean): Understood {
  const text = tidy(decodeText(input.body, media.charset).text);
  const title = markdown ? markdownTitle(text) : null;
  return {
    markdown: text,
    text: () => text,
    html: () => preformatted(text),
    links: () => textLinks(text, new URL(input.url)),
    metadata: bareMetadata(input, title),
  };
}

async function understandPdf(input: ExtractInput): Promise<Understood> {
  const pdf = await readPdf(input.body);
  const text = tidy(pdf.pages.map((page) => page.trim()).join('\n\n'));
  const base = new URL(input.url);
  const metadata = {
    ...bareMetadata(input, pdf.title),
    language: pdf.language ?? bareMetadata(input).language,
  };
  return {
    markdown: text,
    text: () => text,
    html: () => preformatted(text),
    links: () => textLinks([...pdf.links, text].join('\n'), base),
    metadata,
  };
}

function unsupported(input: ExtractInput, media: MediaType): SwitchyardError {
  const asked = input.formats.filter((f) => CONTENT_FORMATS.has(f)).join(', ');
  const type = media.essence ?? 'a body without a Content-Type';
  return new SwitchyardError(
    'unsupported_content_type',
    `${type} has no ${asked}: only raw and metadata can be returned for it`,
  );
}

async function understand(input: ExtractInput, media: MediaType): Promise<Understood | null> {
  switch (contentKind(media, input.body)) {
    case 'html':
      return understandHtml(input, media);
    case 'text':
      return understandText(input, media, false);
    case 'markdown':
      return understandText(input, media, true);
    case 'pdf':
      return understandPdf(input);
    case 'other':
      if (input.formats.some((f) => CONTENT_FORMATS.has(f))) throw unsupported(input, media);
      return null;
  }
}

/**
 * Extracts the requested formats from one response, in this thread: HTML (main content or whole
 * body, to markdown, text, cleaned html, links, metadata), text/plain and text/markdown (passed
 * through), PDF (text). Any other type gives `raw` and `metadata` only; asking it for markdown,
 * text, html or links throws `unsupported_content_type`. CPU-bound: run it in a worker thread
 * (`ContentExtractor`) when the caller's event loop matters.
 */
export async function extractContent(input: ExtractInput): Promise<Extracted> {
  const media = parseMediaType(input.contentType);
  const page = await understand(input, media);
  const wants = (format: ExtractInput['formats'][number]) => input.formats.includes(format);
  const out: Partial<Extracted> = {};
  if (page && wants('markdown')) out.markdown = page.markdown;
  if (page && wants('text')) out.text = page.text();
  if (page && wants('html')) out.html = page.html();
  if (wants('raw'))
    out.raw = Buffer.from(input.body.buffer, input.body.byteOffset, input.body.byteLength).toString('base64');
  if (page && wants('links')) out.links = page.links();
  if (wants('metadata')) out.metadata = page?.metadata ?? bareMetadata(input);
  return {
    ...out,
    // Without markdown (an image, an archive) the hash is over the bytes as received.
    content_hash: page ? markdownHash(page.markdown) : sha256(input.body),
    bytes: input.body.byteLength,
  };
}
