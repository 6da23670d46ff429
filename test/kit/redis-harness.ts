import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** A Redis a test can use; `kill`/`restart` exist only on instances the test owns. */
export interface RedisHandle {
  url: string;
  host: string;
  port: number;
  /** How the instance was obtained, for logs: `env`, `shared`, `container`, `spawned`. */
  source: 'env' | 'shared' | 'container' | 'spawned';
  /** A key prefix unique to this handle, so test files can share one server safely. */
  prefix: string;
  stop(): Promise<void>;
  /** SIGKILL the server (dedicated instances only). */
  kill(): Promise<void>;
  /** Start the server again on the same port after `kill` (dedicated instances only). */
  restart(): Promise<void>;
  /**
   * Freeze the server (SIGSTOP; a container is paused): connections stay open and commands hang,
   * as with a Redis stuck on a slow disk or swapped out (dedicated instances only).
   */
  pause(): Promise<void>;
  /** Thaw a paused server (SIGCONT; the container is unpaused). */
  resume(): Promise<void>;
}

export interface StartRedisOptions {
  /** Own instance: required for anything that flushes, kills or reconfigures Redis. */
  dedicated?: boolean;
  /** Append-only file with fsync on every write, so data survives `kill()` + `restart()`. */
  persist?: boolean;
}

const persistArgs = (persist: boolean) =>
  persist ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];

const uniquePrefix = () => `t${randomBytes(4).toString('hex')}`;

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForPing(url: string, deadlineMs = 10_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.ping();
      client.disconnect();
      return;
    } catch (err) {
      client.disconnect();
      if (Date.now() > until) throw err;
      await sleep(25);
    }
  }
}

let runtimeAvailable: Promise<boolean> | undefined;
/** True when testcontainers finds a container runtime; cached per process. */
export function containerRuntimeAvailable(): Promise<boolean> {
  runtimeAvailable ??= (async () => {
    if (process.env.SWITCHYARD_TEST_NO_CONTAINERS === '1') return false;
    try {
      const { getContainerRuntimeClient } = await import('testcontainers');
      await getContainerRuntimeClient();
      return true;
    } catch {
      return false;
    }
  })();
  return runtimeAvailable;
}

async function runtimeContainer(id: string) {
  const { getContainerRuntimeClient } = await import('testcontainers');
  return (await getContainerRuntimeClient()).container.getById(id);
}

async function startContainer(persist: boolean): Promise<RedisHandle> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer('redis:7-alpine')
    .withExposedPorts(6379)
    .withCommand(['redis-server', '--save', '', ...persistArgs(persist)])
    .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'))
    .start();
  const host = container.getHost();
  const port = container.getMappedPort(6379);
  let stopped = false;
  return {
    url: `redis://${host}:${port}`,
    host,
    port,
    source: 'container',
    prefix: uniquePrefix(),
    async stop() {
      if (stopped) return;
      stopped = true;
      await container.stop();
    },
    async kill() {
      await container.exec(['redis-cli', 'shutdown', 'nosave']).catch(() => undefined);
    },
    async restart() {
      await container.restart();
      await waitForPing(`redis://${host}:${port}`);
    },
    // The runtime's freezer: a SIGSTOP sent inside would reach PID 1, which ignores it.
    pause: async () => (await runtimeContainer(container.getId())).pause(),
    resume: async () => (await runtimeContainer(container.getId())).unpause(),
  };
}

/** Spawns `redis-server` on a free loopback port with its own temp dir. */
export async function spawnRedisServer(persist = false): Promise<RedisHandle> {
  const host = '127.0.0.1';
  const port = await freePort(host);
  const dir = await mkdtemp(join(tmpdir(), 'sy-redis-'));
  const url = `redis://${host}:${port}`;
  let child: ChildProcess | undefined;
  const launch = async () => {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', host, '--save', '', ...persistArgs(persist), '--dir', dir],
      { stdio: 'ignore' },
    );
    child.unref();
    await waitForPing(url);
  };
  const killChild = async (signal: NodeJS.Signals) => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((resolve) => c.once('exit', resolve));
    c.ref(); // an unref'd child would let a plain script exit before 'exit' arrives
    c.kill(signal);
    if (signal !== 'SIGKILL') c.kill('SIGCONT'); // a paused server acts on SIGTERM only once thawed
    await exited;
  };
  const signal = (sig: NodeJS.Signals) => async () => {
    if (!child || child.exitCode !== null || child.signalCode !== null)
      throw new Error('redis-server is not running');
    child.kill(sig);
  };
  await launch();
  return {
    url,
    host,
    port,
    source: 'spawned',
    prefix: uniquePrefix(),
    async stop() {
      await killChild('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
    kill: () => killChild('SIGKILL'),
    restart: launch,
    pause: signal('SIGSTOP'),
    resume: signal('SIGCONT'),
  };
}

/**
 * A Redis for one test file. Shared (the default): `REDIS_URL` when set, else the instance the
 * global setup started; isolation comes from `prefix`. Dedicated: testcontainers when a container
 * runtime exists, else a spawned `redis-server`.
 */
export async function startRedis(opts: StartRedisOptions = {}): Promise<RedisHandle> {
  if (!opts.dedicated) {
    const shared = process.env.REDIS_URL ?? process.env.SWITCHYARD_TEST_REDIS_URL;
    if (shared) {
      const u = new URL(shared);
      const notOwned = async () => {
        throw new Error('kill/restart/pause need startRedis({ dedicated: true })');
      };
      return {
        url: shared,
        host: u.hostname,
        port: Number(u.port || 6379),
        source: process.env.REDIS_URL ? 'env' : 'shared',
        prefix: uniquePrefix(),
        stop: async () => undefined,
        kill: notOwned,
        restart: notOwned,
        pause: notOwned,
        resume: notOwned,
      };
    }
  }
  if (await containerRuntimeAvailable()) return startContainer(opts.persist ?? false);
  return spawnRedisServer(opts.persist ?? false);
}
