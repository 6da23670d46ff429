import { ConfigError, loadConfig, missingProviderKey } from '@switchyard/config';
import { createRedis, runOnFleetClock } from '@switchyard/jobs';
import { createLogger, startTracing } from '@switchyard/telemetry';
import { parseArgs } from 'node:util';
import { lowerBatchPriority } from './cpu-priority.ts';
import { WorkerApp } from './worker-app.ts';

/** A process that cannot start says why in one line (the key to change, for config) and exits 1. */
function cannotStart(err: unknown): never {
  const why = err instanceof ConfigError ? err.message : `could not start: ${(err as Error).message}`;
  process.stderr.write(`switchyard worker: ${why}\n`);
  process.exit(1);
}

let config;
try {
  const { values } = parseArgs({ options: { lanes: { type: 'string' } }, strict: true });
  config = loadConfig({ env: process.env });
  if (values.lanes) {
    const lanes = values.lanes.split(',').map((l) => l.trim());
    const bad = lanes.filter((l) => l !== 'interactive' && l !== 'batch');
    if (bad.length || lanes.length === 0)
      throw new ConfigError(`--lanes: expected interactive and/or batch, got "${values.lanes}"`);
    config.worker.lanes = lanes as ('interactive' | 'batch')[];
  }
  const missing = missingProviderKey(config, process.env);
  if (missing) throw new ConfigError(missing);
} catch (err) {
  cannotStart(err);
}

const logger = createLogger({ name: 'switchyard-worker', level: config.log.level });
const nice = lowerBatchPriority(config, logger);
if (nice !== undefined) logger.info({ nice }, 'batch-only worker: CPU priority lowered (worker.batchNice)');
const tracing = await startTracing('switchyard-worker');
const secrets = Object.fromEntries(
  Object.values(config.models)
    .flatMap((m) => (m.apiKeyEnv ? [m.apiKeyEnv] : []))
    .map((name) => [name, process.env[name]]),
);
// On the Redis server's clock before anything reads the time (ADR 0022).
const clockRedis = createRedis(config.redis, { role: 'worker', name: 'sy-worker-clock' });
const clock = await runOnFleetClock(clockRedis, {
  firstWithinMs: config.redis.startupWaitMs,
  onSkew: (offsetMs) =>
    logger.warn({ offsetMs }, "this host's clock is off the Redis server's; running on the server's"),
});
const app = new WorkerApp({ config, logger, secrets });
try {
  await app.start();
} catch (err) {
  cannotStart(err);
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void app
      .stop()
      .then(() => {
        clock.stop();
        clockRedis.disconnect();
        return tracing?.shutdown();
      })
      .finally(() => process.exit(0));
  });
}
