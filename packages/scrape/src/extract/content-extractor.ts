import { isErrorCode, SwitchyardError } from '@switchyard/contracts';
import { availableParallelism } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { ThreadReply, ThreadTask } from '../threads/extract.ts';
import type { Extracted, ExtractInput } from './formats.ts';
import { Slots } from './slots.ts';
import { threadEntryUrl } from './thread-entry.ts';

export interface ContentExtractorOptions {
  /** Worker threads. Default: one fewer than the cores, at least one. */
  maxThreads?: number;
  /** Per page, counted from when a thread starts on it (not while it waits, nor a thread's start-up). Default 10 s. */
  timeoutMs?: number;
  /** Larger bodies are refused before any work. Default 10 MiB. */
  maxInputBytes?: number;
  /** Heap limit of each thread, in MB: a page whose DOM needs more fails, the process lives. Default 1024. */
  maxThreadMemoryMb?: number;
}

const DEFAULTS = { timeoutMs: 10_000, maxInputBytes: 10 * 1024 * 1024, maxThreadMemoryMb: 1024 };

/**
 * `extractContent` off the event loop: a pool of worker threads (piscina), each page bounded in
 * time (`extraction_timeout`: the thread is terminated and replaced) and in size
 * (`extraction_too_large`: refused up front, or when the thread runs out of heap). Pages wait
 * for a free thread without their clock running. Coded errors from the thread (such as
 * `unsupported_content_type`) are rethrown as `SwitchyardError`s.
 */
export class ContentExtractor {
  readonly #pool: Piscina<ThreadTask, ThreadReply>;
  readonly #slots: Slots;
  readonly #timeoutMs: number;
  readonly #maxInputBytes: number;
  readonly #inFlight = new Set<Promise<Extracted>>();
  #closed = false;

  constructor(opts: ContentExtractorOptions = {}) {
    const threads = Math.max(1, opts.maxThreads ?? availableParallelism() - 1);
    this.#timeoutMs = opts.timeoutMs ?? DEFAULTS.timeoutMs;
    this.#maxInputBytes = opts.maxInputBytes ?? DEFAULTS.maxInputBytes;
    this.#slots = new Slots(threads);
    this.#pool = new Piscina({
      filename: threadEntryUrl('extract').href,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 60_000,
      // Extraction is async (PDF.js): let each thread's event loop run between pages.
      atomics: 'async',
      resourceLimits: { maxOldGenerationSizeMb: opts.maxThreadMemoryMb ?? DEFAULTS.maxThreadMemoryMb },
    });
  }

  /** Extracts one page in a worker thread. `signal` cancels it (waiting or running). */
  async extract(input: ExtractInput, signal?: AbortSignal): Promise<Extracted> {
    if (this.#closed) throw new Error('the ContentExtractor is closed');
    const size = input.body.byteLength;
    if (size > this.#maxInputBytes) {
      throw new SwitchyardError(
        'extraction_too_large',
        `the body has ${size} bytes; the extractor takes at most ${this.#maxInputBytes}`,
      );
    }
    const done = this.#extract(input, signal);
    this.#inFlight.add(done);
    try {
      return await done;
    } finally {
      this.#inFlight.delete(done);
    }
  }

  async #extract(input: ExtractInput, signal: AbortSignal | undefined): Promise<Extracted> {
    const release = await this.#slots.acquire(signal);
    const timeout = new AbortController();
    const { port1: started, port2: startedInThread } = new MessageChannel();
    let timer: NodeJS.Timeout | undefined;
    started.once('message', () => {
      timer = setTimeout(() => timeout.abort(), this.#timeoutMs);
    });
    try {
      // The thread gets its own copy, moved rather than cloned; the caller's body stays usable.
      const body = new Uint8Array(input.body);
      const reply = await this.#pool.run(
        { input: { ...input, formats: [...input.formats], body }, started: startedInThread },
        {
          signal: signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal,
          transferList: [body.buffer, startedInThread],
        },
      );
      if (reply.ok) return reply.extracted;
      throw isErrorCode(reply.code)
        ? new SwitchyardError(reply.code, reply.message)
        : new Error(reply.message);
    } catch (err) {
      throw this.#explain(err, timeout.signal, signal);
    } finally {
      clearTimeout(timer);
      started.close();
      release();
    }
  }

  /** A pool failure as the caller should see it: the timeout and the heap limit get their codes. */
  #explain(err: unknown, timeout: AbortSignal, signal: AbortSignal | undefined): unknown {
    if (err instanceof SwitchyardError) return err;
    if (signal?.aborted) return signal.reason;
    if (timeout.aborted) {
      return new SwitchyardError('extraction_timeout', `extraction took longer than ${this.#timeoutMs} ms`);
    }
    if ((err as { code?: unknown }).code === 'ERR_WORKER_OUT_OF_MEMORY') {
      return new SwitchyardError('extraction_too_large', 'extraction ran out of the thread heap', {
        cause: err,
      });
    }
    return err;
  }

  /** Refuses new pages, fails those still waiting for a thread, lets running ones finish. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#slots.failWaiters(new Error('the ContentExtractor was closed'));
    await Promise.allSettled(this.#inFlight);
    await this.#pool.close();
  }
}
