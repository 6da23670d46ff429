import { Readable, pipeline, type Transform } from 'node:stream';
import zlib from 'node:zlib';

/** What every upstream call asks for: the codings Node's zlib decodes as a stream. */
export const ACCEPT_ENCODING = 'gzip, deflate, br, zstd';

/** The body's Content-Encoding could not be decoded: corrupt, truncated, or a coding we never asked for. */
export class ContentDecodingError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ContentDecodingError';
  }
}

/** The body passed the byte cap (decoded, or on the wire); the download was stopped there. */
export class ResponseTooLargeError extends Error {
  readonly maxBytes: number;
  constructor(maxBytes: number) {
    super(`the response exceeded ${maxBytes} bytes`);
    this.name = 'ResponseTooLargeError';
    this.maxBytes = maxBytes;
  }
}

/**
 * A zlib stream is a 2-byte header with method 8 whose big-endian value is a multiple of 31;
 * anything else sent as `deflate` is taken as raw deflate (servers send both).
 */
const isZlibHeader = (b: Buffer) =>
  b.length >= 2 && (b[0]! & 0x0f) === 8 && ((b[0]! << 8) | b[1]!) % 31 === 0;

function decoderFor(coding: string, first: Buffer | undefined): Transform | undefined {
  switch (coding) {
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip();
    case 'deflate':
      return !first || isZlibHeader(first) ? zlib.createInflate() : zlib.createInflateRaw();
    case 'br':
      return zlib.createBrotliDecompress();
    case 'zstd':
      // RFC 9659: a zstd content coding's window is at most 8 MB; a frame asking for more (a
      // memory bomb before any output) is refused instead of allocated.
      return zlib.createZstdDecompress({ params: { [zlib.constants.ZSTD_d_windowLogMax]: 23 } });
    default:
      return undefined;
  }
}

/** The codings of a Content-Encoding header in the order they were applied (`identity` dropped). */
export function contentCodings(header: string | string[] | undefined): string[] {
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  return value
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c && c !== 'identity');
}

export interface DecodedBody {
  /** The decoded body (the first `maxBytes` with `truncate`). */
  body: Buffer;
  /** Bytes received on the wire: what a proxy carries and bills. */
  wireBytes: number;
}

export interface ReadDecodedOptions {
  /** The response's Content-Encoding header. */
  contentEncoding: string | string[] | undefined;
  /** Cap on the decoded body, applied as it streams (and on the wire bytes, which a hostile
   * coding could make far larger than what they decode to). */
  maxBytes: number;
  /** Past `maxBytes`, keep the first `maxBytes` instead of failing. */
  truncate?: boolean;
}

/** Counts the wire bytes; remembers whether the wire itself failed (that error is not a decoding one). */
class WireCounter {
  bytes = 0;
  failed = false;

  async *count(first: Buffer, rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
    this.bytes += first.length;
    yield first;
    try {
      for (let r = await rest.next(); !r.done; r = await rest.next()) {
        this.bytes += r.value.length;
        yield r.value;
      }
    } catch (err) {
      this.failed = true;
      throw err;
    }
  }
}

type Source = AsyncIterable<Buffer> & { destroy?: (err?: Error) => void };

/**
 * A response body with its Content-Encoding undone by Node's streaming decoders as it arrives:
 * iterate it for the decoded chunks. An empty body is never decoded (a HEAD, a 304). A body that
 * does not decode throws ContentDecodingError; a failure of the wire itself (reset, timeout,
 * abort) is rethrown as it is. Stopping early tears the decoders and the source down.
 */
export class DecodedBodyStream implements AsyncIterable<Buffer> {
  readonly #source: Source;
  readonly #codings: string[];
  readonly #wire = new WireCounter();

  constructor(source: Source, contentEncoding: string | string[] | undefined) {
    this.#source = source;
    this.#codings = contentCodings(contentEncoding);
  }

  /** Bytes received on the wire so far: what a proxy carries and bills. */
  get wireBytes(): number {
    return this.#wire.bytes;
  }

  /** Stops reading the wire. */
  destroy(): void {
    this.#source.destroy?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    const iterator = this.#source[Symbol.asyncIterator]();
    const head = await iterator.next();
    if (head.done) return;
    // Applied in order, so undone in reverse.
    const undo = [...this.#codings].reverse();
    const decoders = undo.map((c, i) => decoderFor(c, i === 0 ? head.value : undefined));
    const unknown = undo.find((_, i) => !decoders[i]);
    if (unknown !== undefined) {
      this.destroy();
      throw new ContentDecodingError(`the body has an unsupported Content-Encoding "${unknown}"`);
    }
    const wired = this.#wire.count(head.value, iterator);
    if (!decoders.length) return yield* wired;
    // pipeline() owns every stream's errors and tears the chain down when the reader stops
    // early; the reader sees the first error through the last stream.
    const chain = decoders as Transform[];
    pipeline([Readable.from(wired), ...chain], () => undefined);
    try {
      for await (const chunk of chain.at(-1) as AsyncIterable<Buffer>) yield chunk;
    } catch (err) {
      if (this.#wire.failed) throw err;
      const what = this.#codings.join(', ');
      throw new ContentDecodingError(`the body could not be decoded as ${what}`, { cause: err });
    }
  }
}

/**
 * Reads a whole response body, decoded as it streams (see DecodedBodyStream). The cap applies to
 * the decoded bytes while they stream, so a decompression bomb stops at `maxBytes` and is never
 * inflated in memory; past it, ResponseTooLargeError (or, with `truncate`, the first `maxBytes`).
 */
export async function readDecoded(source: Source, opts: ReadDecodedOptions): Promise<DecodedBody> {
  const decoded = new DecodedBodyStream(source, opts.contentEncoding);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of decoded) {
    total += chunk.length;
    if (total > opts.maxBytes || decoded.wireBytes > opts.maxBytes) {
      decoded.destroy();
      if (!opts.truncate) throw new ResponseTooLargeError(opts.maxBytes);
      chunks.push(chunk.subarray(0, Math.max(0, chunk.length - (total - opts.maxBytes))));
      return { body: Buffer.concat(chunks), wireBytes: decoded.wireBytes };
    }
    chunks.push(chunk);
  }
  return { body: Buffer.concat(chunks, total), wireBytes: decoded.wireBytes };
}
