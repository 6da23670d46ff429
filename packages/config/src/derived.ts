import { ConfigError } from './load.ts';
import type { Config } from './schema.ts';

/**
 * How long a job's attempt records (the ledger's entries, the attempt counters) live: an hour
 * past the job's own retention, so a job read at the end of its retention still has them.
 */
export function attemptTtlSeconds(config: Pick<Config, 'jobs'>): number {
  return config.jobs.retentionSeconds + 3600;
}

/**
 * The first configured model whose provider key is missing from `env` (a worker would fail every
 * job for it with `provider_not_configured`), as a one-line start-up error; undefined when all
 * are set.
 */
export function missingProviderKey(
  config: Pick<Config, 'models'>,
  env: Record<string, string | undefined>,
): string | undefined {
  for (const [name, model] of Object.entries(config.models)) {
    if (model.apiKeyEnv && !env[model.apiKeyEnv])
      return (
        `models.${name}.apiKeyEnv: the environment variable ${model.apiKeyEnv} is not set; ` +
        'export it, or remove the model from the config'
      );
  }
  return undefined;
}

/** A Redis URL without its password, for messages and logs. */
export function redactedRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'an unparsable URL';
  }
}

/** The start-up error of a process that could not reach Redis within `redis.startupWaitMs`. */
export function redisUnreachable(config: Pick<Config, 'redis'>, cause: unknown): ConfigError {
  const detail = (cause as Error).message.match(/\((.*)\)$/)?.[1];
  return new ConfigError(
    `redis.url (REDIS_URL): cannot reach ${redactedRedisUrl(config.redis.url)} within ` +
      `${config.redis.startupWaitMs} ms${detail ? ` (${detail})` : ''}; start Redis or fix the URL ` +
      '(redis.startupWaitMs sets the wait)',
  );
}
