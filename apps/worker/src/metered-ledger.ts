import { modelKey, type AttemptEntry, type Ledger, type RecordResult } from '@switchyard/ledger';
import type { WorkerMetrics } from './metrics.ts';

/**
 * The ledger as the processor writes to it, counting what each new entry cost in
 * `switchyard_cost_usd_total{tenant,model}`. Only entries the ledger answers `recorded` count, so a
 * replayed write (a re-run, a retried script call) is counted once, as it is billed once.
 */
export class MeteredLedger implements Pick<Ledger, 'record'> {
  readonly #ledger: Pick<Ledger, 'record'>;
  readonly #metrics: WorkerMetrics;

  constructor(ledger: Pick<Ledger, 'record'>, metrics: WorkerMetrics) {
    this.#ledger = ledger;
    this.#metrics = metrics;
  }

  async record(entry: AttemptEntry): Promise<RecordResult> {
    const result = await this.#ledger.record(entry);
    if (result.status === 'recorded' && entry.costNanos > 0) {
      this.#metrics.costUsd.inc({ tenant: entry.tenantId, model: modelKey(entry) }, entry.costNanos / 1e9);
    }
    return result;
  }
}
