import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { CliInputError } from './errors.ts';

export interface BadLine {
  line: number;
  message: string;
}

export interface FileScan {
  /** SHA-256 of the file's bytes, hex. */
  sha256: string;
  bytes: number;
  /** Non-blank lines. */
  lines: number;
  /** Lines that are not a JSON object with a string `custom_id` (first 1,000). */
  bad: BadLine[];
  badCount: number;
}

/** Why a line cannot be a batch line, or undefined when it can. */
function problemOf(text: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return `not JSON (${(err as Error).message})`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const id = (value as { custom_id?: unknown }).custom_id;
  if (typeof id !== 'string' || id === '') return 'no custom_id';
  return undefined;
}

/**
 * Reads the file once, as a stream: its hash (the batch's idempotency), its line count (progress),
 * and the lines that are not JSON objects with a `custom_id` (reported by line number). Memory
 * stays flat whatever the file's size.
 */
export async function scanBatchFile(path: string): Promise<FileScan> {
  const size = await stat(path).then(
    (s) => (s.isFile() ? s.size : undefined),
    () => undefined,
  );
  if (size === undefined) throw new CliInputError(`no such file: ${path}`);
  const hash = createHash('sha256');
  const input = createReadStream(path);
  input.on('data', (chunk) => hash.update(chunk));
  const scan: FileScan = { sha256: '', bytes: size, lines: 0, bad: [], badCount: 0 };
  let n = 0;
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    n++;
    if (text.trim() === '') continue;
    scan.lines++;
    const problem = problemOf(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    if (problem === undefined) continue;
    scan.badCount++;
    if (scan.bad.length < 1_000) scan.bad.push({ line: n, message: problem });
  }
  scan.sha256 = hash.digest('hex');
  return scan;
}

/**
 * The file's lines with `lane` set on every Switchyard line that names none (OpenAI lines run on
 * the batch lane). Blank and unparsable lines pass unchanged, so the API numbers lines as the file
 * does and reports the bad ones itself.
 */
export async function* withLane(path: string, lane: string): AsyncGenerator<string> {
  for await (const text of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    let line = text;
    try {
      const value = JSON.parse(text) as Record<string, unknown>;
      if (value && typeof value === 'object' && 'type' in value && !('lane' in value)) {
        line = JSON.stringify({ ...value, lane });
      }
    } catch {
      // passed on as it is: the API rejects it with its line number
    }
    yield line;
  }
}
