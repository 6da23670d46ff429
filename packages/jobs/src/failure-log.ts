import type { FailureGroup, FailureRecord } from '@switchyard/contracts';
import type { Cluster, Redis } from 'ioredis';
import { jobKeys } from './keys.ts';

/** How many failures the log keeps by default: enough to group the recent ones by code. */
export const FAILURE_LOG_CAPACITY = 500;
const MESSAGE_CHARS = 200;

/**
 * The last jobs that failed for good, fleet-wide, newest first: one LPUSH and one LTRIM per
 * failure (O(1): the trim drops at most one entry), nothing on success. The ops page groups them
 * by code; the jobs themselves stay the record of what happened.
 */
export class FailureLog {
  readonly #redis: Redis | Cluster;
  readonly #key: string;
  readonly capacity: number;

  constructor(opts: { redis: Redis | Cluster; prefix: string; capacity?: number }) {
    this.#redis = opts.redis;
    this.#key = jobKeys(opts.prefix).failures;
    this.capacity = opts.capacity ?? FAILURE_LOG_CAPACITY;
  }

  async record(failure: FailureRecord): Promise<void> {
    const entry: FailureRecord = { ...failure, message: failure.message.slice(0, MESSAGE_CHARS) };
    await this.#redis
      .multi()
      .lpush(this.#key, JSON.stringify(entry))
      .ltrim(this.#key, 0, this.capacity - 1)
      .exec();
  }

  /** The kept failures, newest first (entries that do not parse are skipped). */
  async recent(): Promise<FailureRecord[]> {
    const raw = await this.#redis.lrange(this.#key, 0, this.capacity - 1);
    return raw.flatMap((s) => {
      try {
        return [JSON.parse(s) as FailureRecord];
      } catch {
        return [];
      }
    });
  }
}

/** Failures by code, the most frequent first (ties: the most recent first); `last` is the newest. */
export function groupFailures(failures: FailureRecord[]): FailureGroup[] {
  const groups = new Map<string, FailureGroup>();
  for (const f of failures) {
    const g = groups.get(f.code);
    if (g) g.count++;
    else groups.set(f.code, { code: f.code, count: 1, last: f });
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || (a.last.at < b.last.at ? 1 : -1));
}
