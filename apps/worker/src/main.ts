import { ConfigError, loadConfig } from '@switchyard/config';
import { createLogger, startTracing } from '@switchyard/telemetry';
import { parseArgs } from 'node:util';
import { WorkerApp } from './worker-app.ts';

const { values } = parseArgs({ options: { lanes: { type: 'string' } }, strict: true });

let config;
try {
  config = loadConfig({ env: process.env });
  if (values.lanes) {
    const lanes = values.lanes.split(',').map((l) => l.trim());
    const bad = lanes.filter((l) => l !== 'interactive' && l !== 'batch');
    if (bad.length || lanes.length === 0)
      throw new ConfigError(`--lanes: expected interactive and/or batch, got "${values.lanes}"`);
    config.worker.lanes = lanes as ('interactive' | 'batch')[];
  }
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`switchyard worker: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
}

const logger = createLogger({ name: 'switchyard-worker', level: config.log.level });
const tracing = startTracing('switchyard-worker');
const secrets = Object.fromEntries(
  Object.values(config.models)
    .flatMap((m) => (m.apiKeyEnv ? [m.apiKeyEnv] : []))
    .map((name) => [name, process.env[name]]),
);
const app = new WorkerApp({ config, logger, secrets });
await app.start();

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void app
      .stop()
      .then(() => tracing?.shutdown())
      .finally(() => process.exit(0));
  });
}
