import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startProxyFleet, type ProxyFleet } from '@switchyard/test-kit';
import { ProxyDispatchers } from './dispatchers.ts';
import { ProxyPoolError } from './errors.ts';

/** A throwaway self-signed certificate for 127.0.0.1, made with the openssl CLI. */
function selfSignedCert(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sy-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const whoAmI = (req: { socket: { remoteAddress?: string } }, res: { end(s?: string): void }) =>
  res.end(req.socket.remoteAddress);

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('ProxyDispatchers through real local proxies', () => {
  let fleet: ProxyFleet;
  let http: Server;
  let https: Server;
  let httpOrigin: string;
  let httpsOrigin: string;
  let cert: string;

  beforeAll(async () => {
    fleet = await startProxyFleet({ count: 2, firstHostOctet: 51, credentials: true });
    http = createServer(whoAmI);
    httpOrigin = `http://127.0.0.1:${await listen(http)}`;
    const tls = selfSignedCert();
    cert = tls.cert;
    https = createHttpsServer(tls, whoAmI);
    httpsOrigin = `https://127.0.0.1:${await listen(https)}`;
  });
  afterAll(async () => {
    await fleet.stop();
    await Promise.all([http, https].map((s) => new Promise((resolve) => s.close(resolve))));
  });

  it('sends http absolute-form and https through CONNECT, from the proxy address, reusing one agent per proxy', async () => {
    const dispatchers = new ProxyDispatchers({ agent: { requestTls: { ca: cert } } });
    try {
      for (const p of fleet.proxies) {
        const target = { proxyId: p.id, proxyUrl: p.url };
        const before = { ...p.stats };
        for (const origin of [httpOrigin, httpsOrigin, httpOrigin]) {
          const res = await request(`${origin}/who`, { dispatcher: dispatchers.get(target) });
          expect(await res.body.text()).toBe(p.sourceIp);
        }
        expect(dispatchers.get(target)).toBe(dispatchers.get({ ...target }));
        expect(p.stats.requests - before.requests).toBe(2);
        // the tunnel is kept alive and reused
        expect(p.stats.connects - before.connects).toBe(1);
      }
      expect(dispatchers.size).toBe(2);
    } finally {
      await dispatchers.close();
    }
    expect(dispatchers.size).toBe(0);
  });

  it('retries nothing: a request the proxy resets fails once and reached the proxy once', async () => {
    const dispatchers = new ProxyDispatchers();
    const p = fleet.get('p52');
    await p.setFault({ resetProbability: 1 });
    try {
      const before = p.stats.requests;
      const dispatcher = dispatchers.get({ proxyId: p.id, proxyUrl: p.url });
      await expect(request(`${httpOrigin}/idempotent`, { method: 'GET', dispatcher })).rejects.toThrow();
      expect(p.stats.requests - before).toBe(1);
      const connects = p.stats.connects;
      await expect(request(`${httpsOrigin}/`, { dispatcher })).rejects.toThrow();
      expect(p.stats.connects - connects).toBe(1);
    } finally {
      await p.setFault('none');
      await dispatchers.close();
    }
  });

  it('a changed URL for the same proxy id gets a new agent; remove and prune close agents', async () => {
    const dispatchers = new ProxyDispatchers();
    const [a, b] = fleet.proxies as [ProxyFleet['proxies'][0], ProxyFleet['proxies'][0]];
    const first = dispatchers.get({ proxyId: 'x', proxyUrl: a.url });
    const second = dispatchers.get({ proxyId: 'x', proxyUrl: b.url });
    expect(second).not.toBe(first);
    expect(await (await request(`${httpOrigin}/`, { dispatcher: second })).body.text()).toBe(b.sourceIp);
    dispatchers.get({ proxyId: 'y', proxyUrl: a.url });
    await dispatchers.prune(['y']);
    expect(dispatchers.size).toBe(1);
    await dispatchers.remove('y');
    expect(dispatchers.size).toBe(0);
  });

  it('refuses SOCKS and other schemes with a clear error that hides credentials', () => {
    const dispatchers = new ProxyDispatchers();
    const err = (() => {
      try {
        dispatchers.get({ proxyId: 's', proxyUrl: 'socks5://me:hunter2@127.0.0.1:1080' });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ProxyPoolError);
    expect(err).toMatchObject({ code: 'PROXY_POOL_UNSUPPORTED_PROTOCOL' });
    expect(String((err as Error).message)).not.toContain('hunter2');
    expect(() => dispatchers.get({ proxyId: 'f', proxyUrl: 'ftp://127.0.0.1:21' })).toThrow(ProxyPoolError);
  });
});
