import { createServer, request as httpRequest, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProxyAgent, request } from 'undici';
import { startProxyFleet, type ProxyFleet } from './proxy-fleet.ts';

/** An http server on 127.0.0.1 that answers with the address the request came from. */
async function whoAmIServer(): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => res.end(req.socket.remoteAddress));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (!addr || typeof addr !== 'object') throw new Error('no address');
  return { server, origin: `http://127.0.0.1:${addr.port}` };
}

async function fetchVia(proxyUrl: string, url: string, proxyTunnel = false) {
  const agent = new ProxyAgent({ uri: proxyUrl, proxyTunnel });
  try {
    const res = await request(url, { dispatcher: agent });
    return { status: res.statusCode, body: await res.body.text() };
  } finally {
    await agent.close();
  }
}

describe('proxy fleet', () => {
  let fleet: ProxyFleet;
  let target: { server: Server; origin: string };

  beforeAll(async () => {
    fleet = await startProxyFleet({ count: 3 });
    target = await whoAmIServer();
  });
  afterAll(async () => {
    await fleet.stop();
    await new Promise((resolve) => target.server.close(resolve));
  });

  it('listens on 127.0.0.11, .12, .13 with ids naming the address', () => {
    expect(fleet.proxies.map((p) => [p.id, p.sourceIp])).toEqual([
      ['p11', '127.0.0.11'],
      ['p12', '127.0.0.12'],
      ['p13', '127.0.0.13'],
    ]);
    expect(fleet.proxies[0]?.url).toMatch(/^http:\/\/127\.0\.0\.11:\d+$/);
  });

  it('an absolute-form request through proxy N reaches the target from 127.0.0.N', async () => {
    for (const p of fleet.proxies) {
      const before = p.stats.requests;
      const res = await fetchVia(p.url, `${target.origin}/who`);
      expect(res).toEqual({ status: 200, body: p.sourceIp });
      expect(p.stats.requests).toBe(before + 1);
    }
  });

  it('a CONNECT tunnel through proxy N reaches the target from 127.0.0.N', async () => {
    const p = fleet.get('p12');
    const before = p.stats.connects;
    const res = await fetchVia(p.url, `${target.origin}/who`, true);
    expect(res).toEqual({ status: 200, body: '127.0.0.12' });
    expect(p.stats.connects).toBe(before + 1);
  });

  it('a CONNECT tunnel carries raw TCP from 127.0.0.N', async () => {
    const tcp: TcpServer = createTcpServer((s) => s.end(`from ${s.remoteAddress}`));
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    const port = (tcp.address() as AddressInfo).port;
    const p = fleet.get('p13');
    try {
      const line = await new Promise<string>((resolve, reject) => {
        const req = httpRequest({
          host: p.sourceIp,
          port: p.port,
          method: 'CONNECT',
          path: `127.0.0.1:${port}`,
        });
        req.on('connect', (res, socket, head: Buffer) => {
          if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
          let data = head.toString();
          socket.on('data', (d: Buffer) => (data += d.toString()));
          socket.on('end', () => resolve(data));
          socket.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
      expect(line).toBe('from 127.0.0.13');
    } finally {
      await new Promise((resolve) => tcp.close(resolve));
    }
  });

  it('refuses targets outside loopback', async () => {
    const res = await fetchVia(fleet.get('p11').url, 'http://example.com/');
    expect(res.status).toBe(403);
  });
});

describe('proxy fleet faults', () => {
  let target: { server: Server; origin: string };
  beforeAll(async () => {
    target = await whoAmIServer();
  });
  afterAll(async () => {
    await new Promise((resolve) => target.server.close(resolve));
  });

  it('proxies with credentials answer 407 without them and serve with them', async () => {
    const fleet = await startProxyFleet({ count: 1, firstHostOctet: 21, credentials: true });
    try {
      const p = fleet.proxies[0]!;
      expect(p.credentials).toBeDefined();
      expect(p.url).toContain(`${p.credentials?.username}:`);
      expect((await fetchVia(p.url, target.origin)).body).toBe('127.0.0.21');
      const bare = `http://${p.sourceIp}:${p.port}`;
      await expect(fetchVia(bare, target.origin)).rejects.toThrow(/407/);
    } finally {
      await fleet.stop();
    }
  });

  it('the auth fault answers 407 even with the right credentials', async () => {
    const fleet = await startProxyFleet({ count: 1, firstHostOctet: 22 });
    try {
      const p = fleet.proxies[0]!;
      await p.setFault('auth');
      await expect(fetchVia(p.url, target.origin)).rejects.toThrow(/407/);
      await expect(fetchVia(p.url, target.origin, true)).rejects.toThrow(/407/);
      await p.setFault('none');
      expect((await fetchVia(p.url, target.origin)).status).toBe(200);
    } finally {
      await fleet.stop();
    }
  });

  it('a dead proxy refuses connections; revive listens on the same address and port', async () => {
    const fleet = await startProxyFleet({ count: 1, firstHostOctet: 23 });
    try {
      const p = fleet.proxies[0]!;
      const { url, port } = p;
      await p.setFault('dead');
      await expect(fetchVia(url, target.origin)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      await p.revive();
      expect(p.port).toBe(port);
      expect((await fetchVia(url, target.origin)).body).toBe('127.0.0.23');
    } finally {
      await fleet.stop();
    }
  });

  it('the slow fault delays the answer', async () => {
    const fleet = await startProxyFleet({ count: 1, firstHostOctet: 24 });
    try {
      const p = fleet.proxies[0]!;
      await p.setFault({ slowMs: 150 });
      const started = performance.now();
      expect((await fetchVia(p.url, target.origin)).status).toBe(200);
      expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    } finally {
      await fleet.stop();
    }
  });

  it('the reset fault destroys connections with the given probability', async () => {
    const fleet = await startProxyFleet({ count: 1, firstHostOctet: 25 });
    try {
      const p = fleet.proxies[0]!;
      await p.setFault({ resetProbability: 1 });
      await expect(fetchVia(p.url, target.origin)).rejects.toThrow();
      await expect(fetchVia(p.url, target.origin, true)).rejects.toThrow();
      await p.setFault({ resetProbability: 0 });
      expect((await fetchVia(p.url, target.origin)).status).toBe(200);
    } finally {
      await fleet.stop();
    }
  });
});
