/**
 * Encodes text in a legacy single- or double-byte charset by inverting the WHATWG decoder that Node
 * ships (`TextDecoder`, full ICU): every byte sequence the charset defines is decoded once and the
 * first sequence for each character wins. Enough to write windows-1252 and Shift_JIS fixtures
 * without an encoding library; throws on a character the charset cannot represent.
 */
const tables = new Map<string, Map<string, number[]>>();

/** Every byte sequence worth trying: single bytes, and Shift_JIS's lead/trail byte pairs. */
function sequences(label: string): number[][] {
  const singles = [...range(0x00, 0xff)].map((b) => [b]);
  if (label !== 'shift_jis') return singles;
  const lead = [...range(0x81, 0x9f), ...range(0xe0, 0xfc)];
  const trail = [...range(0x40, 0x7e), ...range(0x80, 0xfc)];
  return [...singles, ...lead.flatMap((l) => trail.map((t) => [l, t]))];
}

function* range(from: number, to: number): Generator<number> {
  for (let i = from; i <= to; i++) yield i;
}

function table(label: string): Map<string, number[]> {
  let t = tables.get(label);
  if (t) return t;
  t = new Map();
  const decoder = new TextDecoder(label, { fatal: true });
  for (const seq of sequences(label)) {
    let ch: string;
    try {
      ch = decoder.decode(Uint8Array.from(seq));
    } catch {
      continue;
    }
    if ([...ch].length === 1 && !t.has(ch)) t.set(ch, seq);
  }
  tables.set(label, t);
  return t;
}

export function legacyEncode(text: string, label: 'windows-1252' | 'shift_jis'): Buffer {
  const t = table(label);
  const out: number[] = [];
  for (const ch of text) {
    const seq = t.get(ch);
    if (!seq) throw new Error(`${label} cannot encode ${JSON.stringify(ch)}`);
    out.push(...seq);
  }
  return Buffer.from(out);
}
