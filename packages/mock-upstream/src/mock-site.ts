import type { IncomingMessage, ServerResponse } from 'node:http';
import { listen, pause } from './http-server.ts';
import { IpPolicy, type RateLimitConfig } from './ip-policy.ts';
import { challengeHtml, DEFAULT_ROBOTS_TXT, pageHtml, simpleHtml } from './site-pages.ts';
import { SiteLedger, type SiteStats } from './site-stats.ts';
import { sourceIp } from './source-ip.ts';

export interface MockSiteOptions {
  /** Any loopback address, e.g. 127.0.0.5, so several sites can share a port number. Default 127.0.0.1. */
  host?: string;
  port?: number;
  /** Body of `/robots.txt`; `null` answers 404. Default disallows `/private/`. */
  robotsTxt?: string | null;
  rateLimit?: RateLimitConfig;
}

/** A running mock website. See the package README. */
export interface MockSite {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.5:41234`. */
  url: string;
  host: string;
  port: number;
  stats(): SiteStats;
  resetStats(): void;
  setRateLimit(config: RateLimitConfig | null): void;
  blockIp(ip: string): void;
  unblockIp(ip: string): void;
  setRobotsTxt(text: string | null): void;
  close(): Promise<void>;
}

const MAX_BIG_BYTES = 1024 ** 3;
const CHUNK = Buffer.alloc(64 * 1024, 'x');
const HTML = 'text/html; charset=utf-8';

function intParam(value: string | null | undefined, fallback?: number): number | undefined {
  if (value === null || value === undefined || value === '') return fallback;
  return /^\d+$/.test(value) ? Number(value) : undefined;
}

function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

export async function startMockSite(opts: MockSiteOptions = {}): Promise<MockSite> {
  const ledger = new SiteLedger();
  const policy = new IpPolicy();
  policy.setRateLimit(opts.rateLimit);
  let robotsTxt = opts.robotsTxt === undefined ? DEFAULT_ROBOTS_TXT : opts.robotsTxt;

  async function handle(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const ip = sourceIp(req);
    const url = new URL(req.url ?? '/', 'http://mock-site');
    const send = (status: number, type: string, body: string, headers: Record<string, string> = {}) => {
      ledger.record(ip, status < 400 ? 'ok' : 'other');
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...headers });
      res.end(body);
    };
    const notFound = () => send(404, HTML, simpleHtml('Not found', `No page at ${url.pathname}.`));
    const badRequest = (why: string) => send(400, HTML, simpleHtml('Bad request', why));

    const verdict = policy.check(ip);
    if (verdict.kind === 'blocked') {
      ledger.record(ip, 'blocked');
      const body = challengeHtml();
      res.writeHead(403, {
        'content-type': HTML,
        'content-length': Buffer.byteLength(body),
        'cf-mitigated': 'challenge',
      });
      return void res.end(body);
    }
    if (verdict.kind === 'rate_limited') {
      ledger.record(ip, 'rate_limited');
      const body = simpleHtml('Too many requests', 'Slow down.');
      res.writeHead(429, {
        'content-type': HTML,
        'content-length': Buffer.byteLength(body),
        'retry-after': String(verdict.retryAfterSeconds),
      });
      return void res.end(body);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(405, 'text/plain', 'method not allowed', { allow: 'GET, HEAD' });
    }

    const [, first, second, ...rest] = url.pathname.split('/');
    if (url.pathname === '/') return send(200, HTML, pageHtml(0));
    if (first === 'page' && second !== undefined && rest.length === 0) {
      const n = intParam(second);
      return n === undefined ? notFound() : send(200, HTML, pageHtml(n));
    }
    if (url.pathname === '/robots.txt') {
      return robotsTxt === null ? notFound() : send(200, 'text/plain; charset=utf-8', robotsTxt);
    }
    if (url.pathname === '/slow') {
      const ms = intParam(url.searchParams.get('ms'), 1000);
      if (ms === undefined) return badRequest('ms must be a non-negative integer');
      await pause(ms, signal);
      if (signal.aborted || res.destroyed) return;
      return send(200, HTML, simpleHtml('Slow page', `Answered after ${ms} ms.`));
    }
    if (url.pathname === '/redirect') {
      const to = url.searchParams.get('to');
      const status = intParam(url.searchParams.get('status'), 302);
      if (!to) return badRequest('to is required');
      if (status === undefined || ![301, 302, 303, 307, 308].includes(status)) {
        return badRequest('status must be 301, 302, 303, 307 or 308');
      }
      return send(status, HTML, simpleHtml('Moved', `See ${to}.`), { location: to });
    }
    if (first === 'status' && second !== undefined && rest.length === 0) {
      const code = intParam(second);
      if (code === undefined || code < 200 || code > 599) return badRequest('status must be 200-599');
      return send(code, 'text/plain', `status ${code}`);
    }
    if (url.pathname === '/big') {
      const bytes = intParam(url.searchParams.get('bytes'));
      if (bytes === undefined || bytes > MAX_BIG_BYTES) return badRequest(`bytes must be 0-${MAX_BIG_BYTES}`);
      return sendBig(res, ip, bytes, url.searchParams.get('chunked') === '1');
    }
    notFound();
  }

  /** N bytes of `x`, streamed with backpressure; `chunked=1` omits Content-Length. */
  async function sendBig(res: ServerResponse, ip: string, bytes: number, chunked: boolean): Promise<void> {
    ledger.record(ip, 'ok');
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      ...(chunked ? {} : { 'content-length': String(bytes) }),
    });
    if (res.req.method === 'HEAD') return void res.end();
    let left = bytes;
    while (left > 0 && !res.destroyed) {
      const piece = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
      left -= piece.length;
      if (!res.write(piece)) await drainedOrClosed(res);
    }
    res.end();
  }

  const server = await listen(handle, opts.host ?? '127.0.0.1', opts.port ?? 0);
  return {
    url: server.url,
    host: server.host,
    port: server.port,
    stats: () => ledger.snapshot(),
    resetStats: () => ledger.reset(),
    setRateLimit: (config) => policy.setRateLimit(config),
    blockIp: (ip) => policy.blockIp(ip),
    unblockIp: (ip) => policy.unblockIp(ip),
    setRobotsTxt: (text) => {
      robotsTxt = text;
    },
    close: () => server.close(),
  };
}
