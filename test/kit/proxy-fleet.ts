import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { connect, isIPv4, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * What a fleet proxy does wrong: nothing; `dead` (listener closed, sockets destroyed);
 * `auth` (407 to everything); `slowMs` (waits before serving); `resetProbability` (destroys that
 * share of requests and tunnels at random).
 */
export type ProxyFault = 'none' | 'dead' | 'auth' | { slowMs: number } | { resetProbability: number };

export interface ProxyCredentials {
  username: string;
  password: string;
}

export interface FleetProxy {
  readonly id: string;
  /** `http://[user:pass@]127.0.0.N:port` */
  readonly url: string;
  /** The loopback address it listens on and sends upstream traffic from. */
  readonly sourceIp: string;
  readonly port: number;
  readonly credentials: ProxyCredentials | undefined;
  /** Absolute-form requests and CONNECT tunnels that reached it (refused ones included). */
  readonly stats: { requests: number; connects: number };
  /** Applies a fault; resolves once a `dead` proxy has closed (or a revived one listens again). */
  setFault(fault: ProxyFault): Promise<void>;
  /** Listens again on the same address and port after `dead`. */
  revive(): Promise<void>;
}

export interface ProxyFleet {
  readonly proxies: FleetProxy[];
  get(id: string): FleetProxy;
  stop(): Promise<void>;
}

export interface StartProxyFleetOptions {
  count: number;
  /** The first proxy listens on 127.0.0.<firstHostOctet>, the next one on the following address. */
  firstHostOctet?: number;
  /** Basic-auth credentials per proxy: `true` makes random ones for every proxy. */
  credentials?: boolean | ((index: number) => ProxyCredentials | undefined);
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authorization',
  'proxy-authenticate',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
]);

/** Fleet proxies only ever reach loopback: `localhost`, `*.localhost` or 127.0.0.0/8. */
function loopbackTarget(host: string): string | undefined {
  const h = host.toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return '127.0.0.1';
  if (isIPv4(h) && h.startsWith('127.')) return h;
  return undefined;
}

function splitHostPort(authority: string): { host: string; port: number } | undefined {
  const m = /^([^:]+):(\d+)$/.exec(authority);
  return m?.[1] && m[2] ? { host: m[1], port: Number(m[2]) } : undefined;
}

class FleetProxyServer implements FleetProxy {
  readonly id: string;
  readonly sourceIp: string;
  readonly credentials: ProxyCredentials | undefined;
  readonly stats = { requests: 0, connects: 0 };
  port = 0;
  readonly #server: Server;
  readonly #sockets = new Set<Duplex>();
  #fault: ProxyFault = 'none';
  #listening = false;

  constructor(id: string, sourceIp: string, credentials: ProxyCredentials | undefined) {
    this.id = id;
    this.sourceIp = sourceIp;
    this.credentials = credentials;
    this.#server = createServer({ keepAlive: true });
    this.#server.on('connection', (socket: Socket) => this.#track(socket));
    this.#server.on('request', (req, res) => {
      void this.#onRequest(req, res);
    });
    this.#server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.#onConnect(req, socket, head);
    });
  }

  get url(): string {
    const c = this.credentials;
    const auth = c ? `${encodeURIComponent(c.username)}:${encodeURIComponent(c.password)}@` : '';
    return `http://${auth}${this.sourceIp}:${this.port}`;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.port, this.sourceIp, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const addr = this.#server.address();
    if (addr && typeof addr === 'object') this.port = addr.port;
    this.#listening = true;
  }

  async setFault(fault: ProxyFault): Promise<void> {
    this.#fault = fault;
    if (fault === 'dead') await this.close();
    else if (!this.#listening) await this.listen();
  }

  async revive(): Promise<void> {
    this.#fault = 'none';
    if (!this.#listening) await this.listen();
  }

  async close(): Promise<void> {
    if (!this.#listening) return;
    this.#listening = false;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const s of this.#sockets) s.destroy();
    this.#server.closeAllConnections();
    await closed;
  }

  #track(socket: Duplex): void {
    if (this.#sockets.has(socket)) return; // a keep-alive upstream socket is reused per request
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  /** Applies the current fault; true when the caller should stop (the client was answered). */
  async #misbehave(client: Duplex): Promise<boolean> {
    const fault = this.#fault;
    if (typeof fault === 'object' && 'slowMs' in fault) await sleep(fault.slowMs);
    if (typeof fault === 'object' && 'resetProbability' in fault && Math.random() < fault.resetProbability) {
      client.destroy();
      return true;
    }
    return false;
  }

  #authorized(req: IncomingMessage): boolean {
    if (this.#fault === 'auth') return false;
    const c = this.credentials;
    if (!c) return true;
    const expected = `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
    return req.headers['proxy-authorization'] === expected;
  }

  async #onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.stats.requests++;
    if (await this.#misbehave(req.socket)) return;
    if (!this.#authorized(req)) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="fleet"' }).end();
      return;
    }
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end('absolute-form request target required');
      return;
    }
    const address = target.protocol === 'http:' ? loopbackTarget(target.hostname) : undefined;
    if (!address) {
      res.writeHead(403).end('fleet proxies only reach http:// loopback targets');
      return;
    }
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !HOP_BY_HOP.has(k)));
    const upstream = httpRequest(
      {
        host: address,
        port: Number(target.port || 80),
        method: req.method,
        path: `${target.pathname}${target.search}`,
        headers,
        localAddress: this.sourceIp,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
        // A body the target cuts short is cut short to the client too, as a real proxy does.
        up.once('aborted', () => res.destroy());
        up.on('error', () => res.destroy());
      },
    );
    upstream.on('socket', (s) => this.#track(s));
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    req.pipe(upstream);
  }

  async #onConnect(req: IncomingMessage, client: Duplex, head: Buffer): Promise<void> {
    this.stats.connects++;
    this.#track(client);
    client.on('error', () => undefined);
    if (await this.#misbehave(client)) return;
    if (!this.#authorized(req)) {
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="fleet"\r\n\r\n',
      );
      return;
    }
    const target = splitHostPort(req.url ?? '');
    const address = target && loopbackTarget(target.host);
    if (!target || !address) {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const upstream = connect({ host: address, port: target.port, localAddress: this.sourceIp });
    this.#track(upstream);
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => {
      if (upstream.connecting) client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
      else client.destroy();
    });
    client.on('close', () => upstream.destroy());
  }
}

/**
 * Starts `count` forward proxies on 127.0.0.<firstHostOctet>, 127.0.0.<firstHostOctet + 1>, ...
 * Each sends its upstream traffic from its own address, so a target server tells them apart by
 * source IP. They serve absolute-form http requests and CONNECT tunnels, to loopback targets only.
 */
export async function startProxyFleet(opts: StartProxyFleetOptions): Promise<ProxyFleet> {
  const first = opts.firstHostOctet ?? 11;
  if (!Number.isInteger(opts.count) || opts.count < 1 || first < 2 || first + opts.count - 1 > 254) {
    throw new Error('proxy fleet: count and firstHostOctet must stay within 127.0.0.2-254');
  }
  const credsFor = (i: number): ProxyCredentials | undefined => {
    if (typeof opts.credentials === 'function') return opts.credentials(i);
    if (opts.credentials) return { username: `user${i}`, password: randomBytes(9).toString('base64url') };
    return undefined;
  };
  const proxies = Array.from({ length: opts.count }, (_, i) => {
    const octet = first + i;
    return new FleetProxyServer(`p${octet}`, `127.0.0.${octet}`, credsFor(i));
  });
  try {
    await Promise.all(proxies.map((p) => p.listen()));
  } catch (err) {
    await Promise.all(proxies.map((p) => p.close()));
    throw err;
  }
  return {
    proxies,
    get(id) {
      const p = proxies.find((x) => x.id === id);
      if (!p) throw new Error(`no fleet proxy ${id}`);
      return p;
    },
    async stop() {
      await Promise.all(proxies.map((p) => p.close()));
    },
  };
}
