/** How a body is understood: which extractor runs on it. */
export type ContentKind = 'html' | 'text' | 'markdown' | 'pdf' | 'other';

export interface MediaType {
  /** The essence, lower case: `text/html`. `null` when the header was missing or unparseable. */
  essence: string | null;
  /** The `charset` parameter as written, or `null`. */
  charset: string | null;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+\/[!#$%&'*+.^_`|~0-9a-z-]+$/;

/** A Content-Type header's essence and charset (RFC 9110 §8.3; parameters are `;`-separated). */
export function parseMediaType(header: string | null): MediaType {
  if (!header) return { essence: null, charset: null };
  const [type = '', ...params] = header.split(';');
  const essence = type.trim().toLowerCase();
  let charset: string | null = null;
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    charset =
      param
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1') || null;
  }
  return { essence: TOKEN.test(essence) ? essence : null, charset };
}

const KINDS: Record<string, ContentKind> = {
  'text/html': 'html',
  'application/xhtml+xml': 'html',
  'text/plain': 'text',
  'text/markdown': 'markdown',
  'text/x-markdown': 'markdown',
  'application/pdf': 'pdf',
};

/** Without a usable header, a body is HTML or PDF only when its first bytes say so. */
function sniff(body: Uint8Array): ContentKind {
  const head = new TextDecoder('latin1').decode(body.subarray(0, 512)).trimStart().toLowerCase();
  if (head.startsWith('%pdf-')) return 'pdf';
  if (/^(\ufeff|ï»¿)?\s*<(!doctype html|html|head|body)[\s>]/.test(head)) return 'html';
  return 'other';
}

export function contentKind(media: MediaType, body: Uint8Array): ContentKind {
  if (media.essence === null) return sniff(body);
  return KINDS[media.essence] ?? 'other';
}
