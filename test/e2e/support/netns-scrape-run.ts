/**
 * Runs scrape jobs (and jobs with webhooks) against the SSRF guard inside a network namespace that has only a loopback
 * device (scrape-ssrf-netns.test.ts starts it with `unshare --net --mount`). Nothing here can reach
 * another machine even if the guard were broken: there is no other interface and no route. The
 * forbidden addresses (10.0.0.1, 169.254.169.254, ...) are put on the namespace's loopback with a
 * honeypot listening on them, so a broken guard would show up as a honeypot connection instead of
 * a timeout. A private /etc/hosts (bind-mounted in the private mount namespace) lets the system
 * resolver answer test names, so DNS-based cases go through node:dns like in production.
 *
 * Input: argv[2] = JSON { cases, webhooks, certDir }. Output: one JSON report line on stdout.
 */
import type { JobRecord } from '@switchyard/contracts';
import { ProxyDispatchers } from '@switchyard/proxy-pool';
import { fetchPage, TargetGuard, TargetPolicy } from '@switchyard/scrape';
import { startProxyFleet, spawnRedisServer, type FleetProxy } from '@switchyard/test-kit';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { Agent, type Dispatcher } from 'undici';
import { startTestStack } from './stack.ts';

export interface NetnsCase {
  name: string;
  url: string;
}
export interface NetnsOutcome {
  mode: 'direct' | 'pool';
  name: string;
  /** HTTP status of POST /v1/jobs. */
  admission: number;
  code: string | null;
  status: string | null;
  attempts: number;
  outcomes: string[];
  /** The echo page's JSON for a succeeded job. */
  echo: { host?: string; servername?: string; remote?: string } | null;
  /** Requests and CONNECTs the pool's proxy received while this job ran. */
  proxyRequests: number;
}
/** A job whose webhook points at `url`: what admission said and what became of its delivery. */
export interface NetnsWebhookOutcome {
  name: string;
  admission: number;
  code: string | null;
  /** `delivered`, `dropped` (refused by the guard at delivery), `failed` (attempts spent), or none. */
  delivery: 'delivered' | 'dropped' | 'failed' | null;
  /** Host headers of the POSTs the test site's receiver got for this job. */
  received: string[];
}
export interface NetnsReport {
  interfaces: string[];
  outcomes: NetnsOutcome[];
  webhooks: NetnsWebhookOutcome[];
  /** DNS rebinding: the guard's resolver said 127.0.0.5, the system's says 10.0.0.1. */
  rebinding: { mode: 'direct' | 'pool'; host: string | null; error: string | null }[];
  honeypot: string[];
}

/** The forbidden addresses a broken guard would reach, each on the namespace's loopback. */
const HONEYPOT_V4 = ['10.0.0.1', '192.168.1.1', '169.254.169.254', '100.100.100.200'];
const HONEYPOT_V6 = ['fd00:ec2::254'];
/** The one allow-listed address: the test site. */
export const SITE_IP = '127.0.0.5';
const HOSTS = `127.0.0.1 localhost
::1 localhost
${SITE_IP} site.test secure.test
10.0.0.1 internal.test
169.254.169.254 metadata.test
fd00:ec2::254 metadata6.test
${SITE_IP} mixed.test
192.168.1.1 mixed.test
10.0.0.1 rebind.test
`;

const sh = (cmd: string, ...args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' });

/** Refuses to run anywhere but a fresh network namespace, then sets it up. */
function isolate(): string[] {
  const interfaces = [...sh('ip', '-o', 'link', 'show').matchAll(/^\d+: ([^:@]+)/gm)].map((m) => m[1] ?? '');
  if (interfaces.join() !== 'lo') {
    throw new Error(
      `not an isolated network namespace (interfaces: ${interfaces.join(', ')}); refusing to run`,
    );
  }
  sh('ip', 'link', 'set', 'lo', 'up');
  for (const a of HONEYPOT_V4) sh('ip', 'addr', 'add', `${a}/32`, 'dev', 'lo');
  for (const a of HONEYPOT_V6) sh('ip', '-6', 'addr', 'add', `${a}/128`, 'dev', 'lo');
  const hosts = join(mkdtempSync(join(tmpdir(), 'sy-netns-')), 'hosts');
  writeFileSync(hosts, HOSTS);
  sh('mount', '--bind', hosts, '/etc/hosts'); // private mount namespace: the real file is untouched
  return interfaces;
}

/** Accepts on port 80 of every address, and 8080 of the forbidden ones; records who got through. */
async function startHoneypot(hits: string[]): Promise<TcpServer[]> {
  const listen = (host: string, port = 80) =>
    new Promise<TcpServer>((resolve, reject) => {
      const s = createTcpServer((c) => {
        hits.push(`${c.localAddress ?? '?'}:${c.localPort ?? '?'}`);
        c.destroy();
      });
      s.once('error', reject);
      s.listen({ host, port, ipv6Only: host === '::' }, () => resolve(s));
    });
  const on8080 = [...HONEYPOT_V4, ...HONEYPOT_V6].map((a) => listen(a, 8080));
  return Promise.all([listen('0.0.0.0'), listen('::'), ...on8080]);
}

/**
 * A rebinding resolver: the guard's lookup answers the allowed site, while the system resolver
 * (/etc/hosts here) answers the honeypot. A fetch that resolved the name a second time, in undici
 * or at the proxy, would land in the honeypot (or be refused by the loopback-only proxy).
 */
async function rebinding(proxy: FleetProxy): Promise<NetnsReport['rebinding']> {
  const guard = new TargetGuard({
    policy: new TargetPolicy({ allowCidrs: [`${SITE_IP}/32`] }),
    lookup: async () => [{ address: SITE_IP, family: 4 }],
  });
  const proxies = new ProxyDispatchers();
  const ways: [NetnsReport['rebinding'][number]['mode'], Dispatcher][] = [
    ['direct', new Agent()],
    ['pool', proxies.get({ proxyId: proxy.id, proxyUrl: proxy.url })],
  ];
  const out: NetnsReport['rebinding'] = [];
  for (const [mode, dispatcher] of ways) {
    try {
      const page = await fetchPage({
        ...{ url: 'http://rebind.test:8080/echo', method: 'GET', userAgent: 'netns' },
        ...{ timeoutMs: 5_000, maxBytes: 65_536, dispatcher, signal: new AbortController().signal, guard },
      });
      out.push({
        mode,
        host: (JSON.parse(page.body.toString('utf8')) as { host: string }).host,
        error: null,
      });
    } catch (err) {
      out.push({ mode, host: null, error: String(err) });
    }
  }
  await proxies.close();
  await ways[0]![1].close();
  return out;
}

/** Webhook deliveries the test site received: job id -> Host headers. */
const hooks = new Map<string, string[]>();

function site(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://site');
  if (url.pathname === '/hook' && req.method === 'POST') {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const jobId = (JSON.parse(body) as { data?: { id?: string } }).data?.id ?? '?';
      hooks.set(jobId, [...(hooks.get(jobId) ?? []), req.headers.host ?? '']);
      res.writeHead(204).end();
    });
    return;
  }
  if (url.pathname === '/redirect') {
    res.writeHead(302, { location: url.searchParams.get('to') ?? '/' }).end();
    return;
  }
  const socket = req.socket as Partial<TLSSocket>;
  const echo = { host: req.headers.host, servername: socket.servername, remote: req.socket.remoteAddress };
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(echo));
}

async function listen(server: Server, port: number): Promise<Server> {
  await new Promise<void>((resolve) => server.listen(port, SITE_IP, resolve));
  return server;
}

/**
 * Completion jobs with a webhook at each case's URL, on a stack whose webhook allow-list is only
 * the test site. Waits for each delivery's end in the worker's log (delivered, dropped, given up).
 */
async function webhookCases(
  redis: Awaited<ReturnType<typeof spawnRedisServer>>,
  cases: NetnsCase[],
): Promise<NetnsWebhookOutcome[]> {
  const t = await startTestStack({
    redis,
    config: {
      redis: { prefix: 'netns-webhooks' },
      webhooks: { allowCidrs: [`${SITE_IP}/32`], allowPorts: [80, 443, 8080, 8443], maxAttempts: 1 },
      log: { level: 'info' },
    },
  });
  const out: NetnsWebhookOutcome[] = [];
  try {
    const { api, tenantId } = await t.tenant();
    await t.admin.post(`/v1/admin/tenants/${tenantId}/webhook-secret`, {});
    for (const c of cases) {
      const body = {
        type: 'completion',
        lane: 'interactive',
        request: { model: 'mock', messages: [{ role: 'user', content: c.name }] },
        webhook: { url: c.url },
      };
      const posted = await api.post<{ id?: string; code?: string }>('/v1/jobs', body);
      const jobId = posted.body.id;
      let delivery: NetnsWebhookOutcome['delivery'] = null;
      if (jobId) {
        const deadline = Date.now() + 20_000;
        while (!delivery && Date.now() < deadline) {
          const lines = t.logs.filter((l) => l.includes(jobId));
          if (lines.some((l) => l.includes('"webhook delivered"'))) delivery = 'delivered';
          else if (lines.some((l) => l.includes('webhook dropped'))) delivery = 'dropped';
          else if (lines.some((l) => l.includes('"webhook delivery given up"'))) delivery = 'failed';
          else await new Promise((r) => setTimeout(r, 50));
        }
      }
      out.push({
        name: c.name,
        admission: posted.status,
        code: posted.body.code ?? null,
        delivery,
        received: jobId ? (hooks.get(jobId) ?? []) : [],
      });
    }
  } finally {
    await t.close();
  }
  return out;
}

async function main(): Promise<NetnsReport> {
  const input = JSON.parse(process.argv[2] ?? '{}') as {
    cases: NetnsCase[];
    webhooks: NetnsCase[];
    certDir: string;
  };
  const interfaces = isolate();
  const honeypot: string[] = [];
  const traps = await startHoneypot(honeypot);
  const tls = {
    key: readFileSync(join(input.certDir, 'key.pem')),
    cert: readFileSync(join(input.certDir, 'cert.pem')),
  };
  const servers = [await listen(createServer(site), 8080), await listen(createHttpsServer(tls, site), 8443)];
  const redis = await spawnRedisServer();
  const fleet = await startProxyFleet({ count: 1, firstHostOctet: 41 });
  const proxy = fleet.proxies[0]!;
  const outcomes: NetnsOutcome[] = [];
  let rebound: NetnsReport['rebinding'];
  let webhooks: NetnsWebhookOutcome[];
  try {
    rebound = await rebinding(proxy);
    for (const mode of ['direct', 'pool'] as const) {
      const t = await startTestStack({
        redis,
        config: {
          redis: { prefix: `netns-${mode}` },
          jobs: { maxAttempts: 2 },
          scrape: { egress: mode, allowCidrs: [`${SITE_IP}/32`], allowPorts: [80, 443, 8080, 8443] },
          proxies: mode === 'pool' ? [{ id: proxy.id, url: proxy.url }] : [],
          log: { level: 'warn' },
        },
      });
      try {
        const { api } = await t.tenant();
        for (const c of input.cases) {
          const seen = proxy.stats.requests + proxy.stats.connects;
          const body = { type: 'scrape', lane: 'interactive', request: { url: c.url, format: 'text' } };
          const posted = await api.post<{ id?: string; code?: string }>('/v1/jobs', body);
          let job: (JobRecord & { attempt_log?: { outcome: string }[] }) | undefined;
          if (posted.status === 202 || posted.status === 200) {
            job = (await api.get<typeof job>(`/v1/jobs/${posted.body.id ?? ''}`, { prefer: 'wait=20' })).body;
          }
          const result = job?.result?.type === 'scrape' ? job.result : undefined;
          outcomes.push({
            mode,
            name: c.name,
            admission: posted.status,
            code: job ? (job.error?.code ?? null) : (posted.body.code ?? null),
            status: job?.status ?? null,
            attempts: job?.attempts ?? 0,
            outcomes: job?.attempt_log?.map((a) => a.outcome) ?? [],
            echo: result?.status === 200 ? (JSON.parse(result.body ?? '') as NetnsOutcome['echo']) : null,
            proxyRequests: proxy.stats.requests + proxy.stats.connects - seen,
          });
        }
      } finally {
        await t.close();
      }
    }
    webhooks = await webhookCases(redis, input.webhooks);
  } finally {
    await fleet.stop();
    await redis.stop();
    for (const s of [...servers, ...traps]) s.close();
  }
  return { interfaces, outcomes, webhooks, rebinding: rebound, honeypot };
}

main().then(
  (report) => {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    process.exit(0);
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
