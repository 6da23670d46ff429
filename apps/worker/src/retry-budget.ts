import { jobKeys } from '@switchyard/jobs';
import type { Cluster, Redis } from 'ioredis';
import { defineScripts, type ScriptRunner } from './scripts.ts';

export interface RetryBudgetOptions {
  redis: Redis | Cluster;
  /** The deployment's key prefix: one budget per fleet (`jobKeys(prefix).retryBudget`). */
  prefix: string;
  /** Retries allowed per first attempt in the window. */
  ratio: number;
  windowSeconds: number;
  /** Retries always allowed per window, however few first attempts there were. */
  floor: number;
  /** `countFirst` sends its counts this often (ms); default 100. */
  flushMs?: number;
  /** A batched count that could not be sent (it is dropped: the budget only grows slower). */
  onError?: (err: unknown) => void;
}

/**
 * The fleet-wide retry budget: a failing upstream cannot start a retry storm, because every
 * worker asks the same Redis hash before scheduling a retry.
 */
export class RetryBudget {
  private readonly opts: RetryBudgetOptions;
  private readonly key: string;
  private readonly run: ScriptRunner;
  private pendingFirsts = 0;
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(opts: RetryBudgetOptions) {
    this.opts = opts;
    this.key = jobKeys(opts.prefix).retryBudget;
    this.run = defineScripts(opts.redis);
  }

  /**
   * Counts a first attempt without a round trip of its own: counts gather for `flushMs` and go
   * to Redis together (one script call per worker per flush, not one per job). The window is
   * seconds long, so the budget barely notices; `allowRetry` sends what is pending first.
   */
  countFirst(): void {
    this.pendingFirsts++;
    this.flushTimer ??= setTimeout(() => {
      void this.flush().catch((err: unknown) => this.opts.onError?.(err));
    }, this.opts.flushMs ?? 100).unref();
  }

  /** Sends the pending first-attempt counts now. */
  async flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const n = this.pendingFirsts;
    if (n === 0) return;
    this.pendingFirsts = 0;
    await this.call('first', n);
  }

  /** Counts a first attempt (the budget grows with real traffic). */
  async recordFirst(): Promise<void> {
    await this.call('first');
  }

  /** True when a retry may be scheduled; it is counted against the budget. */
  async allowRetry(): Promise<boolean> {
    await this.flush();
    return (await this.call('retry')) === 1;
  }

  /** lua/retry-budget-1.lua: `first` counts first attempts (`count`, default 1), `retry` asks for one. */
  private async call(op: 'first' | 'retry', count?: number): Promise<number> {
    const { windowSeconds, ratio, floor } = this.opts;
    const args = [op, windowSeconds, ratio, floor, ...(count === undefined ? [] : [count])];
    return Number(await this.run('retry-budget', [this.key], args));
  }
}
