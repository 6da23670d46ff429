import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  ContentDecodingError,
  ResponseTooLargeError,
  contentCodings,
  readDecoded,
} from './content-decoding.ts';

const PAGE = Buffer.from('<html><body>' + '<p>hello, compressed world</p>'.repeat(2_000) + '</body></html>');

/** Streamed zstd with a 128 MB window (a one-shot compress shrinks the window to the input). */
async function zstdWindow27(input: Buffer): Promise<Buffer> {
  const z = zlib.createZstdCompress({ params: { [zlib.constants.ZSTD_c_windowLog]: 27 } });
  const parts: Buffer[] = [];
  z.on('data', (d: Buffer) => parts.push(d));
  const done = new Promise((resolve) => z.on('end', resolve));
  z.end(input);
  await done;
  return Buffer.concat(parts);
}

const ZSTD_BIG_WINDOW = await zstdWindow27(PAGE);

/** A body as undici hands it over: chunks of at most `size` bytes. */
const chunked = (buf: Buffer, size = 4096) => {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) parts.push(buf.subarray(i, i + size));
  return Readable.from(parts);
};

describe('readDecoded: compressed bodies decoded as they stream', () => {
  it.each<[string, string, Buffer]>([
    ['gzip', 'gzip', zlib.gzipSync(PAGE)],
    ['deflate (zlib-wrapped, as the RFC says)', 'deflate', zlib.deflateSync(PAGE)],
    ['deflate sent raw (as some servers do)', 'deflate', zlib.deflateRawSync(PAGE)],
    ['br', 'br', zlib.brotliCompressSync(PAGE)],
    ['zstd', 'zstd', zlib.zstdCompressSync(PAGE)],
    ['two codings, undone in reverse', 'gzip, br', zlib.brotliCompressSync(zlib.gzipSync(PAGE))],
    ['identity', 'identity', PAGE],
    ['no Content-Encoding', '', PAGE],
  ])('%s', async (_name, coding, wire) => {
    const out = await readDecoded(chunked(wire), { contentEncoding: coding, maxBytes: 10_000_000 });
    expect(out.body.equals(PAGE)).toBe(true);
    expect(out.wireBytes).toBe(wire.length);
  });

  it('a gzip bomb stops at the cap on decoded bytes, having read only the start of the wire', async () => {
    // 200 MB of zeros, gzipped as a stream (never whole in memory): ~200 KB on the wire.
    const zeros = Buffer.alloc(1 << 20);
    const gz = Readable.from(
      (function* () {
        for (let i = 0; i < 200; i++) yield zeros;
      })(),
    ).pipe(zlib.createGzip());
    const parts: Buffer[] = [];
    for await (const c of gz) parts.push(c as Buffer);
    const bomb = Buffer.concat(parts);
    const source = chunked(bomb, 1024);
    let read = 0;
    source.on('data', (c: Buffer) => (read += c.length));
    const err = await readDecoded(source, { contentEncoding: 'gzip', maxBytes: 1_000_000 }).catch((e) => e);
    expect(err).toBeInstanceOf(ResponseTooLargeError);
    expect(read).toBeLessThan(bomb.length / 2);
    expect(source.destroyed).toBe(true);
  });

  it('with truncate, keeps exactly the first maxBytes decoded bytes', async () => {
    const out = await readDecoded(chunked(zlib.gzipSync(PAGE)), {
      contentEncoding: 'gzip',
      maxBytes: 1000,
      truncate: true,
    });
    expect(out.body.equals(PAGE.subarray(0, 1000))).toBe(true);
  });

  it('the wire bytes are capped too (a coding can make them far more than they decode to)', async () => {
    const err = await readDecoded(chunked(PAGE), { contentEncoding: undefined, maxBytes: 100 }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(ResponseTooLargeError);
  });

  it.each<[string, string, Buffer]>([
    ['bytes that are not gzip', 'gzip', Buffer.from('this is not gzip at all, just text')],
    ['a gzip body cut short', 'gzip', zlib.gzipSync(PAGE).subarray(0, -4)],
    ['bytes that are not brotli', 'br', Buffer.from('\xff\xff\xff\xff not brotli', 'latin1')],
    ['bytes that are not zstd', 'zstd', Buffer.from('not zstd either')],
    ['a coding never asked for', 'compress', Buffer.from('whatever')],
    ['a zstd frame asking for a window over 8 MB (RFC 9659)', 'zstd', ZSTD_BIG_WINDOW],
  ])('%s → ContentDecodingError', async (_name, coding, wire) => {
    const err = await readDecoded(chunked(wire), { contentEncoding: coding, maxBytes: 1_000_000 }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(ContentDecodingError);
  });

  it('an empty body is not decoded (a HEAD or a 304 that names a coding)', async () => {
    const out = await readDecoded(Readable.from([]), { contentEncoding: 'gzip', maxBytes: 10 });
    expect(out).toEqual({ body: Buffer.alloc(0), wireBytes: 0 });
  });

  it('a failure of the wire itself is not a decoding failure', async () => {
    const reset = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
    const gz = zlib.gzipSync(PAGE);
    const source = Readable.from(
      (async function* () {
        yield gz.subarray(0, 100);
        throw reset;
      })(),
    );
    await expect(readDecoded(source, { contentEncoding: 'gzip', maxBytes: 1_000_000 })).rejects.toBe(reset);
  });

  it('parses Content-Encoding lists', () => {
    expect(contentCodings('gzip, identity ,BR')).toEqual(['gzip', 'br']);
    expect(contentCodings(undefined)).toEqual([]);
  });
});
