import { ConfigError, loadConfig } from '@switchyard/config';
import { createRedis } from '@switchyard/queue';
import { createLogger } from '@switchyard/telemetry';
import { buildApiServer } from './server.ts';

let config;
try {
  config = loadConfig({ env: process.env });
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`switchyard api: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
}

const logger = createLogger({ name: 'switchyard-api', level: config.log.level });
const redis = createRedis(config.redis.url, { role: 'api', name: 'sy-api' });
const eventsRedis = createRedis(config.redis.url, { role: 'worker', name: 'sy-api-events' });
const server = await buildApiServer({ config, logger, redis, eventsRedis });
await server.app.listen({ host: config.api.host, port: config.api.port });

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void server
      .close()
      .then(() => Promise.all([redis.quit(), eventsRedis.quit()]))
      .finally(() => process.exit(0));
  });
}
