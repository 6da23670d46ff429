/**
 * Twin of batch-shards.test.ts on a real Redis Cluster (3 masters + 3 replicas): with
 * `lanes.batch.shards: 3` the whole stack (API and worker over `redis.cluster`) puts each shard on
 * its own master, batches of two tenants complete, and every master carries a share of the work.
 */
import type { LanesReport } from '@switchyard/contracts';
import { jobKeys } from '@switchyard/jobs';
import { startMockLlm, type MockLlm } from '@switchyard/mock-upstream';
import { startRedisCluster, type RedisClusterHandle } from '@switchyard/test-kit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completion } from '../support/api.ts';
import { startClusterTestStack } from '../support/stack.ts';
import { until } from '../support/wait.ts';

interface Batch {
  id: string;
  status: string;
  counts: { succeeded: number; failed: number };
}

let cluster: RedisClusterHandle;
let mock: MockLlm;
let t: Awaited<ReturnType<typeof startClusterTestStack>>;
let masters: Redis[] = [];

beforeAll(async () => {
  [cluster, mock] = await Promise.all([startRedisCluster(), startMockLlm({ latencyMs: 2 })]);
  t = await startClusterTestStack(cluster, {
    mock,
    config: {
      lanes: { batch: { shards: 3 } },
      worker: { concurrency: { interactive: 1, batch: 6 } },
      log: { level: 'warn' },
    },
  });
  masters = (await cluster.masters()).map((m) => new Redis({ host: m.host, port: m.port }));
}, 120_000);
afterAll(async () => {
  for (const m of masters) m.disconnect();
  await t?.close();
  await mock?.close();
  await cluster?.stop();
});

const lines = (n: number, who: string) =>
  Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      custom_id: `${who}-${i}`,
      type: 'completion',
      request: completion(`${who} ${i}`).request,
    }),
  ).join('\n');

const calls = async (node: Redis) =>
  [...(await node.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)]
    .filter((m) => !/^(info|config|cluster|ping|command|client|hello)/.test(m[1] ?? ''))
    .reduce((sum, m) => sum + Number(m[2]), 0);

describe('a batch lane of 3 shards on a 3-master cluster', () => {
  it('puts each shard on its own master; two tenants’ batches complete and every master carries a share', async () => {
    const keys = jobKeys(cluster.prefix);
    const homes = await Promise.all(
      [0, 1, 2].map(
        async (s) => (await cluster.masterOf(`${cluster.prefix}:${keys.queueName('batch', s)}:wait`)).address,
      ),
    );
    expect(new Set(homes).size).toBe(3);

    for (const m of masters) await m.config('RESETSTAT');
    const [a, b] = [await t.tenant(), await t.tenant()];
    const ids: [typeof a, string][] = [];
    for (const [tenant, n, who] of [
      [a, 300, 'a'],
      [b, 60, 'b'],
    ] as const) {
      const res = await tenant.api.post<Batch>('/v1/batches', lines(n, who), {
        'content-type': 'application/x-ndjson',
      });
      expect(res.status).toBe(202);
      ids.push([tenant, res.body.id]);
    }
    for (const [tenant, id] of ids)
      await until(
        'the batches to complete',
        async () => (await tenant.api.get<Batch>(`/v1/batches/${id}`)).body.status === 'completed',
        120_000,
        250,
      );
    const per = await Promise.all(masters.map(calls));
    const total = per.reduce((x, y) => x + y, 0);
    // The batch lane is most of the work, a third on each master; the rest (ledger, tenants,
    // the interactive lane) lands where its own tags hash.
    for (const n of per) expect(n / total).toBeGreaterThan(0.15);
    console.log(
      `commands per master: ${per.map((n) => `${n} (${((100 * n) / total).toFixed(1)}%)`).join(' / ')}`,
    );

    const report = await t.admin.get<LanesReport>('/v1/admin/lanes');
    expect(report.body.lanes.find((l) => l.lane === 'batch')).toMatchObject({ ready: 0, active: 0 });
  }, 240_000);
});
