import { buildApiServer, type ApiServer } from '@switchyard/api';
import type { Config } from '@switchyard/config';
import { createRedis } from '@switchyard/queue';
import type { Logger } from '@switchyard/telemetry';
import { WorkerApp } from '@switchyard/worker';
import type { Redis } from 'ioredis';

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
  const clients: Redis[] = [];
  let api: ApiServer | undefined;
  let url = '';
  if (opts.api ?? true) {
    const redis = createRedis(config.redis.url, { role: 'api', name: 'sy-api' });
    const eventsRedis = createRedis(config.redis.url, { role: 'worker', name: 'sy-api-events' });
    clients.push(redis, eventsRedis);
    api = await buildApiServer({ config, logger: logger.child({ app: 'api' }), redis, eventsRedis });
    const address = await api.app.listen({ host: config.api.host, port: config.api.port });
    url = address.replace('[::1]', 'localhost');
  }
  let worker: WorkerApp | undefined;
  if (opts.worker ?? true) {
    worker = new WorkerApp({ config, logger: logger.child({ app: 'worker' }), secrets: opts.secrets ?? {} });
    await worker.start();
  }
  return {
    url,
    api,
    worker,
    async close() {
      await worker?.stop(5_000);
      await api?.close();
      await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}
