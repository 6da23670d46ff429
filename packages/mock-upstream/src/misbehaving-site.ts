import { createServer, type Server, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';

/**
 * A site that misbehaves the way real servers do, over a raw socket so it can break HTTP itself.
 * The first path segment decides (so `/garbage/v1` works as a model's base URL); any query is ignored:
 * - `/garbage`: bytes that are not HTTP, then the connection closes.
 * - `/cut`: a 200 promising 100 000 bytes, 1 000 sent, then the connection is destroyed.
 * - `/bad-gzip`: a 200 with `Content-Encoding: gzip` whose body is not gzip.
 * - `/bomb`: a 200 with `Content-Encoding: gzip`: ~50 KB that inflate to 50 MB of zeros.
 * - `/loop`: a 302 to itself, forever.
 * - `/reset`: the connection is reset (RST) as soon as the request arrives.
 * - `/gzip`: a small HTML page sent gzip-encoded (a well-behaved control).
 * - `/chat-gzip`: an OpenAI chat completion (`ok`, 3 + 1 tokens) sent gzip-encoded.
 * Anything else: 404.
 */
export interface MisbehavingSite {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.9:41234`. */
  url: string;
  host: string;
  port: number;
  /** Requests received, by first path segment (`/garbage`). */
  hits(path: string): number;
  close(): Promise<void>;
}

export const BOMB_INFLATED_BYTES = 50 * 1024 * 1024;
const CHAT = JSON.stringify({
  id: 'chatcmpl-gzip',
  object: 'chat.completion',
  model: 'mock-small',
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
});
const PAGE =
  '<!doctype html><html><head><title>Gzip page</title></head><body><p>Decoded fine.</p></body></html>';

let bomb: Promise<Buffer> | undefined;
/** The bomb, gzipped as a stream once per process (50 MB of zeros is never held whole). */
function gzipBomb(): Promise<Buffer> {
  bomb ??= (async () => {
    const zeros = Buffer.alloc(1024 * 1024);
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < BOMB_INFLATED_BYTES / zeros.length; i++) yield zeros;
      })(),
    );
    const parts: Buffer[] = [];
    for await (const c of source.pipe(zlib.createGzip())) parts.push(c as Buffer);
    return Buffer.concat(parts);
  })();
  return bomb;
}

function head(status: string, headers: Record<string, string | number>): string {
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}`);
  return [`HTTP/1.1 ${status}`, ...lines, 'connection: close', '', ''].join('\r\n');
}

/** A 200 that says `Content-Encoding: gzip` for `body` (gzipped by the caller, or not). */
function gzipped(socket: Socket, type: string, body: Buffer): void {
  const headers = { 'content-type': type, 'content-encoding': 'gzip', 'content-length': body.length };
  socket.end(Buffer.concat([Buffer.from(head('200 OK', headers)), body]));
}

async function answer(socket: Socket, path: string): Promise<void> {
  const html = { 'content-type': 'text/html; charset=utf-8' };
  const HTML = html['content-type'];
  switch (path) {
    case '/garbage':
      socket.end('SSH-2.0-OpenSSH_9.6\r\n\x00\x01\x02 definitely not HTTP\r\n\r\n');
      return;
    case '/cut':
      socket.write(head('200 OK', { ...html, 'content-length': 100_000 }));
      socket.write('<p>' + 'x'.repeat(996) + '\n');
      setTimeout(() => socket.destroy(), 50);
      return;
    case '/bad-gzip':
      return gzipped(socket, HTML, Buffer.from('this body says gzip but is plain text'));
    case '/bomb':
      return gzipped(socket, HTML, await gzipBomb());
    case '/gzip':
      return gzipped(socket, HTML, zlib.gzipSync(PAGE));
    case '/chat-gzip':
      return gzipped(socket, 'application/json', zlib.gzipSync(CHAT));
    case '/loop':
      socket.end(head('302 Found', { location: '/loop', 'content-length': 0 }));
      return;
    case '/reset':
      socket.resetAndDestroy();
      return;
    default:
      socket.end(head('404 Not Found', { 'content-length': 0 }));
  }
}

export async function startMisbehavingSite(opts: { host?: string } = {}): Promise<MisbehavingSite> {
  const host = opts.host ?? '127.0.0.1';
  const counts = new Map<string, number>();
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = Buffer.alloc(0);
    // The whole request (a POST's body too) is read before answering: closing a socket with
    // unread bytes resets it, which would hide the answer.
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const text = buffered.subarray(0, end).toString('latin1');
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(text)?.[1] ?? 0);
      if (buffered.length < end + 4 + length) return;
      socket.off('data', onData);
      const target = /^[A-Z]+ (\S+) HTTP\/1\.[01]/.exec(text)?.[1] ?? '/';
      const path = `/${new URL(target, 'http://site').pathname.split('/')[1] ?? ''}`;
      counts.set(path, (counts.get(path) ?? 0) + 1);
      void answer(socket, path).catch(() => socket.destroy());
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://${host}:${port}`,
    host,
    port,
    hits: (path) => counts.get(path) ?? 0,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
