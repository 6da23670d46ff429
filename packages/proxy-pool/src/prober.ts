import { ProxyAgent, request } from 'undici';
import type { ProxyPool } from './proxy-pool.ts';
import type { ProbeTarget } from './lease.ts';
import type { PoolLogger, ProbeReport } from './types.ts';

/** Checks one proxy; resolves true when it carried the probe. Must honour `signal`. */
export type ProbeFn = (target: ProbeTarget, signal: AbortSignal) => Promise<boolean>;

export interface ProxyProberOptions {
  pool: Pick<ProxyPool, 'probeDue' | 'reportProbe'>;
  probe: ProbeFn;
  /** Pause between rounds; default 5 s. */
  intervalMs?: number;
  /** A probe running longer fails; default 5 s. */
  timeoutMs?: number;
  /** Most proxies claimed per round; default 16. */
  batchSize?: number;
  logger?: PoolLogger;
}

export interface ProbeOutcome {
  id: string;
  ok: boolean;
  report: ProbeReport;
}

/**
 * Re-admits quarantined proxies: every interval it claims those whose backoff ran out, probes them
 * in parallel and reports each result to the pool. Run one per worker process; claims keep two
 * probers from probing the same proxy at once.
 */
export class ProxyProber {
  readonly #opts: Required<Omit<ProxyProberOptions, 'logger'>> & { logger?: PoolLogger };
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<unknown> | undefined;
  #running = false;

  constructor(opts: ProxyProberOptions) {
    this.#opts = { intervalMs: 5000, timeoutMs: 5000, batchSize: 16, ...opts };
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    await this.#round;
  }

  /** One round: claim due proxies, probe them, report. */
  async runOnce(): Promise<ProbeOutcome[]> {
    const { pool, probe, timeoutMs, batchSize, logger } = this.#opts;
    const due = await pool.probeDue(batchSize);
    return Promise.all(
      due.map(async (target) => {
        let ok = false;
        try {
          ok = await probe(target, AbortSignal.timeout(timeoutMs));
        } catch (err) {
          logger?.debug?.({ proxyId: target.id, err }, 'proxy probe failed');
        }
        return { id: target.id, ok, report: await pool.reportProbe(target.id, ok) };
      }),
    );
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      this.#round = this.runOnce()
        .catch((err: unknown) => this.#opts.logger?.warn({ err }, 'proxy probe round failed'))
        .finally(() => {
          if (this.#running) this.#schedule(this.#opts.intervalMs);
        });
    }, delayMs);
    this.#timer.unref();
  }
}

export interface HttpProbeOptions {
  /** What to fetch through the proxy; use a target you trust to be up. */
  url: string;
  /** Default HEAD. */
  method?: 'HEAD' | 'GET';
}

/**
 * A probe that fetches `url` through the proxy on a fresh connection (never a pooled one that
 * may predate the fault). Any answer below 500 from the target counts: the proxy carried it.
 */
export function createHttpProbe(opts: HttpProbeOptions): ProbeFn {
  return async (target, signal) => {
    const agent = new ProxyAgent({ uri: target.proxyUrl, proxyTunnel: false });
    try {
      const res = await request(opts.url, { method: opts.method ?? 'HEAD', dispatcher: agent, signal });
      await res.body.dump();
      return res.statusCode < 500;
    } finally {
      void agent.destroy().catch(() => undefined);
    }
  };
}
