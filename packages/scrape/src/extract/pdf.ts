import { SwitchyardError } from '@switchyard/contracts';
import { extractLinks, extractText, getDocumentProxy, getMeta } from 'unpdf';
import { cleanText } from './dom.ts';

export interface PdfContent {
  /** The text of each page. */
  pages: string[];
  /** The URLs of the link annotations, in page order. */
  links: string[];
  title: string | null;
  language: string | null;
}

/**
 * A PDF's text, link annotations and document-information title and language, with unpdf (PDF.js
 * built for servers, pure JS). Scanned pages without a text layer give no text (no OCR here). A body
 * that is not a readable PDF throws `upstream_bad_response`.
 */
export async function readPdf(body: Uint8Array): Promise<PdfContent> {
  // PDF.js takes ownership of the buffer it is given (and refuses a Buffer): hand it a copy.
  const pdf = await getDocumentProxy(new Uint8Array(body), { verbosity: 0 }).catch((err: unknown) => {
    throw new SwitchyardError('upstream_bad_response', `the PDF could not be read (${String(err)})`, {
      cause: err,
    });
  });
  try {
    const { text } = await extractText(pdf, { mergePages: false });
    const { links } = await extractLinks(pdf);
    const { info } = await getMeta(pdf);
    const fields = info as Record<string, unknown>;
    const field = (name: string) => (typeof fields[name] === 'string' ? cleanText(fields[name]) : null);
    return { pages: text, links, title: field('Title'), language: field('Language') };
  } finally {
    await pdf.loadingTask.destroy();
  }
}
