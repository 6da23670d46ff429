/**
 * The worker-thread entry of `ContentExtractor` (loaded by piscina, never imported by the package).
 * It first tells the extractor it has started, so a page's clock runs only while a thread works
 * on it. Coded errors cross the thread boundary as data: structured clone keeps an error's message
 * but drops its `code`, so the extractor rebuilds the `SwitchyardError` on its side.
 */
import { CodedError } from '@switchyard/contracts';
import type { MessagePort } from 'node:worker_threads';
import { extractContent } from '../extract/extract-content.ts';
import type { Extracted, ExtractInput } from '../extract/formats.ts';

export interface ThreadTask {
  input: ExtractInput;
  /** Receives one message when this thread starts on the page. */
  started: MessagePort;
}

export type ThreadReply = { ok: true; extracted: Extracted } | { ok: false; code: string; message: string };

export default async function extractInThread({ input, started }: ThreadTask): Promise<ThreadReply> {
  started.postMessage('started');
  started.close();
  try {
    return { ok: true, extracted: await extractContent(input) };
  } catch (err) {
    if (err instanceof CodedError) return { ok: false, code: err.code, message: err.message };
    throw err;
  }
}
