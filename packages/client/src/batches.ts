import {
  isBatchFinished,
  type BatchCreated,
  type BatchList,
  type BatchResultLine,
  type BatchView,
} from '@switchyard/contracts';
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Transport } from './http.ts';

/** One batch line: a Switchyard job spec or an OpenAI batch request line (each with `custom_id`). */
export type BatchLineInput = Record<string, unknown> & { custom_id: string };

/**
 * What a batch is made of. A file path or an array can be sent again if a retry needs it; a
 * stream or an async iterable is sent once (a failure after it started is not retried).
 */
export type BatchInput =
  /** An NDJSON (`.jsonl`) file, read as a stream. */
  | { path: string }
  /** NDJSON bytes. */
  | { stream: AsyncIterable<Uint8Array> }
  /** Lines, each an object or its JSON text. */
  | { lines: Iterable<BatchLineInput | string> | AsyncIterable<BatchLineInput | string> };

export interface UploadProgress {
  bytesSent: number;
  /** Known for a file path. */
  totalBytes: number | undefined;
}

export interface CreateBatchOptions {
  /** The same key with the same lines answers the same batch. Generated when absent. */
  idempotencyKey?: string;
  /** Where `batch.completed` is sent (the tenant needs a webhook secret). */
  webhookUrl?: string;
  /** Called as the body goes out. */
  onProgress?: (progress: UploadProgress) => void;
  signal?: AbortSignal;
}

async function* ndjson(lines: Iterable<BatchLineInput | string> | AsyncIterable<BatchLineInput | string>) {
  const encoder = new TextEncoder();
  for await (const line of lines) {
    yield encoder.encode(`${typeof line === 'string' ? line : JSON.stringify(line)}\n`);
  }
}

async function* counted(chunks: AsyncIterable<Uint8Array>, onChunk: (bytes: number) => void) {
  for await (const chunk of chunks) {
    onChunk(chunk.byteLength);
    yield chunk;
  }
}

/** `/v1/batches`: submit many jobs at once, follow them, read their results. */
export class Batches {
  readonly #http: Transport;

  constructor(http: Transport) {
    this.#http = http;
  }

  /**
   * Submits a batch as NDJSON, streamed: the client never holds the whole file. Invalid lines are
   * rejected one by one (`rejected_lines`); the others run.
   */
  async create(input: BatchInput, opts: CreateBatchOptions = {}): Promise<BatchCreated> {
    const totalBytes = 'path' in input ? (await stat(input.path)).size : undefined;
    const source = (): AsyncIterable<Uint8Array> => {
      if ('path' in input) return createReadStream(input.path);
      if ('stream' in input) return input.stream;
      return ndjson(input.lines);
    };
    const body = () => {
      let bytesSent = 0;
      const chunks = counted(source(), (n) => {
        bytesSent += n;
        opts.onProgress?.({ bytesSent, totalBytes });
      });
      return { body: ReadableStream.from(chunks), contentType: 'application/x-ndjson' };
    };
    return this.#http.json('POST', '/v1/batches', {
      query: { webhook_url: opts.webhookUrl },
      headers: { 'idempotency-key': opts.idempotencyKey ?? randomUUID() },
      body,
      retryable: 'path' in input || ('lines' in input && Array.isArray(input.lines)),
      signal: opts.signal,
    });
  }

  /** The batch's counts, cost and status. */
  get(id: string, opts: { signal?: AbortSignal } = {}): Promise<BatchView> {
    return this.#http.json('GET', `/v1/batches/${encodeURIComponent(id)}`, {
      retryable: true,
      signal: opts.signal,
    });
  }

  /** Polls the batch until it has finished (completed, or cancelled, failed, expired), reporting each reading. */
  async wait(
    id: string,
    opts: { intervalMs?: number; onProgress?: (batch: BatchView) => void; signal?: AbortSignal } = {},
  ): Promise<BatchView> {
    for (;;) {
      const batch = await this.get(id, { signal: opts.signal });
      opts.onProgress?.(batch);
      if (isBatchFinished(batch.status)) return batch;
      await new Promise((resolve) => setTimeout(resolve, opts.intervalMs ?? 1_000));
      opts.signal?.throwIfAborted();
    }
  }

  /**
   * Cancels the batch's unfinished jobs. The batch reads `cancelling` until they have stopped, then
   * `cancelled`; a batch that already finished is `batch_finished` (409).
   */
  cancel(id: string, opts: { signal?: AbortSignal } = {}): Promise<BatchView> {
    return this.#http.json('POST', `/v1/batches/${encodeURIComponent(id)}/cancel`, {
      retryable: true,
      signal: opts.signal,
    });
  }

  /**
   * A page of the tenant's batches, newest first: `after` is the last id of the previous page
   * (`last_id`), `limit` 1–100 (default 20); `has_more` tells whether another page follows.
   */
  list(opts: { after?: string; limit?: number; signal?: AbortSignal } = {}): Promise<BatchList> {
    return this.#http.json('GET', '/v1/batches', {
      query: { after: opts.after, limit: opts.limit },
      retryable: true,
      signal: opts.signal,
    });
  }

  /**
   * The results, one per accepted line in line order, read as a stream; `offset` skips the first
   * lines (to resume a download).
   */
  async *results(
    id: string,
    opts: { offset?: number; signal?: AbortSignal } = {},
  ): AsyncGenerator<BatchResultLine> {
    const res = await this.#http.send('GET', `/v1/batches/${encodeURIComponent(id)}/results`, {
      query: { offset: opts.offset },
      headers: { accept: 'application/x-ndjson' },
      retryable: true,
      signal: opts.signal,
    });
    if (!res.body) return;
    const decoder = new TextDecoder();
    let rest = '';
    for await (const chunk of res.body) {
      const lines = (rest + decoder.decode(chunk as Uint8Array, { stream: true })).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) yield JSON.parse(line) as BatchResultLine;
    }
    if (rest.trim()) yield JSON.parse(rest) as BatchResultLine;
  }
}
