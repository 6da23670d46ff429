import { defineLuaScript, loadLuaScript, luaDir } from '@switchyard/lua-scripts';
import type { Redis } from 'ioredis';

const SCRIPT = loadLuaScript(luaDir('worker', import.meta.url), 'retry-budget-1.lua');
const COMMAND = 'switchyardRetryBudget';

export interface RetryBudgetOptions {
  redis: Redis;
  /** The budget hash; one per fleet (`<prefix>:retry-budget`). */
  key: string;
  /** Retries allowed per first attempt in the window. */
  ratio: number;
  windowSeconds: number;
  /** Retries always allowed per window, however few first attempts there were. */
  floor: number;
}

type BudgetCall = (key: string, op: string, window: number, ratio: number, floor: number) => Promise<number>;

/**
 * The fleet-wide retry budget: a failing upstream cannot start a retry storm, because every
 * worker asks the same Redis hash before scheduling a retry.
 */
export class RetryBudget {
  private readonly opts: RetryBudgetOptions;
  private readonly call: BudgetCall;

  constructor(opts: RetryBudgetOptions) {
    this.opts = opts;
    this.call = defineLuaScript(opts.redis, COMMAND, SCRIPT) as BudgetCall;
  }

  /** Counts a first attempt (the budget grows with real traffic). */
  async recordFirst(): Promise<void> {
    const { key, windowSeconds, ratio, floor } = this.opts;
    await this.call(key, 'first', windowSeconds, ratio, floor);
  }

  /** True when a retry may be scheduled; it is counted against the budget. */
  async allowRetry(): Promise<boolean> {
    const { key, windowSeconds, ratio, floor } = this.opts;
    return (await this.call(key, 'retry', windowSeconds, ratio, floor)) === 1;
  }
}
