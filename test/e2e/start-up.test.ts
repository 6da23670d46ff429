import { freePort, startRedis, type RedisHandle } from '@switchyard/test-kit';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkerProcess, type WorkerProcess } from './support/worker-process.ts';

const WORKER_MAIN = new URL('../../apps/worker/src/main.ts', import.meta.url).pathname;
const API_MAIN = new URL('../../apps/api/src/main.ts', import.meta.url).pathname;

/** A config file as an operator writes it: only what differs from the defaults. */
function configFile(config: Record<string, unknown>): string {
  const path = join(mkdtempSync(join(tmpdir(), 'sy-start-')), 'switchyard.json');
  writeFileSync(path, JSON.stringify(config));
  return path;
}

/** Runs the worker to its exit; its exit code and what it wrote to stderr. */
function runWorker(
  configPath: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; stderr: string }> {
  return runMain(WORKER_MAIN, configPath, env);
}

/** Runs an app's main to its exit; its exit code and what it wrote to stderr. */
function runMain(
  main: string,
  configPath: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [main], {
      env: {
        ...process.env,
        SWITCHYARD_CONFIG: configPath,
        REDIS_URL: '',
        PORT: '',
        LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('worker processes start anywhere, and say why when they cannot', () => {
  let redis: RedisHandle;
  const workers: WorkerProcess[] = [];
  let taken: Server;
  let takenPort: number;

  beforeAll(async () => {
    redis = await startRedis();
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    takenPort = (taken.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const w of workers) w.terminate('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await new Promise((resolve) => taken.close(resolve));
    await redis.stop();
  });

  it('three workers with the default config start on one host, each logging its own metrics port', async () => {
    const path = configFile({ redis: { url: redis.url, prefix: redis.prefix } });
    for (let i = 0; i < 3; i++) workers.push(await startWorkerProcess(path));
    const ports = workers.map((w) => {
      const line = w.output.join('').match(/"metricsUrl":"http:\/\/127\.0\.0\.1:(\d+)\/metrics"/);
      return Number(line?.[1]);
    });
    expect(ports.every((p) => p > 0)).toBe(true);
    expect(new Set(ports).size).toBe(3);
    const res = await fetch(`http://127.0.0.1:${ports[0]}/metrics`);
    expect(res.status).toBe(200);
  });

  it('an explicitly configured metrics port that is taken is one line naming the key, and exit 1', async () => {
    const path = configFile({
      redis: { url: redis.url, prefix: redis.prefix },
      worker: { metricsPort: takenPort },
    });
    const r = await runWorker(path);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `switchyard worker: worker.metricsPort: 127.0.0.1:${takenPort} is already in use (another worker on this host?); ` +
        'set another port, or 0 for any free one\n',
    );
  });

  it('a bad config value is one line naming the key, and exit 1', async () => {
    const r = await runWorker(configFile({ redis: { url: redis.url }, worker: { metricsPort: -1 } }));
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^switchyard worker: .*worker\.metricsPort/);
  });
});

describe('a process that cannot reach Redis or lacks a provider key says so in one line', () => {
  for (const [app, main] of [
    ['worker', WORKER_MAIN],
    ['api', API_MAIN],
  ] as const) {
    it(`the ${app}: Redis unreachable after redis.startupWaitMs is one line naming REDIS_URL, and exit 1`, async () => {
      const port = await freePort(); // nothing listens on it
      const path = configFile({
        redis: { url: `redis://:s3cret@127.0.0.1:${port}`, startupWaitMs: 600 },
        api: { port: 0 },
        worker: { metricsPort: 0 },
      });
      const r = await runMain(main, path);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `switchyard ${app}: redis.url (REDIS_URL): cannot reach redis://:***@127.0.0.1:${port} within 600 ms ` +
          `(connect ECONNREFUSED 127.0.0.1:${port}); start Redis or fix the URL (redis.startupWaitMs sets the wait)\n`,
      );
    });
  }

  it('the worker: a configured model whose key variable is unset is one line naming it, and exit 1', async () => {
    const redis = await startRedis();
    try {
      const path = configFile({
        redis: { url: redis.url, prefix: redis.prefix },
        worker: { metricsPort: 0 },
        models: {
          'gpt-4o-mini': {
            baseUrl: 'https://api.openai.com/v1',
            upstreamModel: 'gpt-4o-mini',
            apiKeyEnv: 'SY_TEST_UNSET_PROVIDER_KEY',
          },
        },
      });
      const r = await runWorker(path, { SY_TEST_UNSET_PROVIDER_KEY: '' });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        'switchyard worker: models.gpt-4o-mini.apiKeyEnv: the environment variable SY_TEST_UNSET_PROVIDER_KEY ' +
          'is not set; export it, or remove the model from the config\n',
      );
    } finally {
      await redis.stop();
    }
  });
});

describe('the API says why it cannot start', () => {
  it('a taken api.port is one line naming the key, and exit 1', async () => {
    const redis = await startRedis();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const path = configFile({
        redis: { url: redis.url, prefix: redis.prefix },
        api: { host: '127.0.0.1', port },
      });
      const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [API_MAIN], {
          env: { ...process.env, SWITCHYARD_CONFIG: path, REDIS_URL: '', PORT: '', LOG_LEVEL: 'warn' },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (code) => resolve({ code, stderr }));
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `switchyard api: api.port (PORT): 127.0.0.1:${port} is already in use; set another port\n`,
      );
    } finally {
      await new Promise((resolve) => taken.close(resolve));
      await redis.stop();
    }
  });
});
