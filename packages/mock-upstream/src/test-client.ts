import { request, type IncomingHttpHeaders } from 'node:http';

/** Test-only HTTP client on node:http, so a test can pick its source address (`localAddress`). */

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface SendOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Source address, e.g. 127.0.0.12: all of 127.0.0.0/8 routes to loopback on Linux. */
  localAddress?: string;
  signal?: AbortSignal;
}

/** Resolves with the whole reply; rejects when the connection dies before the body is complete. */
export function send(url: string, opts: SendOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: opts.method ?? 'GET',
        headers: opts.headers,
        localAddress: opts.localAddress,
        signal: opts.signal,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('aborted', () => reject(new Error('response aborted')));
        res.on('end', () => {
          if (!res.complete) return reject(new Error('response incomplete'));
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

export const userMessage = (content: string) => [{ role: 'user', content }];

export function postChat(
  base: string,
  body: Record<string, unknown>,
  opts: SendOptions = {},
): Promise<Reply> {
  return send(`${base}/v1/chat/completions`, {
    ...opts,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...opts.headers },
    body: JSON.stringify({ model: 'mock-small', messages: userMessage('hello mock'), ...body }),
  });
}

/** The `data:` payloads of a server-sent-events body, in order. */
export function sseData(body: string): string[] {
  return body
    .split('\n\n')
    .map((event) => event.trim())
    .filter((event) => event.startsWith('data: '))
    .map((event) => event.slice('data: '.length));
}
