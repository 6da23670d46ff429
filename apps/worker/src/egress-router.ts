import type { Config } from '@switchyard/config';
import type { JobSpec } from '@switchyard/contracts';
import type { Egress, EgressExhausted, EgressGrant } from './egress.ts';
import { targetHost } from './target-host.ts';

export interface EgressRouterOptions {
  config: Config;
  /** Straight out. */
  direct: Egress;
  /** Through a leased proxy of the pool. */
  pool: Egress;
}

/**
 * Picks an attempt's way out from the configuration (`scrape.egress`, or the model's `egress`)
 * and acquires it for the host the attempt calls.
 */
export class EgressRouter {
  private readonly opts: EgressRouterOptions;

  constructor(opts: EgressRouterOptions) {
    this.opts = opts;
  }

  /** The egress of an attempt on `model` (null for a scrape). */
  acquire(spec: JobSpec, model: string | null): Promise<EgressGrant | EgressExhausted> {
    const { config, direct, pool } = this.opts;
    const egress = this.viaPool(spec, model) ? pool : direct;
    return egress.acquire({ spec, lane: spec.lane, model, host: targetHost(spec, model, config) });
  }

  /** An attempt on `model` goes through the pool (a lease that can be refused), not straight out. */
  viaPool(spec: JobSpec, model: string | null): boolean {
    const { config } = this.opts;
    const mode = spec.type === 'scrape' ? config.scrape.egress : config.models[model ?? '']?.egress;
    return mode === 'pool';
  }
}
