import { jobKeys } from '@switchyard/jobs';
import type { Cluster, Redis } from 'ioredis';

const TTL_SECONDS = 3600;
const MAX_EVENTS = 100_000;

/**
 * Writes a streaming job's events to a Redis stream the API relays as SSE: `d` (a content delta),
 * `retry` (an attempt failed before any delta; another follows), `done` and `fail`. Every event
 * names its attempt, so the API can refuse to splice two attempts into one answer.
 * Writes are sent in order on one connection without awaiting each one.
 */
export class DeltaRelay {
  private readonly redis: Redis | Cluster;
  private readonly key: string;
  private readonly attempt: number;
  sent = 0;

  constructor(opts: { redis: Redis | Cluster; prefix: string; jobId: string; attempt: number }) {
    this.redis = opts.redis;
    this.key = jobKeys(opts.prefix).deltas(opts.jobId);
    this.attempt = opts.attempt;
  }

  private add(type: string, extra: Record<string, string> = {}): Promise<unknown> {
    return this.redis
      .multi()
      .xadd(
        this.key,
        'MAXLEN',
        '~',
        MAX_EVENTS,
        '*',
        't',
        type,
        'a',
        String(this.attempt),
        ...Object.entries(extra).flat(),
      )
      .expire(this.key, TTL_SECONDS)
      .exec();
  }

  /** Numbered from 1 per attempt (`n`), so a reader can tell a delta the stream's cap dropped. */
  delta(text: string): void {
    this.sent += 1;
    void this.add('d', { c: text, n: String(this.sent) }).catch(() => undefined);
  }

  async retry(): Promise<void> {
    await this.add('retry');
  }

  async done(payload: {
    model: string;
    finishReason: string | null;
    inputTokens: number;
    outputTokens: number;
    cachedInputTokens?: number;
    cacheWriteTokens?: number;
    reasoningTokens?: number;
    costNanos: number;
    /** Replayed from the response cache. */
    cached?: boolean;
  }): Promise<void> {
    await this.add('done', { p: JSON.stringify(payload) });
  }

  async fail(code: string, message: string): Promise<void> {
    await this.add('fail', { p: JSON.stringify({ code, message }) });
  }
}

/** Opens the relay of one attempt of a streaming job. */
export class DeltaRelays {
  private readonly redis: Redis | Cluster;
  private readonly prefix: string;

  constructor(opts: { redis: Redis | Cluster; prefix: string }) {
    this.redis = opts.redis;
    this.prefix = opts.prefix;
  }

  open(jobId: string, attempt: number): DeltaRelay {
    return new DeltaRelay({ redis: this.redis, prefix: this.prefix, jobId, attempt });
  }
}
