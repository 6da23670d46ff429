import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisCluster, type RedisClusterHandle } from './redis-cluster.ts';

describe('startRedisCluster', () => {
  let cluster: RedisClusterHandle;
  let client: Cluster;
  beforeAll(async () => {
    cluster = await startRedisCluster({ nodeTimeoutMs: 1_500 });
    const [host, port] = (cluster.seeds[0] as string).split(':');
    client = new Cluster([{ host: host as string, port: Number(port) }]);
  });
  afterAll(async () => {
    client.disconnect();
    await cluster.stop();
  });

  it('gives 3 masters that spread the slots, each with a replica', async () => {
    const masters = await cluster.masters();
    expect(masters).toHaveLength(3);
    expect(cluster.nodes).toHaveLength(6);
    const owners = new Set(
      await Promise.all(['{a}', '{b}', '{c}', '{d}', '{e}'].map((k) => cluster.masterOf(k))),
    );
    expect(owners.size).toBeGreaterThan(1);
    await client.set(`${cluster.prefix}:{x}`, 'v');
    expect(await client.get(`${cluster.prefix}:{x}`)).toBe('v');
  });

  it('kill(master) promotes its replica and the key stays readable', async () => {
    const key = `${cluster.prefix}:{kill}`;
    await client.set(key, 'kept');
    await client.wait(1, 5_000); // replicated before the master dies
    const master = await cluster.masterOf(key);
    await cluster.kill(master);
    expect(master.alive).toBe(false);
    await expect
      .poll(async () => (await cluster.masters()).length, { timeout: 30_000, interval: 200 })
      .toBe(3);
    await cluster.waitHealthy();
    const promoted = await cluster.masterOf(key);
    expect(promoted.address).not.toBe(master.address);
    expect(await client.get(key)).toBe('kept');
    await cluster.restart(master);
    expect(master.alive).toBe(true);
    await cluster.waitHealthy();
    await cluster.waitReplicated(); // the killed master is back as a replica of its successor
    expect(await cluster.masters()).not.toContainEqual(expect.objectContaining({ address: master.address }));
  });
});
