import { ConfigError, loadConfig, missingProviderKey, type ConfigInput } from '@switchyard/config';
import { startMockLlm } from '@switchyard/mock-upstream';
import { createLogger, startTracing } from '@switchyard/telemetry';
import { join } from 'node:path';
import { ensureAdminKey, ensureDefaultTenant, readState, writeState } from './bootstrap.ts';
import { discoverRedis, NO_REDIS_HELP } from './redis-discovery.ts';
import { startStack } from './stack.ts';

/**
 * `pnpm start`: Switchyard with nothing configured. Finds or starts Redis, runs a local demo
 * model, starts API and worker in one process, and prints a curl command that works as is.
 */
const env = process.env;
const dataDir = env.SWITCHYARD_DATA_DIR ?? join(process.cwd(), '.data');
const logger = createLogger({ name: 'switchyard', level: env.LOG_LEVEL ?? 'info' });
const tracing = await startTracing('switchyard');

// REDIS_CLUSTER names a Redis Cluster's seed nodes: nothing to find or start then.
const redis = env.REDIS_CLUSTER
  ? { url: env.REDIS_CLUSTER, source: 'cluster' as const, stop: async () => undefined }
  : await discoverRedis({ envUrl: env.REDIS_URL, dataDir: join(dataDir, 'redis'), logger });
if (!redis) {
  process.stderr.write(`${NO_REDIS_HELP}\n`);
  process.exit(1);
}

const demo = await startMockLlm({
  host: '127.0.0.1',
  port: 0,
  latencyMs: { min: 20, max: 120 },
  answerWords: 24,
});
const models: NonNullable<ConfigInput['models']> = {
  'switchyard-demo': {
    baseUrl: `${demo.url}/v1`,
    upstreamModel: 'mock-small',
    demo: true,
    price: { inputPerMTok: 0.15, outputPerMTok: 0.6 },
  },
};
if (env.OPENAI_API_KEY) {
  models['gpt-4o-mini'] = {
    baseUrl: 'https://api.openai.com/v1',
    apiKeyEnv: 'OPENAI_API_KEY',
    upstreamModel: 'gpt-4o-mini',
    price: { inputPerMTok: 0.15, outputPerMTok: 0.6 },
  };
}

const state = readState(dataDir);
let config;
try {
  // No proxies come with the embedded default, so scrapes dial targets directly unless the
  // config file says otherwise. For local development the SSRF guard lets scrapes reach this
  // machine (127.0.0.0/8, ::1, any port), and webhooks be delivered to it; a config file's
  // scrape.* / webhooks.* allowCidrs and allowPorts replace that (docs/security.md).
  config = loadConfig({
    env: redis.source === 'cluster' ? env : { ...env, REDIS_URL: redis.url },
    defaults: {
      models,
      scrape: { egress: 'direct', allowCidrs: ['127.0.0.0/8', '::1/128'], allowPorts: 'any' },
      webhooks: { allowCidrs: ['127.0.0.0/8', '::1/128'], allowPorts: 'any' },
      // API and worker share this process, and its /metrics is the API's; the worker's own metrics
      // server takes any free port so two launchers on one machine never collide.
      worker: { metricsPort: 0 },
    },
  });
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`switchyard: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
config.api.adminKey = ensureAdminKey(config.api.adminKey, state);

const missing = missingProviderKey(config, env);
if (missing) {
  process.stderr.write(`switchyard: ${missing}\n`);
  process.exit(1);
}
const secrets = Object.fromEntries(
  Object.values(config.models).flatMap((m) => (m.apiKeyEnv ? [[m.apiKeyEnv, env[m.apiKeyEnv]]] : [])),
);
const stack = await startStack({ config, logger, secrets }).catch((err: NodeJS.ErrnoException) => {
  // One line and exit 1, never a stack: the port is the usual cause.
  const why =
    err.code === 'EADDRINUSE'
      ? `api.port (PORT): ${config.api.host}:${config.api.port} is already in use; set PORT to a free port`
      : err instanceof ConfigError
        ? err.message
        : `could not start: ${err.message}`;
  process.stderr.write(`switchyard: ${why}\n`);
  process.exit(1);
});
const tenants = stack.api?.tenants;
if (!tenants) throw new Error('the embedded default always runs the API');
const { tenantId, apiKey, created } = await ensureDefaultTenant(tenants, state);
writeState(dataDir, { adminKey: config.api.adminKey, tenantId, apiKey });

const banner = [
  '',
  `Switchyard is running at ${stack.url} (Redis: ${redis.source} ${redis.url}).`,
  `Demo model "switchyard-demo" is a local mock (${demo.url}), not a real LLM.`,
  created
    ? `Created tenant "${tenantId}" and an API key (saved in ${join(dataDir, 'standalone.json')}).`
    : `Tenant "${tenantId}"; API key from ${join(dataDir, 'standalone.json')}.`,
  '',
  'Try it:',
  `  curl -s ${stack.url}/v1/jobs -H 'Authorization: Bearer ${apiKey}' -H 'Content-Type: application/json' -H 'Prefer: wait=10' \\`,
  `    -d '{"type":"completion","lane":"interactive","request":{"model":"switchyard-demo","messages":[{"role":"user","content":"Hello, Switchyard"}]}}'`,
  '',
  `API docs: ${stack.url}/docs`,
  `Ops page: ${stack.url}/admin (log in with the adminKey saved in ${join(dataDir, 'standalone.json')})`,
  '',
].join('\n');
process.stdout.write(banner);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void (async () => {
      await stack.close();
      await demo.close();
      await redis.stop();
      await tracing?.shutdown();
      process.exit(0);
    })();
  });
}
