import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import type { Logger } from '@switchyard/telemetry';

export interface FoundRedis {
  url: string;
  source: 'env' | 'local' | 'spawned' | 'container';
  stop(): Promise<void>;
}

async function answers(url: string, timeoutMs = 500): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

async function spawnRedis(dataDir: string): Promise<FoundRedis | undefined> {
  mkdirSync(dataDir, { recursive: true });
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dataDir, '--appendonly', 'yes'],
    {
      stdio: 'ignore',
    },
  );
  const failed = new Promise<boolean>((resolve) => child.once('error', () => resolve(true)));
  for (let i = 0; i < 100; i++) {
    if (await Promise.race([failed, sleep(50).then(() => false)])) return undefined;
    if (await answers(url)) {
      return {
        url,
        source: 'spawned',
        stop: async () => {
          child.kill('SIGTERM');
          await new Promise((r) => child.once('exit', r));
        },
      };
    }
  }
  child.kill('SIGKILL');
  return undefined;
}

async function containerRedis(): Promise<FoundRedis | undefined> {
  try {
    const { GenericContainer } = await import('testcontainers');
    const c = await new GenericContainer('redis:7-alpine').withExposedPorts(6379).start();
    return {
      url: `redis://${c.getHost()}:${c.getMappedPort(6379)}`,
      source: 'container',
      stop: async () => void (await c.stop()),
    };
  } catch {
    return undefined;
  }
}

export const NO_REDIS_HELP = [
  'Switchyard needs Redis and found none:',
  '  - REDIS_URL is not set,',
  '  - nothing answers on 127.0.0.1:6379,',
  '  - redis-server is not on PATH, and no container runtime is available.',
  'Install Redis (e.g. `apt-get install redis-server` or `brew install redis`), or set',
  'REDIS_URL=redis://host:6379, then run `pnpm start` again.',
].join('\n');

/** REDIS_URL, else a local Redis on 6379, else redis-server from PATH, else testcontainers. */
export async function discoverRedis(opts: {
  envUrl: string | undefined;
  dataDir: string;
  logger: Logger;
}): Promise<FoundRedis | undefined> {
  if (opts.envUrl) return { url: opts.envUrl, source: 'env', stop: async () => undefined };
  const local = 'redis://127.0.0.1:6379';
  if (await answers(local)) return { url: local, source: 'local', stop: async () => undefined };
  opts.logger.info('no Redis on 127.0.0.1:6379; starting redis-server');
  const spawned = await spawnRedis(opts.dataDir);
  if (spawned) return spawned;
  opts.logger.info('redis-server is not available; trying testcontainers');
  return containerRedis();
}
