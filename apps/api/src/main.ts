import { ConfigError, loadConfig, redisUnreachable } from '@switchyard/config';
import { createRedis, runOnFleetClock, whenReady } from '@switchyard/jobs';
import { createLogger, startTracing } from '@switchyard/telemetry';
import { buildApiServer } from './server.ts';

let config;
try {
  config = loadConfig({ env: process.env });
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`switchyard api: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}

const logger = createLogger({ name: 'switchyard-api', level: config.log.level });
const tracing = await startTracing('switchyard-api');
const redis = createRedis(config.redis, { role: 'api', name: 'sy-api' });
const eventsRedis = createRedis(config.redis, { role: 'worker', name: 'sy-api-events' });
try {
  // A process that cannot reach Redis says so and exits 1, and its orchestrator restarts it; one
  // that listened anyway would answer 503 to everything while looking alive.
  const wait = config.redis.startupWaitMs;
  await Promise.all([whenReady(redis, wait), whenReady(eventsRedis, wait)]);
} catch (err) {
  process.stderr.write(`switchyard api: ${redisUnreachable(config, err).message}\n`);
  process.exit(1);
}
// Deadlines and budget days are the fleet's: on the Redis server's clock (ADR 0022).
const clock = await runOnFleetClock(eventsRedis, {
  onSkew: (offsetMs) =>
    logger.warn({ offsetMs }, "this host's clock is off the Redis server's; running on the server's"),
});
const server = await buildApiServer({ config, logger, redis, eventsRedis });
try {
  await server.app.listen({ host: config.api.host, port: config.api.port });
} catch (err) {
  // One line and exit 1, never a stack: the port is the usual cause.
  const { host, port } = config.api;
  const why =
    (err as NodeJS.ErrnoException).code === 'EADDRINUSE'
      ? `api.port (PORT): ${host}:${port} is already in use; set another port`
      : `could not start: ${(err as Error).message}`;
  process.stderr.write(`switchyard api: ${why}\n`);
  process.exit(1);
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void server
      .close()
      .then(() => {
        clock.stop();
        return Promise.all([redis.quit(), eventsRedis.quit(), tracing?.shutdown()]);
      })
      .finally(() => process.exit(0));
  });
}
