import { isFinal, type JobRecord, type JobSpecInput } from '@switchyard/contracts';
import { createParser } from 'eventsource-parser';
import { randomUUID } from 'node:crypto';
import { SwitchyardApiError } from './errors.ts';
import type { Transport } from './http.ts';

export interface SubmitOptions {
  /** Makes the submit safe to repeat: the same key answers the same job. Generated when absent. */
  idempotencyKey?: string;
  /** Seconds the API may hold the answer for the job to finish (`Prefer: wait`). */
  waitSeconds?: number;
  signal?: AbortSignal;
}

export interface WaitOptions {
  /** Give up after this long (rejects with the signal's reason as `AbortSignal.timeout` does). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called with every state the job passes through, the final one included. */
  onStatus?: (job: JobRecord) => void;
}

/** Seconds of `Prefer: wait` per poll when server-sent events are not available. */
const POLL_WAIT_SECONDS = 30;

const json = (value: unknown) => () => ({ body: JSON.stringify(value), contentType: 'application/json' });

/** `/v1/jobs`: submit, read, wait for and cancel single jobs. */
export class Jobs {
  readonly #http: Transport;

  constructor(http: Transport) {
    this.#http = http;
  }

  /**
   * Submits a job. The Idempotency-Key (yours, or one generated per call) goes with every retry,
   * so a retried submit never creates a second job.
   */
  submit(spec: JobSpecInput, opts: SubmitOptions = {}): Promise<JobRecord> {
    const headers: Record<string, string> = { 'idempotency-key': opts.idempotencyKey ?? randomUUID() };
    if (opts.waitSeconds !== undefined) headers.prefer = `wait=${opts.waitSeconds}`;
    return this.#http.json('POST', '/v1/jobs', {
      body: json(spec),
      headers,
      retryable: true,
      signal: opts.signal,
    });
  }

  /** The job with its attempt log; `not_found` for an id this tenant does not own. */
  get(id: string, opts: { waitSeconds?: number; signal?: AbortSignal } = {}): Promise<JobRecord> {
    const headers = opts.waitSeconds === undefined ? undefined : { prefer: `wait=${opts.waitSeconds}` };
    return this.#http.json('GET', `/v1/jobs/${encodeURIComponent(id)}`, {
      headers,
      retryable: true,
      signal: opts.signal,
    });
  }

  /** Asks the job to stop; the answer is the job as it is now (it may still be stopping). */
  cancel(id: string, opts: { signal?: AbortSignal } = {}): Promise<JobRecord> {
    return this.#http.json('DELETE', `/v1/jobs/${encodeURIComponent(id)}`, {
      retryable: true,
      signal: opts.signal,
    });
  }

  /**
   * Resolves with the job once it is final (succeeded, failed or canceled). Listens to the job's
   * server-sent events; when they break off or are not offered, falls back to `Prefer: wait`.
   */
  async wait(id: string, opts: WaitOptions = {}): Promise<JobRecord> {
    const signals = [opts.signal, opts.timeoutMs ? AbortSignal.timeout(opts.timeoutMs) : undefined];
    const signal = AbortSignal.any(signals.filter((s): s is AbortSignal => s !== undefined));
    const seen = (job: JobRecord) => {
      opts.onStatus?.(job);
      return isFinal(job);
    };
    const streamed = await this.#viaEvents(id, signal, seen).catch((err: unknown) => {
      if (signal.aborted) throw signal.reason as Error;
      if (err instanceof SwitchyardApiError && err.status >= 400 && err.status < 500) throw err;
      return undefined; // the stream broke off: poll instead
    });
    if (streamed) return streamed;
    for (;;) {
      const job = await this.get(id, { waitSeconds: POLL_WAIT_SECONDS, signal });
      if (seen(job)) return job;
    }
  }

  /** The final job from `GET /v1/jobs/{id}/events`, or undefined when the stream ended before it. */
  async #viaEvents(
    id: string,
    signal: AbortSignal,
    seen: (job: JobRecord) => boolean,
  ): Promise<JobRecord | undefined> {
    const res = await this.#http.send('GET', `/v1/jobs/${encodeURIComponent(id)}/events`, {
      headers: { accept: 'text/event-stream' },
      retryable: true,
      signal,
    });
    if (!res.body || !res.headers.get('content-type')?.startsWith('text/event-stream')) {
      await res.body?.cancel();
      return undefined;
    }
    let final: JobRecord | undefined;
    const parser = createParser({
      onEvent: (event) => {
        if (event.event !== 'status' || final) return;
        const job = JSON.parse(event.data) as JobRecord;
        if (seen(job)) final = job;
      },
    });
    const decoder = new TextDecoder();
    for await (const chunk of res.body) {
      parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
      if (final) break;
    }
    if (final) await res.body.cancel().catch(() => undefined);
    return final;
  }
}
