// Apps and tests compile this package's source under their own tsconfig, which does not include
// src/types: the reference brings the declarations along.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="../types/vendor.d.ts" />
import sniffHtmlEncoding from 'html-encoding-sniffer';

export interface Decoded {
  text: string;
  /** The WHATWG name of the encoding used, e.g. `UTF-8`, `windows-1252`, `Shift_JIS`. */
  encoding: string;
}

/**
 * How far into an HTML body a `<meta charset>` is looked for. The HTML standard's prescan reads
 * 1024 bytes; real pages put long comments and scripts first, so a few more are read.
 */
const PRESCAN_BYTES = 4096;

function decodeAs(body: Uint8Array, encoding: string): Decoded {
  try {
    // The built-in decoder has every WHATWG encoding (full ICU on Node 24); it drops a matching BOM.
    return { text: new TextDecoder(encoding).decode(body), encoding };
  } catch {
    // `replacement` (ISO-2022-KR and friends) and anything else the decoder refuses.
    return { text: new TextDecoder('utf-8').decode(body), encoding: 'UTF-8' };
  }
}

/**
 * An HTML body to text, the encoding chosen as browsers do (WHATWG encoding sniffing): a BOM, else
 * the header's charset, else a `<meta charset>` / `http-equiv` in the first bytes, else UTF-8.
 */
export function decodeHtml(body: Uint8Array, headerCharset: string | null): Decoded {
  const encoding = sniffHtmlEncoding(body, {
    ...(headerCharset ? { transportLayerEncodingLabel: headerCharset } : {}),
    defaultEncoding: 'UTF-8',
    maxPrescanBytes: PRESCAN_BYTES,
  });
  return decodeAs(body, encoding);
}

/** A text body (plain, markdown): a BOM, else the header's charset, else UTF-8. */
export function decodeText(body: Uint8Array, headerCharset: string | null): Decoded {
  const encoding = sniffHtmlEncoding(body, {
    ...(headerCharset ? { transportLayerEncodingLabel: headerCharset } : {}),
    defaultEncoding: 'UTF-8',
    maxPrescanBytes: 0,
  });
  return decodeAs(body, encoding);
}
