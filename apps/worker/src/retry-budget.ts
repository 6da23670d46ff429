import { jobKeys } from '@switchyard/jobs';
import type { JobSpec } from '@switchyard/contracts';
import type { Cluster, Redis } from 'ioredis';
import { defineScripts, type ScriptRunner } from './scripts.ts';

export interface RetryBudgetOptions {
  redis: Redis | Cluster;
  /** The deployment's key prefix (`jobKeys(prefix).retryBudget(upstream)`). */
  prefix: string;
  /** Retries allowed per first attempt in the window. */
  ratio: number;
  windowSeconds: number;
  /** Retries always allowed per upstream per window, however few first attempts there were. */
  floor: number;
  /** `countFirst` sends its counts this often (ms); default 100. */
  flushMs?: number;
  /** A batched count that could not be sent (it is dropped: the budget only grows slower). */
  onError?: (err: unknown) => void;
}

/** Whose retries a budget counts: one upstream, and the tenant asking. */
export interface BudgetScope {
  /** `model:<name>` for a completion, `host:<hostname>` for a scrape (`upstreamOf`). */
  upstream: string;
  tenantId: string;
}

/** The upstream a job's attempt goes to: its model (the one in use), or its target's host. */
export function upstreamOf(spec: JobSpec, model: string | null): string {
  if (spec.type === 'completion') return `model:${model ?? spec.request.model}`;
  return `host:${new URL(spec.request.url).hostname}`;
}

/**
 * Retry budgets per upstream (model or scraped host), shared by the fleet: every worker asks the
 * same Redis hash before scheduling a retry, so a failing upstream cannot start a retry storm; and
 * each tenant retries on its own share, so a failing or rate-limited upstream, or a tenant whose
 * jobs keep failing, never spends the retries other upstreams and tenants need (ADR 0021).
 */
export class RetryBudget {
  private readonly opts: RetryBudgetOptions;
  private readonly keys: ReturnType<typeof jobKeys>;
  private readonly run: ScriptRunner;
  private readonly pending = new Map<string, BudgetScope & { n: number }>();
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(opts: RetryBudgetOptions) {
    this.opts = opts;
    this.keys = jobKeys(opts.prefix);
    this.run = defineScripts(opts.redis);
  }

  /**
   * Counts a first attempt without a round trip of its own: counts gather for `flushMs` and go
   * to Redis together (one script call per scope per flush, not one per job). The window is
   * seconds long, so the budget barely notices; `allowRetry` sends what is pending first.
   */
  countFirst(scope: BudgetScope): void {
    const id = `${scope.upstream}\n${scope.tenantId}`;
    const entry = this.pending.get(id) ?? { ...scope, n: 0 };
    entry.n++;
    this.pending.set(id, entry);
    this.flushTimer ??= setTimeout(() => {
      void this.flush().catch((err: unknown) => this.opts.onError?.(err));
    }, this.opts.flushMs ?? 100).unref();
  }

  /** Sends the pending first-attempt counts now. */
  async flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const batch = [...this.pending.values()];
    this.pending.clear();
    await Promise.all(batch.map((s) => this.call(s, 'first', s.n)));
  }

  /** Counts a first attempt (the budget grows with real traffic). */
  async recordFirst(scope: BudgetScope): Promise<void> {
    await this.call(scope, 'first');
  }

  /** True when a retry may be scheduled; it is counted against the scope's budget. */
  async allowRetry(scope: BudgetScope): Promise<boolean> {
    await this.flush();
    return (await this.call(scope, 'retry')) === 1;
  }

  /** lua/retry-budget-2.lua: `first` counts first attempts (`count`, default 1), `retry` asks for one. */
  private async call(scope: BudgetScope, op: 'first' | 'retry', count?: number): Promise<number> {
    const { windowSeconds, ratio, floor } = this.opts;
    const { upstream, tenantId } = scope;
    const keys = [this.keys.retryBudget(upstream), this.keys.retryBudgetShare(upstream, tenantId)];
    const args = [op, windowSeconds, ratio, floor, ...(count === undefined ? [] : [count])];
    return Number(await this.run('retry-budget', keys, args));
  }
}
