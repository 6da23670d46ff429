import type { IncomingMessage, ServerResponse } from 'node:http';
import { notModified, validatorsOf } from './conditional.ts';
import { fixture, FIXTURES, isFixtureName, type FixtureName } from './fixtures.ts';
import { listen, pause } from './http-server.ts';
import { IpPolicy, type RateLimitConfig } from './ip-policy.ts';
import { challengeHtml, DEFAULT_ROBOTS_TXT, pageHtml, simpleHtml } from './site-pages.ts';
import { SiteLedger, type SiteStats } from './site-stats.ts';
import { RequestLog, type SiteRequest } from './request-log.ts';
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
  /** Every request received, in arrival order (path, source IP, start and end). */
  requestLog(): SiteRequest[];
  clearRequestLog(): void;
  /** `/robots.txt` answers this status (e.g. 503) instead of the file; null: the file again. */
  setRobotsStatus(status: number | null): void;
  /**
   * Every request (robots.txt included) answers `status` (default 503) with `Retry-After`, for the
   * next `count` requests (default: until `setOutage(null)`).
   */
  setOutage(outage: Outage | null): void;
  close(): Promise<void>;
}

/** An outage served on demand: see `MockSite.setOutage`. */
export interface Outage {
  status?: number;
  retryAfterSeconds?: number;
  count?: number;
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

type Send = (status: number, type: string, body: string | Buffer, headers?: Record<string, string>) => void;

/** One request's view: who asked, for what, and how to answer (counted in the ledger). */
interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  ip: string;
  url: URL;
  signal: AbortSignal;
  send: Send;
  notFound(): void;
  badRequest(why: string): void;
}

/** The site's state (ledger, per-IP policy, robots.txt) and its pages. */
class MockSiteServer {
  readonly ledger = new SiteLedger();
  readonly policy = new IpPolicy();
  robotsTxt: string | null;
  readonly log = new RequestLog();
  robotsStatus: number | null = null;
  outage: Outage | null = null;

  constructor(opts: MockSiteOptions) {
    this.policy.setRateLimit(opts.rateLimit);
    this.robotsTxt = opts.robotsTxt === undefined ? DEFAULT_ROBOTS_TXT : opts.robotsTxt;
  }

  async handle(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const ip = sourceIp(req);
    const url = new URL(req.url ?? '/', 'http://mock-site');
    const logged = this.log.open(ip, url.pathname + url.search);
    res.once('close', () => this.log.close(logged, res.headersSent ? res.statusCode : undefined));
    const send: Send = (status, type, body, headers = {}) => {
      this.ledger.record(ip, status < 400 ? 'ok' : 'other');
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...headers });
      res.end(body);
    };
    const x: Exchange = {
      req,
      res,
      ip,
      url,
      signal,
      send,
      notFound: () => send(404, HTML, simpleHtml('Not found', `No page at ${url.pathname}.`)),
      badRequest: (why) => send(400, HTML, simpleHtml('Bad request', why)),
    };
    if (this.refused(x)) return;
    if (this.inOutage(x)) return;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(405, 'text/plain', 'method not allowed', { allow: 'GET, HEAD' });
    }
    return this.route(x);
  }

  /** Answers a blocked (403 challenge) or rate-limited (429) source; true when it did. */
  private refused({ res, ip }: Exchange): boolean {
    const verdict = this.policy.check(ip);
    if (verdict.kind === 'allow') return false;
    const blocked = verdict.kind === 'blocked';
    this.ledger.record(ip, blocked ? 'blocked' : 'rate_limited');
    const body = blocked ? challengeHtml() : simpleHtml('Too many requests', 'Slow down.');
    res.writeHead(blocked ? 403 : 429, {
      'content-type': HTML,
      'content-length': Buffer.byteLength(body),
      ...(verdict.kind === 'blocked'
        ? { 'cf-mitigated': 'challenge' }
        : { 'retry-after': String(verdict.retryAfterSeconds) }),
    });
    res.end(body);
    return true;
  }

  /** Answers the outage status with Retry-After while one is set; true when it did. */
  private inOutage(x: Exchange): boolean {
    const o = this.outage;
    if (!o) return false;
    if (o.count !== undefined && --o.count <= 0) this.outage = null;
    const retryAfter = { 'retry-after': String(o.retryAfterSeconds ?? 1) };
    x.send(o.status ?? 503, HTML, simpleHtml('Unavailable', 'Come back later.'), retryAfter);
    return true;
  }

  private async route(x: Exchange): Promise<void> {
    const { url, send } = x;
    const [, first, second, ...rest] = url.pathname.split('/');
    if (url.pathname === '/') return send(200, HTML, pageHtml(0));
    if (first === 'page' && second !== undefined && rest.length === 0) {
      const n = intParam(second);
      return n === undefined ? x.notFound() : send(200, HTML, pageHtml(n));
    }
    if (url.pathname === '/robots.txt') {
      if (this.robotsStatus !== null) return send(this.robotsStatus, 'text/plain', 'robots unavailable');
      return this.robotsTxt === null ? x.notFound() : send(200, 'text/plain; charset=utf-8', this.robotsTxt);
    }
    if (first === 'fixtures' && second !== undefined && rest.length === 0) {
      if (!isFixtureName(second)) return x.notFound();
      return sendFixture(x, second);
    }
    if (url.pathname === '/slow') return slow(x);
    if (url.pathname === '/redirect') return redirect(x);
    if (first === 'status' && second !== undefined && rest.length === 0) {
      const code = intParam(second);
      if (code === undefined || code < 200 || code > 599) return x.badRequest('status must be 200-599');
      return send(code, 'text/plain', `status ${code}`);
    }
    if (url.pathname === '/big') {
      const bytes = intParam(url.searchParams.get('bytes'));
      if (bytes === undefined || bytes > MAX_BIG_BYTES)
        return x.badRequest(`bytes must be 0-${MAX_BIG_BYTES}`);
      this.ledger.record(x.ip, 'ok');
      return sendBig(x.res, bytes, url.searchParams.get('chunked') === '1');
    }
    x.notFound();
  }
}

/** A fixture with its ETag and Last-Modified; 304 (no body) when the request's validators match. */
function sendFixture(x: Exchange, name: FixtureName): void {
  const body = fixture(name);
  const v = validatorsOf(body);
  const headers = { etag: v.etag, 'last-modified': v.lastModified };
  if (notModified(x.req.headers, v)) return x.send(304, FIXTURES[name], '', headers);
  x.send(200, FIXTURES[name], body, headers);
}

/** `/slow?ms=N`: answers after N ms (default 1000). */
async function slow(x: Exchange): Promise<void> {
  const ms = intParam(x.url.searchParams.get('ms'), 1000);
  if (ms === undefined) return x.badRequest('ms must be a non-negative integer');
  await pause(ms, x.signal);
  if (x.signal.aborted || x.res.destroyed) return;
  x.send(200, HTML, simpleHtml('Slow page', `Answered after ${ms} ms.`));
}

/** `/redirect?to=URL&status=302`. */
function redirect(x: Exchange): void {
  const to = x.url.searchParams.get('to');
  const status = intParam(x.url.searchParams.get('status'), 302);
  if (!to) return x.badRequest('to is required');
  if (status === undefined || ![301, 302, 303, 307, 308].includes(status)) {
    return x.badRequest('status must be 301, 302, 303, 307 or 308');
  }
  x.send(status, HTML, simpleHtml('Moved', `See ${to}.`), { location: to });
}

/** N bytes of `x`, streamed with backpressure; `chunked=1` omits Content-Length. */
async function sendBig(res: ServerResponse, bytes: number, chunked: boolean): Promise<void> {
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

export async function startMockSite(opts: MockSiteOptions = {}): Promise<MockSite> {
  const site = new MockSiteServer(opts);
  const server = await listen(
    (req, res, signal) => site.handle(req, res, signal),
    opts.host ?? '127.0.0.1',
    opts.port ?? 0,
  );
  return {
    url: server.url,
    host: server.host,
    port: server.port,
    stats: () => site.ledger.snapshot(),
    resetStats: () => site.ledger.reset(),
    setRateLimit: (config) => site.policy.setRateLimit(config),
    blockIp: (ip) => site.policy.blockIp(ip),
    unblockIp: (ip) => site.policy.unblockIp(ip),
    setRobotsTxt: (text) => {
      site.robotsTxt = text;
    },
    requestLog: () => site.log.snapshot(),
    clearRequestLog: () => site.log.clear(),
    setRobotsStatus: (status) => {
      site.robotsStatus = status;
    },
    setOutage: (outage) => {
      site.outage = outage ? { ...outage } : null;
    },
    close: () => server.close(),
  };
}
