import { buildApiServer, type ApiServer } from '@switchyard/api';
import { redisUnreachable, type Config } from '@switchyard/config';
import { createRedis, whenReady } from '@switchyard/jobs';
import type { Logger } from '@switchyard/telemetry';
import { WorkerApp } from '@switchyard/worker';
import type { Cluster, Redis } from 'ioredis';

export interface StackOptions {
  config: Config;
  logger: Logger;
  secrets?: Record<string, string | undefined>;
  /** Run the API in this process (default true). */
  api?: boolean;
  /** Run a worker in this process (default true). */
  worker?: boolean;
}

export interface Stack {
  /** Base URL of the API, e.g. http://127.0.0.1:8080 (empty when no API runs). */
  url: string;
  api: ApiServer | undefined;
  worker: WorkerApp | undefined;
  close(): Promise<void>;
}

/** API and worker in one process, sharing nothing but Redis: the embedded default and e2e tests. */
export async function startStack(opts: StackOptions): Promise<Stack> {
  const { config, logger } = opts;
  const clients: (Redis | Cluster)[] = [];
  let api: ApiServer | undefined;
  let url = '';
  let worker: WorkerApp | undefined;
  const close = async () => {
    await worker?.stop(5_000);
    await api?.close();
    await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
  };
  try {
    if (opts.api ?? true) {
      const redis = createRedis(config.redis, { role: 'api', name: 'sy-api' });
      const eventsRedis = createRedis(config.redis, { role: 'worker', name: 'sy-api-events' });
      clients.push(redis, eventsRedis);
      // Listening before the client is ready would answer the first requests 503.
      const wait = config.redis.startupWaitMs;
      await Promise.all([whenReady(redis, wait), whenReady(eventsRedis, wait)]).catch((err: unknown) => {
        throw redisUnreachable(config, err);
      });
      api = await buildApiServer({ config, logger: logger.child({ app: 'api' }), redis, eventsRedis });
      const address = await api.app.listen({ host: config.api.host, port: config.api.port });
      url = address.replace('[::1]', 'localhost');
    }
    if (opts.worker ?? true) {
      worker = new WorkerApp({
        config,
        logger: logger.child({ app: 'worker' }),
        secrets: opts.secrets ?? {},
      });
      await worker.start();
    }
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
  return { url, api, worker, close };
}
