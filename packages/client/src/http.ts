import { errorFromResponse, SwitchyardApiError } from './errors.ts';

export interface TransportOptions {
  /** The API's base URL, e.g. `http://127.0.0.1:8080` (without `/v1`). */
  baseUrl: string;
  /** A Switchyard API key (`sy_…`), sent as a bearer token. */
  apiKey: string;
  /** Retries of one call after a network error, a 503 or a 429 (default 4); 4xx are never retried. */
  maxRetries?: number;
  /** First retry delay when the answer names no Retry-After (default 500 ms; doubles, jittered). */
  retryDelayMs?: number;
  /** The longest wait between two tries, whatever Retry-After says (default 30 s). */
  maxRetryDelayMs?: number;
  /** A fetch to use instead of the global one. */
  fetch?: typeof fetch;
}

/** A request body: made again for every try, so a stream is never sent twice half-read. */
export type BodySource = () => { body: string | ReadableStream<Uint8Array>; contentType: string };

export interface CallOptions {
  query?: Record<string, string | number | undefined>;
  headers?: Record<string, string>;
  body?: BodySource;
  /**
   * Whether the call may be sent again after the request may have reached the server: true for
   * reads and for writes carrying an Idempotency-Key. A body that can be sent only once
   * (`retryable: false`) is never retried.
   */
  retryable: boolean;
  signal?: AbortSignal;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });

/** Retry-After in ms (delta-seconds or an HTTP date), or undefined. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value === '') return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The HTTP layer: one place that authenticates, retries and turns answers into errors. It is the
 * client's only retry authority: a call is tried at most `maxRetries + 1` times, only after a
 * network error, a 503 or a 429, and only when sending it again cannot do the work twice.
 */
export class Transport {
  readonly #opts: Required<Omit<TransportOptions, 'fetch'>> & { fetch: typeof fetch };

  constructor(opts: TransportOptions) {
    this.#opts = {
      maxRetries: 4,
      retryDelayMs: 500,
      maxRetryDelayMs: 30_000,
      ...opts,
      baseUrl: opts.baseUrl.replace(/\/+$/, ''),
      fetch: opts.fetch ?? globalThis.fetch,
    };
  }

  /** The URL of an API path, with its query (undefined values left out). */
  url(path: string, query: CallOptions['query'] = {}): string {
    const url = new URL(this.#opts.baseUrl + path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    return url.toString();
  }

  /** Sends the call, retrying as described above; resolves with a 2xx response. */
  async send(method: string, path: string, call: CallOptions): Promise<Response> {
    const { maxRetries, retryDelayMs, maxRetryDelayMs } = this.#opts;
    for (let attempt = 0; ; attempt++) {
      const retriesLeft = call.retryable && attempt < maxRetries;
      const backoff = Math.min(maxRetryDelayMs, retryDelayMs * 2 ** attempt * (0.8 + Math.random() * 0.4));
      let res: Response;
      try {
        res = await this.#fetchOnce(method, path, call);
      } catch (err) {
        if (call.signal?.aborted) throw call.signal.reason as Error;
        const cause = (err as Error).cause as { message?: string } | undefined;
        const why = cause?.message ? `${(err as Error).message} (${cause.message})` : (err as Error).message;
        const error = new SwitchyardApiError('network_error', 0, why, { cause: err });
        if (!retriesLeft) throw error;
        await sleep(backoff, call.signal);
        continue;
      }
      if (res.ok) return res;
      const error = await errorFromResponse(res);
      if (!retriesLeft || (res.status !== 503 && res.status !== 429)) throw error;
      const hinted = retryAfterMs(res.headers.get('retry-after'));
      await sleep(Math.min(maxRetryDelayMs, hinted ?? backoff), call.signal);
    }
  }

  /** Sends the call and parses its JSON answer. */
  async json<T>(method: string, path: string, call: CallOptions): Promise<T> {
    const res = await this.send(method, path, call);
    if (res.status === 204) return undefined as T;
    try {
      return (await res.json()) as T;
    } catch (err) {
      throw new SwitchyardApiError('invalid_response', res.status, 'the answer was not JSON', { cause: err });
    }
  }

  #fetchOnce(method: string, path: string, call: CallOptions): Promise<Response> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.#opts.apiKey}`,
      accept: 'application/json',
      ...call.headers,
    };
    const init: RequestInit & { duplex?: 'half' } = { method, headers, signal: call.signal };
    if (call.body) {
      const { body, contentType } = call.body();
      headers['content-type'] = contentType;
      init.body = body;
      // A streamed body needs half-duplex in fetch.
      if (body instanceof ReadableStream) init.duplex = 'half';
    }
    return this.#opts.fetch(this.url(path, call.query), init);
  }
}
