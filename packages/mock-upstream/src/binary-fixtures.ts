import { crc32, deflateSync } from 'node:zlib';

/** PDF string literal escaping: backslash and both parentheses. */
const pdfString = (s: string) => `(${s.replace(/[\\()]/g, (c) => `\\${c}`)})`;

export interface PdfPage {
  /** Text lines, in Helvetica. */
  lines: string[];
  /** A link annotation (a URI action) over the page's first line. */
  link?: string;
}

/**
 * A minimal, valid PDF 1.4: one page per entry of `pages`, a document information dictionary with
 * `title`, and a correct xref table. ASCII text only (the font uses WinAnsiEncoding).
 */
export function minimalPdf(pages: PdfPage[], info: { title: string; creationDate: string }): Buffer {
  // Objects 1-4 are the catalog, the page tree, the font and the info dictionary; each page then
  // takes three numbers: the page, its content stream and its link annotation (written if any).
  const pageId = (i: number) => 5 + i * 3;
  const objects = new Map<number, string>([
    [1, '<< /Type /Catalog /Pages 2 0 R >>'],
    [
      2,
      `<< /Type /Pages /Kids [${pages.map((_, i) => `${pageId(i)} 0 R`).join(' ')}] /Count ${pages.length} >>`,
    ],
    [3, '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>'],
    [
      4,
      `<< /Title ${pdfString(info.title)} /Producer (switchyard fixtures) /CreationDate (${info.creationDate}) >>`,
    ],
  ]);
  for (const [i, page] of pages.entries()) {
    const id = pageId(i);
    const text = page.lines.map((line, n) => `${n === 0 ? '' : 'T* '}${pdfString(line)} Tj`).join('\n');
    const stream = `BT /F1 12 Tf 16 TL 72 740 Td\n${text}\nET`;
    const annots = page.link ? ` /Annots [${id + 2} 0 R]` : '';
    objects.set(
      id,
      '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> ' +
        `/Contents ${id + 1} 0 R${annots} >>`,
    );
    objects.set(id + 1, `<< /Length ${Buffer.byteLength(stream, 'latin1')} >>\nstream\n${stream}\nendstream`);
    if (page.link) {
      objects.set(
        id + 2,
        `<< /Type /Annot /Subtype /Link /Rect [72 736 400 754] /Border [0 0 0] /A << /S /URI /URI ${pdfString(page.link)} >> >>`,
      );
    }
  }
  return serializePdf(objects);
}

/** The file around numbered objects: header, bodies, an xref table (free entries for gaps), trailer. */
function serializePdf(objects: Map<number, string>): Buffer {
  const size = Math.max(...objects.keys()) + 1;
  let out = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets = new Map<number, number>();
  for (const [id, body] of [...objects].sort(([a], [b]) => a - b)) {
    offsets.set(id, Buffer.byteLength(out, 'latin1'));
    out += `${id} 0 obj\n${body}\nendobj\n`;
  }
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${size}\n0000000000 65535 f \n`;
  for (let id = 1; id < size; id++) {
    const offset = offsets.get(id);
    out += offset === undefined ? '0000000000 65535 f \n' : `${String(offset).padStart(10, '0')} 00000 n \n`;
  }
  out += `trailer\n<< /Size ${size} /Root 1 0 R /Info 4 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** An 8-bit RGB PNG of `size`×`size` pixels: a diagonal gradient. */
export function gradientPng(size: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const rows: number[] = [];
  for (let y = 0; y < size; y++) {
    rows.push(0);
    for (let x = 0; x < size; x++) rows.push((x * 255) / size, (y * 255) / size, 160);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.from(rows.map(Math.floor)))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}
