import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './redis-harness.ts';

const run = promisify(execFile);

/** One `redis-server --cluster-enabled yes` of a test cluster. */
export interface ClusterNodeHandle {
  host: string;
  port: number;
  /** `host:port`, as `CLUSTER NODES` and ioredis name it. */
  readonly address: string;
  /** False once `kill` ended it. */
  readonly alive: boolean;
}

/** A Redis Cluster of 3 masters and 3 replicas on loopback, owned by one test file. */
export interface RedisClusterHandle {
  /** Every node, masters first as created (roles change after a failover: ask `masters()`). */
  nodes: ClusterNodeHandle[];
  /** Seed nodes for a cluster client (`host:port`). */
  seeds: string[];
  /** A key prefix unique to this handle. */
  prefix: string;
  /** The live nodes that serve slots as masters now, from `CLUSTER NODES` of a live node. */
  masters(): Promise<ClusterNodeHandle[]>;
  /** The master serving `key` now. */
  masterOf(key: string): Promise<ClusterNodeHandle>;
  /** SIGKILL one node (its replica takes over after `cluster-node-timeout`). */
  kill(node: ClusterNodeHandle): Promise<void>;
  /** Starts a killed node again on its port and dir; it rejoins (a killed master as a replica). */
  restart(node: ClusterNodeHandle): Promise<void>;
  /** The live replicas of a master. */
  replicasOf(master: ClusterNodeHandle): Promise<ClusterNodeHandle[]>;
  /** SIGSTOP / SIGCONT a node: a stalled replica acknowledges no writes until resumed. */
  pause(node: ClusterNodeHandle): void;
  resume(node: ClusterNodeHandle): void;
  /** Resolves when every live node reports `cluster_state:ok` and every slot has a live master. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** Resolves when every master has `replicas` replicas online (a failover needs one). */
  waitReplicated(replicas?: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface StartRedisClusterOptions {
  /**
   * Milliseconds before a silent master is failed over. Default 5000, so a loaded machine does not fail
   * a healthy master over; failover tests pass a shorter one.
   */
  nodeTimeoutMs?: number;
  /** Append-only file with fsync on every write (default off). */
  persist?: boolean;
}

interface Node extends ClusterNodeHandle {
  child: ChildProcess;
  dir: string;
  alive: boolean;
  args: string[];
}

async function startNode(host: string, nodeTimeoutMs: number, persist: boolean): Promise<Node> {
  const port = await freePort(host);
  const dir = await mkdtemp(join(tmpdir(), 'sy-redis-cluster-'));
  const args = [
      '--port', String(port), '--bind', host, '--dir', dir, '--save', '',
      '--appendonly', persist ? 'yes' : 'no', ...(persist ? ['--appendfsync', 'always'] : []),
      '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf',
      '--cluster-node-timeout', String(nodeTimeoutMs),
  ]; // prettier-ignore
  const node = { host, port, address: `${host}:${port}`, dir, args } as Node;
  await launch(node);
  return node;
}

async function launch(node: Node): Promise<void> {
  const child = spawn('redis-server', node.args, { stdio: 'ignore' });
  child.unref();
  node.child = child;
  node.alive = true;
  child.once('exit', () => (node.alive = false));
  await waitForPing(node.host, node.port);
}

async function waitForPing(host: string, port: number, deadlineMs = 10_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const client = new Redis({
      host,
      port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.ping();
      return;
    } catch (err) {
      if (Date.now() > until) throw err;
      await sleep(25);
    } finally {
      client.disconnect();
    }
  }
}

async function ask<T>(node: ClusterNodeHandle, fn: (c: Redis) => Promise<T>): Promise<T> {
  const c = new Redis({
    host: node.host,
    port: node.port,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  c.on('error', () => undefined);
  try {
    return await fn(c);
  } finally {
    c.disconnect();
  }
}

/** `CLUSTER NODES` of one node: address -> { master, slots }. */
interface NodeView {
  id: string;
  master: boolean;
  failed: boolean;
  /** A replica's master id, else '-'. */
  masterId: string;
  slots: string[];
}

function parseNodes(text: string): Map<string, NodeView> {
  const out = new Map<string, NodeView>();
  for (const line of text.trim().split('\n')) {
    const [id, addr, flags, masterId, , , , , ...slots] = line.split(' ');
    if (!id || !addr || !flags || !masterId) continue;
    const address = addr.split('@')[0] ?? addr;
    out.set(address, {
      id,
      master: flags.includes('master'),
      failed: flags.includes('fail'),
      masterId,
      slots,
    });
  }
  return out;
}

/**
 * Starts a Redis Cluster (3 masters + 3 replicas) from `redis-server --cluster-enabled yes` on
 * free loopback ports, each in its own temp dir, joined with `redis-cli --cluster create`.
 */
export async function startRedisCluster(opts: StartRedisClusterOptions = {}): Promise<RedisClusterHandle> {
  const host = '127.0.0.1';
  const nodeTimeoutMs = opts.nodeTimeoutMs ?? 5_000;
  const nodes: Node[] = [];
  for (let i = 0; i < 6; i++) nodes.push(await startNode(host, nodeTimeoutMs, opts.persist ?? false));
  const live = () => nodes.filter((n) => n.alive);
  const topology = () => ask(live()[0] as Node, async (c) => parseNodes(String(await c.cluster('NODES'))));
  const handle: RedisClusterHandle = {
    nodes,
    seeds: nodes.map((n) => n.address),
    prefix: `t${randomBytes(4).toString('hex')}`,
    async masters() {
      const t = await topology();
      return live().filter((n) => {
        const info = t.get(n.address);
        return info?.master && !info.failed && info.slots.length > 0;
      });
    },
    async masterOf(key) {
      const slot = Number(await ask(live()[0] as Node, (c) => c.cluster('KEYSLOT', key)));
      const t = await topology();
      const owner = live().find((n) => {
        const info = t.get(n.address);
        return info?.master && !info.failed && info.slots.some((r) => inRange(r, slot));
      });
      if (!owner) throw new Error(`no live master serves slot ${slot}`);
      return owner;
    },
    async kill(node) {
      const n = nodes.find((x) => x.address === node.address);
      if (!n?.alive) return;
      const exited = new Promise((resolve) => n.child.once('exit', resolve));
      n.child.ref();
      n.child.kill('SIGKILL');
      await exited;
    },
    async replicasOf(master) {
      const t = await topology();
      const id = t.get(master.address)?.id;
      return live().filter((n) => id !== undefined && t.get(n.address)?.masterId === id);
    },
    pause: (node) => void nodes.find((x) => x.address === node.address)?.child.kill('SIGSTOP'),
    resume: (node) => void nodes.find((x) => x.address === node.address)?.child.kill('SIGCONT'),
    async restart(node) {
      const n = nodes.find((x) => x.address === node.address);
      if (n && !n.alive) await launch(n);
    },
    waitHealthy: (timeoutMs = 30_000) => waitHealthy(live, timeoutMs),
    async waitReplicated(replicas = 1, timeoutMs = 30_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const counts = await Promise.all(
          (await handle.masters()).map((m) =>
            ask(m, async (c) => (String(await c.info('replication')).match(/state=online/g) ?? []).length),
          ),
        );
        if (counts.length === 3 && counts.every((n) => n >= replicas)) return;
        if (Date.now() > until) throw new Error(`replicas not online within ${timeoutMs} ms`);
        await sleep(100);
      }
    },
    async stop() {
      for (const n of nodes) {
        if (n.alive) {
          const exited = new Promise((resolve) => n.child.once('exit', resolve));
          n.child.ref();
          n.child.kill('SIGTERM');
          await exited;
        }
        await rm(n.dir, { recursive: true, force: true });
      }
    },
  };
  try {
    await run('redis-cli', [
      '--cluster',
      'create',
      ...handle.seeds,
      '--cluster-replicas',
      '1',
      '--cluster-yes',
    ]);
    await handle.waitHealthy();
    await handle.waitReplicated();
  } catch (err) {
    await handle.stop();
    throw err;
  }
  return handle;
}

function inRange(range: string, slot: number): boolean {
  if (range.startsWith('[')) return false; // a slot being migrated
  const [from, to] = range.split('-').map(Number);
  return from !== undefined && slot >= from && slot <= (to ?? from);
}

async function waitHealthy(live: () => Node[], timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const states = await Promise.all(
      live().map((n) =>
        ask(n, async (c) => {
          const info = String(await c.cluster('INFO'));
          return /cluster_state:ok/.test(info) && /cluster_slots_ok:16384/.test(info);
        }).catch(() => false),
      ),
    );
    if (states.every(Boolean)) return;
    if (Date.now() > until) throw new Error(`Redis Cluster not healthy within ${timeoutMs} ms`);
    await sleep(100);
  }
}
