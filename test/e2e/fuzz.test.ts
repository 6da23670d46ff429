import { isFinal, type JobRecord } from '@switchyard/contracts';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api } from './support/api.ts';
import { openApiChecker } from './support/openapi-check.ts';
import { startTestStack, type TestStack } from './support/stack.ts';
import { startWorkerProcess, writeConfigFile, type WorkerProcess } from './support/worker-process.ts';

const REQUESTS = 10_000;
/** Valid but odd jobs submitted after the fuzz, then run by a worker. */
const ODD_JOBS = 60;

let t: TestStack;
let key: string;
let worker: WorkerProcess | undefined;
/** Jobs the fuzz got accepted (2xx on POST /v1/jobs): a worker runs them afterwards. */
const acceptedIds: string[] = [];

beforeAll(async () => {
  t = await startTestStack({ worker: false, config: { log: { level: 'silent' } } });
  ({ key } = await t.tenant());
});
afterAll(async () => {
  worker?.terminate('SIGKILL');
  await t?.close();
});

/** mulberry32: a small seeded PRNG, so a failing case can be replayed. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let r = Math.imul(a ^ (a >>> 15), 1 | a);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

function generator(rand: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const scalar = (): unknown =>
    pick([
      () => null,
      () => true,
      () => -1,
      () => 1e308,
      () => 3.5,
      () => '',
      () => 'x'.repeat(Math.floor(rand() * 200_000)),
      () => '\u0000\ud800',
      () => 'completion',
      () => 'scrape',
      () => 'interactive',
      () => 'mock',
      () => 'http://127.0.0.1:1/',
    ])();
  const value = (depth: number): unknown => {
    if (depth > 3 || rand() < 0.4) return scalar();
    if (rand() < 0.5) return Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1));
    const keys = [
      'type',
      'lane',
      'priority',
      'request',
      'model',
      'messages',
      'role',
      'content',
      'url',
      'custom_id',
      'timeout_ms',
      'metadata',
      'fallbacks',
      '__proto__',
      'constructor',
    ];
    return Object.fromEntries(
      Array.from({ length: Math.floor(rand() * 5) }, () => [pick(keys), value(depth + 1)]),
    );
  };
  const near = (): unknown => {
    // Almost valid jobs with one field broken.
    const job: Record<string, unknown> = {
      type: 'completion',
      lane: 'batch',
      request: { model: 'mock', messages: [{ role: 'user', content: 'hi' }] },
    };
    const k = pick(['type', 'lane', 'priority', 'request', 'timeout_ms', 'metadata', 'fallbacks', 'extra']);
    job[k] = value(2);
    return job;
  };
  const body = (): { payload: Buffer | string | undefined; type: string | undefined } =>
    pick([
      () => ({ payload: JSON.stringify(value(0)), type: 'application/json' }),
      () => ({ payload: JSON.stringify(near()), type: 'application/json' }),
      () => ({ payload: '['.repeat(20_000) + ']'.repeat(20_000), type: 'application/json' }),
      () => ({ payload: '{"a":'.repeat(5_000) + '1' + '}'.repeat(5_000), type: 'application/json' }),
      () => ({
        payload: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
        type: 'application/json',
      }),
      () => ({ payload: '{"type":', type: 'application/json' }),
      () => ({ payload: 'not json at all', type: 'text/plain' }),
      () => ({ payload: JSON.stringify(near()), type: 'application/x-ndjson' }),
      () => ({ payload: `${JSON.stringify({ custom_id: 'a' })}\n\u0000\n{`, type: 'application/x-ndjson' }),
      () => ({ payload: undefined, type: undefined }),
      () => ({ payload: JSON.stringify(near()), type: 'application/xml' }),
    ])();
  const path = () =>
    pick([
      '/v1/jobs',
      '/v1/jobs/jb_0000000000000000000000',
      `/v1/jobs/${encodeURIComponent('../../etc/passwd')}`,
      '/v1/jobs/%ff%fe',
      '/v1/batches',
      '/v1/batches/bt_00000000000000000000',
      '/v1/usage?group_by=' +
        pick(['model', 'nope', '%00', '']) +
        '&from=' +
        pick(['2026-01-01', '9999-99-99', 'x']),
      '/v1/chat/completions',
      '/v1/messages',
      '/v1/admin/tenants',
      '/v1/admin/tenants/x/keys',
      '/v1/admin/proxies',
      '/v1/jobs/jb_0000000000000000000000/events',
      '/v1/' + 'a'.repeat(5_000),
    ]);
  const headers = (type: string | undefined): Record<string, string> => {
    const h: Record<string, string> = {};
    if (type) h['content-type'] = type;
    const auth = pick(['key', 'key', 'key', 'admin', 'none', 'garbage', 'basic']);
    if (auth === 'key') h.authorization = `Bearer ${key}`;
    if (auth === 'admin') h.authorization = `Bearer ${t.adminKey}`;
    if (auth === 'garbage') h.authorization = 'Bearer ' + 'z'.repeat(Math.floor(rand() * 3000));
    if (auth === 'basic') h.authorization = 'Basic Zm9vOmJhcg==';
    if (rand() < 0.3) h['idempotency-key'] = pick(['', ' ', 'k'.repeat(300), 'ok-key', '%%%', 'é']);
    if (rand() < 0.2)
      h.prefer = pick(['wait=abc', 'wait=-1', 'wait=99999999999', 'wait', 'respond-async, wait=0']);
    return h;
  };
  return () => {
    const b = body();
    return {
      method: pick<'GET' | 'POST' | 'DELETE' | 'PATCH' | 'PUT'>([
        'GET',
        'POST',
        'POST',
        'POST',
        'DELETE',
        'PATCH',
        'PUT',
      ]),
      path: path(),
      body: b.payload,
      headers: headers(b.type),
    };
  };
}

/** Jobs that are valid but odd: edge-of-range values, odd text, shapes a worker rarely sees. */
function oddJobs(rand: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const text = () =>
    pick([
      '\u0000',
      ' ',
      '\ud83d\ude00'.repeat(500),
      'ü'.repeat(20_000),
      '</script><script>alert(1)</script>',
      '{"role":"system"}',
      '\u202eevil',
      'x'.repeat(200_000),
      'a\nb\r\nc\td',
    ]);
  // One message may be big; the others are short, so a body stays under the 1 MiB limit.
  const content = (i: number) => {
    const t = i === 0 ? text() : pick(['\u0000', 'ok', '\ud83d\ude00']);
    return rand() < 0.7
      ? t
      : [
          { type: 'text', text: t },
          { type: 'text', text: '' },
        ];
  };
  const completionJob = () => ({
    type: 'completion',
    lane: pick(['interactive', 'batch']),
    priority: pick([1, 10, 5]),
    ...(rand() < 0.3 ? { timeout_ms: pick([1, 50, 86_400_000]) } : {}),
    ...(rand() < 0.3 ? { metadata: pick([{ ключ: 'значение' }, { k: '\u0000' }, { __proto__: 'x' }]) } : {}),
    ...(rand() < 0.2 ? { fallbacks: ['mock', 'mock'] } : {}),
    request: {
      model: 'mock',
      messages: Array.from({ length: pick([1, 2, 40]) }, (_, i) => ({
        role: i % 2 ? 'assistant' : pick(['user', 'system', 'developer']),
        content: content(i),
      })),
      ...(rand() < 0.3 ? { max_tokens: pick([1, 1_000_000]) } : {}),
      ...(rand() < 0.2 ? { stop: ['', '\u0000'], temperature: 2, seed: -1 } : {}),
    },
  });
  // Nothing listens there, robots.txt included, so the scrape waits for robots.txt (no attempt
  // spent) until its deadline ends it: a waiting job is not a stuck one.
  const scrapeJob = () => ({
    type: 'scrape',
    timeout_ms: 3_000,
    request: { url: pick(['http://127.0.0.1:1/', 'http://127.0.0.1:1/%ff?%00#x']) },
  });
  return () => (rand() < 0.85 ? completionJob() : scrapeJob());
}

describe('fuzz: malformed requests across all routes', () => {
  it('10,000 malformed requests: every answer is 4xx with a problem (never 5xx), the API stays up, no partial job', async () => {
    const next = generator(prng(20261122));
    const check = await openApiChecker(t.url);
    const statuses = new Map<number, number>();
    const bad: string[] = [];
    let accepted = 0;
    const one = async () => {
      const r = next();
      const res = await request(`${t.url}${r.path}`, {
        method: r.method,
        headers: r.headers,
        body: r.method === 'GET' ? undefined : r.body,
      });
      const text = await res.body.text();
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      if (res.statusCode < 300) {
        // A 2xx is checked too: its body matches the OpenAPI document's schema for it.
        const json = String(res.headers['content-type'] ?? '').includes('json');
        const body: unknown = json ? JSON.parse(text) : text;
        const wrong = check(r.method, r.path, res.statusCode, body);
        if (wrong && bad.length < 10) bad.push(wrong);
        if (r.path === '/v1/jobs' && r.method === 'POST') {
          accepted++;
          acceptedIds.push((body as JobRecord).id);
        }
        return;
      }
      const type = String(res.headers['content-type'] ?? '');
      // The OpenAI- and Anthropic-compatible routes answer in their SDKs' error shapes.
      const openAiRoute =
        (r.path === '/v1/chat/completions' || r.path === '/v1/messages') && r.method === 'POST';
      const ok =
        res.statusCode >= 400 &&
        res.statusCode < 500 &&
        (openAiRoute
          ? /"error"/.test(text)
          : type.includes('application/problem+json') && /"code"/.test(text));
      if (!ok && bad.length < 10)
        bad.push(`${r.method} ${r.path.slice(0, 60)} → ${res.statusCode} ${type} ${text.slice(0, 200)}`);
    };
    for (let i = 0; i < REQUESTS; i += 32)
      await Promise.all(Array.from({ length: Math.min(32, REQUESTS - i) }, one));
    expect(bad).toEqual([]);
    expect([...statuses.keys()].filter((s) => s >= 500)).toEqual([]);
    expect((await request(`${t.url}/healthz`)).statusCode).toBe(200);
    // Redis holds exactly the jobs that were acknowledged, nothing half-written.
    const redis = new Redis(t.redis.url);
    try {
      const jobs = (await redis.keys(`${t.config.redis.prefix}:{*}:j[ib]_*`)).filter((k) =>
        /:j[ib]_[0-9a-fk]+$/.test(k),
      );
      expect(jobs.length).toBe(accepted);
    } finally {
      redis.disconnect();
    }
  }, 180_000);

  it('valid but odd jobs are accepted with a Job body the OpenAPI document describes', async () => {
    const next = oddJobs(prng(20261205));
    const check = await openApiChecker(t.url);
    const api = new Api(t.url, key);
    const wrong: string[] = [];
    for (let i = 0; i < ODD_JOBS; i++) {
      const res = await api.post<JobRecord>('/v1/jobs', next());
      const problem = check('POST', '/v1/jobs', res.status, res.body);
      if (problem) wrong.push(problem);
      else if (res.status === 202) acceptedIds.push(res.body.id);
      else wrong.push(`odd job ${i}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
    }
    expect(wrong).toEqual([]);
  }, 120_000);

  it('a worker runs every accepted odd job to a final state, without crashing', async () => {
    expect(acceptedIds.length).toBeGreaterThan(ODD_JOBS);
    worker = await startWorkerProcess(writeConfigFile(t.config));
    const api = new Api(t.url, key);
    const deadline = Date.now() + 120_000;
    const final = new Map<string, JobRecord>();
    while (final.size < acceptedIds.length && Date.now() < deadline) {
      for (const id of acceptedIds.filter((i) => !final.has(i))) {
        const res = await api.get<JobRecord>(`/v1/jobs/${id}`);
        if (res.status === 200 && isFinal(res.body)) final.set(id, res.body);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(
      acceptedIds.filter((id) => !final.has(id)),
      'jobs still not final',
    ).toEqual([]);
    const byStatus = new Map<string, number>();
    for (const j of final.values()) {
      const k = `${j.status} ${j.error?.code ?? ''}`.trim();
      byStatus.set(k, (byStatus.get(k) ?? 0) + 1);
    }
    console.log(
      `${acceptedIds.length} accepted odd jobs: ${[...byStatus].map(([k, n]) => `${n} ${k}`).join(', ')}`,
    );
    // A job failing for a bug of ours would say so; the worker process is still up.
    expect([...byStatus.keys()].filter((k) => k.includes('internal'))).toEqual([]);
    expect(worker.child.exitCode).toBeNull();
  }, 180_000);
});
