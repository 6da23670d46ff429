import type { SwitchyardClient } from '@switchyard/client';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { truncate } from 'node:fs/promises';

/**
 * Where a download into `path` resumes: the complete lines a previous run wrote, and the bytes
 * they take. A line cut off by a crash (no newline yet) is not counted and is written again.
 */
async function resumePoint(path: string): Promise<{ lines: number; bytes: number }> {
  let lines = 0;
  let bytes = 0;
  let pos = 0;
  try {
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) {
        lines++;
        bytes = pos + i + 1;
      }
      pos += chunk.length;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { lines: 0, bytes: 0 };
    throw err;
  }
  return { lines, bytes };
}

/**
 * Streams a batch's results to `out` (or stdout), resuming after the lines a previous run wrote
 * to `out`. Returns how many lines this run wrote and how many were already there.
 */
export async function downloadResults(
  client: SwitchyardClient,
  batchId: string,
  out: string | undefined,
  signal?: AbortSignal,
): Promise<{ written: number; kept: number }> {
  const from = out ? await resumePoint(out) : { lines: 0, bytes: 0 };
  if (out && from.lines > 0) await truncate(out, from.bytes);
  const sink = out ? createWriteStream(out, { flags: from.lines > 0 ? 'a' : 'w' }) : process.stdout;
  let written = 0;
  try {
    for await (const line of client.batches.results(batchId, { offset: from.lines, signal })) {
      if (!sink.write(`${JSON.stringify(line)}\n`)) await once(sink, 'drain');
      written++;
    }
  } finally {
    if (sink !== process.stdout) {
      sink.end();
      await once(sink, 'close');
    }
  }
  return { written, kept: from.lines };
}
