/**
 * The mock provider's own bill: the ground truth a broker's cost ledger is compared against.
 * Every chat call is counted; tokens are billed for complete answers, and a stream cut mid-answer
 * is billed apart (`cut`) for the prompt and the tokens it sent, as a real provider bills it.
 */

/**
 * How a call ended. `invalid` = refused as a bad request (400/404/413); `aborted` = the client went
 * away before a complete answer (e.g. its own timeout during latency or mid-stream).
 */
export const LLM_OUTCOMES = [
  'ok',
  '5xx',
  '429',
  'timeout',
  'cut',
  'error200',
  '403',
  '401',
  'invalid',
  'aborted',
] as const;
export type LlmOutcome = (typeof LLM_OUTCOMES)[number];

export interface UsageCounters {
  calls: number;
  billedCalls: number;
  promptTokens: number;
  completionTokens: number;
}

export interface IpCounters extends UsageCounters {
  /** Calls answered 429, by the per-IP limit or by an injected fault. */
  rateLimited: number;
  /** Calls answered 403 because the IP is blocked. */
  blocked: number;
}

/** Token classes of the billed answers: parts of `promptTokens` and `completionTokens`. */
export interface ClassCounters {
  cachedPromptTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
}

export interface LlmStats extends UsageCounters, ClassCounters {
  /** Streams cut mid-answer: what they would be billed (not in the totals above). */
  cut: { calls: number; promptTokens: number; completionTokens: number };
  byIp: Record<string, IpCounters>;
  byModel: Record<string, UsageCounters>;
  byOutcome: Record<LlmOutcome, number>;
}

export interface BilledUsage {
  promptTokens: number;
  completionTokens: number;
  cachedPromptTokens?: number;
  cacheWriteTokens?: number;
  reasoningTokens?: number;
}

const classes = (): ClassCounters => ({ cachedPromptTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 });
const cutCounters = () => ({ calls: 0, promptTokens: 0, completionTokens: 0 });

const usage = (): UsageCounters => ({ calls: 0, billedCalls: 0, promptTokens: 0, completionTokens: 0 });

function addBill(c: UsageCounters, bill: BilledUsage): void {
  c.billedCalls += 1;
  c.promptTokens += bill.promptTokens;
  c.completionTokens += bill.completionTokens;
}

/** One call in flight; the first `settle` decides its outcome, later ones are ignored. */
export interface CallHandle {
  settle(outcome: LlmOutcome, bill?: BilledUsage): void;
  readonly settled: boolean;
}

export class LlmLedger {
  #totals = usage();
  #byIp = new Map<string, IpCounters>();
  #byModel = new Map<string, UsageCounters>();
  #byOutcome = new Map<LlmOutcome, number>();
  #generation = 0;

  #classes = classes();
  #cut = cutCounters();

  #bill(outcome: LlmOutcome, bill: BilledUsage, ipc: IpCounters, modelc: UsageCounters): void {
    if (outcome === 'cut') {
      this.#cut.calls += 1;
      this.#cut.promptTokens += bill.promptTokens;
      this.#cut.completionTokens += bill.completionTokens;
      return;
    }
    addBill(this.#totals, bill);
    addBill(ipc, bill);
    addBill(modelc, bill);
    this.#classes.cachedPromptTokens += bill.cachedPromptTokens ?? 0;
    this.#classes.cacheWriteTokens += bill.cacheWriteTokens ?? 0;
    this.#classes.reasoningTokens += bill.reasoningTokens ?? 0;
  }

  /** Counts a call on arrival and returns the handle that settles it. */
  open(ip: string, model: string): CallHandle {
    const generation = this.#generation;
    const ipc = this.#ip(ip);
    const modelc = this.#model(model);
    this.#totals.calls += 1;
    ipc.calls += 1;
    modelc.calls += 1;
    let settled = false;
    return {
      get settled() {
        return settled;
      },
      settle: (outcome, bill) => {
        if (settled) return;
        settled = true;
        // A call opened before resetStats() must not leak into the fresh counters.
        if (generation !== this.#generation) return;
        this.#byOutcome.set(outcome, (this.#byOutcome.get(outcome) ?? 0) + 1);
        if (outcome === '429') ipc.rateLimited += 1;
        if (outcome === '403') ipc.blocked += 1;
        if (bill) this.#bill(outcome, bill, ipc, modelc);
      },
    };
  }

  reset(): void {
    this.#generation += 1;
    this.#totals = usage();
    this.#classes = classes();
    this.#cut = cutCounters();
    this.#byIp.clear();
    this.#byModel.clear();
    this.#byOutcome.clear();
  }

  snapshot(): LlmStats {
    const byOutcome = Object.fromEntries(LLM_OUTCOMES.map((o) => [o, this.#byOutcome.get(o) ?? 0]));
    return {
      ...this.#totals,
      ...this.#classes,
      cut: { ...this.#cut },
      byIp: Object.fromEntries([...this.#byIp].map(([k, v]) => [k, { ...v }])),
      byModel: Object.fromEntries([...this.#byModel].map(([k, v]) => [k, { ...v }])),
      byOutcome: byOutcome as Record<LlmOutcome, number>,
    };
  }

  #ip(ip: string): IpCounters {
    let c = this.#byIp.get(ip);
    if (!c) {
      c = { ...usage(), rateLimited: 0, blocked: 0 };
      this.#byIp.set(ip, c);
    }
    return c;
  }

  #model(model: string): UsageCounters {
    let c = this.#byModel.get(model);
    if (!c) {
      c = usage();
      this.#byModel.set(model, c);
    }
    return c;
  }
}
