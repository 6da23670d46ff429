import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigSchema, type Config } from './schema.ts';

/** A config problem; the message names every offending key. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface LoadConfigOptions {
  /** Defaults to process.env; only the apps' main.ts pass it. */
  env: Record<string, string | undefined>;
  /** Explicit file path; otherwise `SWITCHYARD_CONFIG` from env; otherwise no file. */
  file?: string;
  /** Values applied under the file (e.g. the embedded default's demo model). */
  defaults?: Record<string, unknown>;
}

function formatIssues(error: z.ZodError, source: string): string {
  const lines = error.issues.map((i) => {
    const key = i.path.map(String).join('.') || '(root)';
    const extra = i.code === 'unrecognized_keys' ? ` (${i.keys.join(', ')})` : '';
    return `${key}: ${i.message}${extra}`;
  });
  // One line, so a process that cannot start says why in one line (every problem, `; `-separated).
  return `invalid configuration (${source}): ${lines.join('; ')}`;
}

function readFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(
      `config file ${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`,
    );
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${path} must hold a mapping at the top level`);
  }
  return parsed as Record<string, unknown>;
}

function section(obj: Record<string, unknown>, key: string): Record<string, unknown> {
  const value = obj[key];
  if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  const fresh: Record<string, unknown> = {};
  obj[key] = fresh;
  return fresh;
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
        ? deepMerge(b as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

/** Environment variables that override the file; README's configuration table lists them. */
export const ENV_OVERRIDES = {
  REDIS_URL: 'redis.url',
  REDIS_CLUSTER: 'redis.cluster',
  PORT: 'api.port',
  HOST: 'api.host',
  SWITCHYARD_ADMIN_KEY: 'api.adminKey',
  LOG_LEVEL: 'log.level',
} as const;

/**
 * Reads the config file (YAML or JSON), applies env overrides, validates, and returns a typed
 * config. Throws ConfigError naming each bad key; callers print it and exit.
 */
export function loadConfig(opts: LoadConfigOptions): Config {
  const file = opts.file ?? opts.env.SWITCHYARD_CONFIG;
  let raw = deepMerge(opts.defaults ?? {}, file ? readFile(file) : {});
  raw = structuredClone(raw);
  const env = opts.env;
  if (env.REDIS_URL) section(raw, 'redis').url = env.REDIS_URL;
  if (env.REDIS_CLUSTER) section(raw, 'redis').cluster = env.REDIS_CLUSTER.split(',').map((s) => s.trim());
  const redis = raw.redis as Record<string, unknown> | undefined;
  if (redis?.url !== undefined && redis.cluster !== undefined)
    throw new ConfigError(
      'invalid configuration: redis.url (REDIS_URL) and redis.cluster (REDIS_CLUSTER) are both set; ' +
        'set redis.url for one Redis or redis.cluster for a Redis Cluster',
    );
  if (env.HOST) section(raw, 'api').host = env.HOST;
  if (env.SWITCHYARD_ADMIN_KEY) section(raw, 'api').adminKey = env.SWITCHYARD_ADMIN_KEY;
  if (env.LOG_LEVEL) section(raw, 'log').level = env.LOG_LEVEL;
  if (env.PORT !== undefined && env.PORT !== '') {
    const port = Number(env.PORT);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new ConfigError(
        `invalid configuration (env): PORT (api.port): expected a port number, got "${env.PORT}"`,
      );
    }
    section(raw, 'api').port = port;
  }
  const result = ConfigSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(formatIssues(result.error, file ?? 'defaults and environment'));
  return result.data;
}
