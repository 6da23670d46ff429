/**
 * The cluster subset: the main paths of Switchyard with `redis.cluster` set, against a real Redis
 * Cluster of 3 masters and 3 replicas on loopback. Each test is a lean twin of a single-Redis
 * suite (named in its title); together they exercise every Lua script, MULTI and pipeline, the
 * cancel pub/sub and the blocking reads on a cluster client.
 */
import { verifySignature, type JobRecord, type Problem, type UsageReport } from '@switchyard/contracts';
import { startMockLlm, startMockSite, type MockLlm, type MockSite } from '@switchyard/mock-upstream';
import {
  startProxyFleet,
  startRedisCluster,
  type ProxyFleet,
  type RedisClusterHandle,
} from '@switchyard/test-kit';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completion } from '../support/api.ts';
import { createRedis } from '@switchyard/jobs';
import { MOCK_MODEL, MOCK_PRICE, startClusterTestStack } from '../support/stack.ts';
import { until } from '../support/wait.ts';
import { eventOf, header, WebhookReceiver, webhookTenant } from '../support/webhook-receiver.ts';

type ClusterStack = Awaited<ReturnType<typeof startClusterTestStack>>;
interface Batch {
  id: string;
  status: string;
  counts: { total: number; accepted: number; succeeded: number; failed: number; queued_or_running: number };
}

const lines = (n: number, who: string) =>
  Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      custom_id: `${who}-${i}`,
      type: 'completion',
      request: completion(`${who} ${i}`).request,
    }),
  ).join('\n');
const NDJSON = { 'content-type': 'application/x-ndjson' };

let cluster: RedisClusterHandle;
let mock: MockLlm;
let fleet: ProxyFleet;
let site: MockSite;
let receiver: WebhookReceiver;
let t: ClusterStack;

beforeAll(async () => {
  [cluster, mock, fleet, site, receiver] = await Promise.all([
    startRedisCluster(),
    startMockLlm({ latencyMs: 5 }),
    startProxyFleet({ count: 2, firstHostOctet: 61 }),
    startMockSite({ host: '127.0.0.2' }),
    WebhookReceiver.start(),
  ]);
  t = await startClusterTestStack(cluster, {
    mock,
    config: {
      worker: { concurrency: { interactive: 4, batch: 2 } },
      // Politeness on (host-claim, host-start, host-release scripts), with room for the pool test.
      scrape: { egress: 'pool', perHost: { maxConcurrency: 4, minIntervalMs: 0 } },
      proxies: fleet.proxies.map((p) => ({ id: p.id, url: p.url, maxConcurrency: 2 })),
      pool: { interactiveReserve: 0 },
      webhooks: { backoffMs: 100, timeoutMs: 3_000 },
      log: { level: 'warn' },
      // Longer than any wait below: a canceled attempt ends by its abort, never by this timeout.
      models: {
        [MOCK_MODEL]: {
          baseUrl: `${mock.url}/v1`,
          upstreamModel: 'mock-small',
          price: MOCK_PRICE,
          timeoutMs: 30_000,
        },
      },
    },
  });
});
afterAll(async () => {
  await t?.close();
  await Promise.all([mock?.close(), fleet?.stop(), site?.close(), receiver?.close()]);
  await cluster?.stop();
});

describe('Switchyard on a Redis Cluster (3 masters, 3 replicas)', () => {
  it("per-tenant keys (ledger, idempotency, batches, load) spread over every master by the tenant's tag", async () => {
    const p = t.config.redis.prefix;
    const tenants = Array.from({ length: 12 }, (_, i) => `t_${i}`);
    const owners = await Promise.all(tenants.map(async (id) => (await cluster.masterOf(`${p}:ledger:{${id}}:day`)).address));
    expect(new Set(owners).size).toBe(3);
  }); // prettier-ignore

  it('submit and wait (jobs.test.ts): a completion runs to succeeded with its cost', async () => {
    const { api } = await t.tenant();
    const res = await api.post<JobRecord>('/v1/jobs', completion('one two three'), { prefer: 'wait=20' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'succeeded', attempts: 1, result: { type: 'completion' } });
    expect(res.body.cost.nano_usd).toBeGreaterThan(0);
    // The worker's heartbeat (one MULTI over two keys of the `{workers}` tag) lists it.
    await until('the worker to be listed', async () => {
      const lanes = await t.admin.get<{ workers: { in_flight: number }[] }>('/v1/admin/lanes');
      return lanes.body.workers.length === 1;
    });
  });

  it('/v1/chat/completions streaming (chat-completions.test.ts): deltas as SSE equal the plain answer', async () => {
    const { key } = await t.tenant();
    const client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: key, maxRetries: 0 });
    const messages = [{ role: 'user' as const, content: 'tell me about clusters' }];
    const stream = await client.chat.completions.create({ model: 'mock', messages, stream: true });
    let text = '';
    let chunks = 0;
    for await (const c of stream) {
      chunks++;
      text += c.choices[0]?.delta.content ?? '';
    }
    expect(chunks).toBeGreaterThan(5);
    const plain = await client.chat.completions.create({ model: 'mock', messages });
    expect(text).toBe(plain.choices[0]?.message.content);
  });

  it('cancel (cancel-queued.test.ts): the cancel reaches subscribers over pub/sub; a queued job ends canceled', async () => {
    const { api } = await t.tenant();
    const heard: string[] = [];
    const sub = createRedis({ url: '', cluster: cluster.seeds }, { role: 'worker', name: 'test-sub' });
    sub.on('message', (_channel: string, jobId: string) => heard.push(jobId));
    await sub.subscribe(`${t.config.redis.prefix}:cancel`);
    mock.setFaults({ timeout: 1 }); // the first jobs hold every interactive slot
    try {
      const holders = await Promise.all(Array.from({ length: 4 }, () => api.post<JobRecord>('/v1/jobs', completion('hold'))));
      const queued = await api.post<JobRecord>('/v1/jobs', completion('canceled in the queue'));
      const del = await api.delete<JobRecord>(`/v1/jobs/${queued.body.id}`);
      expect(del.status).toBe(200);
      await until('the cancel to be published', () => heard.includes(queued.body.id));
      const after = await api.get<JobRecord>(`/v1/jobs/${queued.body.id}`, { prefer: 'wait=10' });
      expect(after.body).toMatchObject({ status: 'canceled', attempts: 0, cost: { nano_usd: 0 } });
      for (const h of holders) await api.delete(`/v1/jobs/${h.body.id}`);
    } finally {
      mock.setFaults({});
      sub.disconnect();
    }
  }); // prettier-ignore

  it('cancel (jobs.test.ts): a DELETE aborts the running attempt over pub/sub, long before its timeout', async () => {
    const { api } = await t.tenant();
    mock.setFaults({ timeout: 1 }); // the upstream never answers: only the cancel ends the attempt
    try {
      const res = await api.post<JobRecord>('/v1/jobs', completion('cancel me'));
      await until('the job to run', async () => (await api.get<JobRecord>(`/v1/jobs/${res.body.id}`)).body.status === 'running');
      const asked = Date.now();
      expect((await api.delete<JobRecord>(`/v1/jobs/${res.body.id}`)).status).toBe(200);
      const done = await until('the job to end', async () => {
        const j = (await api.get<JobRecord>(`/v1/jobs/${res.body.id}`)).body;
        return j.finished_at ? j : undefined;
      }, 20_000);
      expect(done).toMatchObject({ status: 'canceled', error: { code: 'canceled' } });
      // The model's timeout is 30 s: ending well before it means the attempt was aborted.
      expect(Date.parse(done.finished_at ?? '') - asked).toBeLessThan(15_000);
    } finally {
      mock.setFaults({});
    }
  }); // prettier-ignore

  it('batches (batches.test.ts): every line runs and results come back in line order', async () => {
    const { api } = await t.tenant();
    const res = await api.post<Batch>('/v1/batches', lines(12, 'doc'), NDJSON);
    expect(res.status).toBe(202);
    expect(res.body.counts).toMatchObject({ total: 12, accepted: 12 });
    const done = await until('the batch to complete', async () => {
      const b = (await api.get<Batch>(`/v1/batches/${res.body.id}`)).body;
      return b.status === 'completed' ? b : undefined;
    });
    expect(done.counts.succeeded).toBe(12);
  });

  it("fair share (fairness.test.ts): tenant B's small batch finishes while A's backlog is still queued", async () => {
    const a = await t.tenant();
    const b = await t.tenant();
    const big = await a.api.post<Batch>('/v1/batches', lines(300, 'a'), NDJSON);
    expect(big.body.counts.accepted).toBe(300);
    await until('A to get going', async () => (await a.api.get<Batch>(`/v1/batches/${big.body.id}`)).body.counts.succeeded > 5);
    const small = await b.api.post<Batch>('/v1/batches', lines(10, 'b'), NDJSON);
    await until("B's batch to finish", async () => (await b.api.get<Batch>(`/v1/batches/${small.body.id}`)).body.status === 'completed', 60_000, 50);
    const aNow = (await a.api.get<Batch>(`/v1/batches/${big.body.id}`)).body;
    expect(aNow.counts.queued_or_running).toBeGreaterThan(100);
  }); // prettier-ignore

  it('idempotency (idempotency.test.ts): 20 concurrent submissions with one key make one job', async () => {
    const { api } = await t.tenant();
    const headers = { 'idempotency-key': 'cluster-key-1' };
    const res = await Promise.all(
      Array.from({ length: 20 }, () => api.post<JobRecord>('/v1/jobs', completion('once'), headers)),
    );
    expect(res.every((r) => r.status === 200 || r.status === 202)).toBe(true);
    expect(new Set(res.map((r) => r.body.id)).size).toBe(1);
    expect(res.filter((r) => r.headers['idempotent-replayed'] !== 'true')).toHaveLength(1);
    const other = await api.post<Problem>('/v1/jobs', completion('another body'), headers);
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('idempotency_key_reused');
  });

  it('pool leases (pool-spread.test.ts): scrapes go through the proxies and every lease is returned', async () => {
    const { api } = await t.tenant();
    const res = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        api.post<JobRecord>('/v1/jobs', { type: 'scrape', request: { url: `${site.url}/page/${i}` } }, { prefer: 'wait=30' }),
      ),
    ); // prettier-ignore
    const ids = new Set(fleet.proxies.map((p) => p.id));
    for (const r of res) expect(r.body.status).toBe('succeeded');
    const used = new Set<string>();
    for (const r of res) used.add((await api.get<JobRecord>(`/v1/jobs/${r.body.id}`)).body.attempt_log?.at(-1)?.proxy_id ?? '');
    expect(used).toEqual(ids); // both proxies leased (2 slots each for 16 scrapes)
    // The admin's pool scripts (upsert, drain, remove) on the `{pool}` slot too.
    const extra = { id: 'extra', url: 'http://127.0.0.1:9', maxConcurrency: 1 };
    expect((await t.admin.post('/v1/admin/proxies', extra)).status).toBe(201);
    expect((await t.admin.post('/v1/admin/proxies/extra/drain', {})).body).toMatchObject({ draining: true });
    expect((await t.admin.delete('/v1/admin/proxies/extra')).status).toBe(204);
    await until('every lease to be released', async () => {
      const list = (await t.admin.get<{ data: { inFlight: number }[] }>('/v1/admin/proxies')).body;
      return list.data.length === 2 && list.data.every((p) => p.inFlight === 0);
    });
  }); // prettier-ignore

  it('ledger and usage (costs.test.ts): a job answered finished has its cost in the ledger; usage sums them', async () => {
    // The ledger (the tenant's slot) and the lane are on different nodes, so the worker awaits the
    // ledger write before BullMQ finishes the job (ADR 25): whoever hears of the end reads its cost.
    const { api } = await t.tenant();
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => api.post<JobRecord>('/v1/jobs', completion(`bill ${i}`), { prefer: 'wait=20' })),
    );
    const jobs = await Promise.all(answers.map(async (a) => (await api.get<JobRecord>(`/v1/jobs/${a.body.id}`)).body));
    for (const job of jobs) {
      expect(job.attempt_log?.map((e) => [e.attempt, e.outcome])).toEqual([[1, 'ok']]);
      expect(job.attempt_log?.[0]?.cost.nano_usd).toBe(job.cost.nano_usd);
    }
    const usage = (await api.get<UsageReport>('/v1/usage')).body;
    expect(usage.total.attempts).toBe(40);
    expect(usage.total.cost.nano_usd).toBe(jobs.reduce((n, j) => n + j.cost.nano_usd, 0));
  }); // prettier-ignore

  it('webhooks (webhooks.test.ts): a finished job delivers one signed event', async () => {
    const { api, secret } = await webhookTenant(t, []);
    const url = receiver.on('/cluster/ok', () => ({ status: 200 }));
    const res = await api.post<JobRecord>('/v1/jobs', completion('hook', { webhook: { url } }), { prefer: 'wait=20' });
    expect(res.body.status).toBe('succeeded');
    const [got] = await until('the event', () => (receiver.at('/cluster/ok').length ? receiver.at('/cluster/ok') : undefined));
    if (!got) throw new Error('no event');
    expect(verifySignature(secret, header(got, 'switchyard-signature'), got.body)).toBe(true);
    expect(eventOf<JobRecord>(got).data).toMatchObject({ id: res.body.id, status: 'succeeded' });
  }); // prettier-ignore
});

describe('tenant limits on a Redis Cluster (limits.test.ts)', () => {
  let limited: ClusterStack;
  beforeAll(async () => {
    limited = await startClusterTestStack(cluster, {
      mock,
      worker: false,
      config: {
        redis: { prefix: `${cluster.prefix}l` },
        limits: { requestsPerSecond: 2, burst: 5, maxJobsQueued: 3 },
        log: { level: 'warn' },
      },
    });
  });
  afterAll(async () => limited?.close());

  it('admits exactly maxJobsQueued, then 429 too_many_jobs_queued; the request rate is limited too', async () => {
    const { api } = await limited.tenant();
    const res = [];
    for (let i = 0; i < 5; i++) res.push(await api.post<Problem>('/v1/jobs', completion(`q ${i}`)));
    expect(res.map((r) => r.status)).toEqual([202, 202, 202, 429, 429]);
    expect(res[3]?.body.code).toBe('too_many_jobs_queued');
    const burst = await Promise.all(Array.from({ length: 6 }, () => api.get('/v1/usage')));
    const limitedRes = burst.filter((r) => r.status === 429);
    expect(limitedRes.length).toBeGreaterThan(0);
    expect((limitedRes[0]?.body as Problem).code).toBe('rate_limited');
  });
});
