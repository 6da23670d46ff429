import type { UsageReport } from '@switchyard/contracts';
import { Admin, usage, type UsageQuery } from './admin.ts';
import { Batches } from './batches.ts';
import { Transport, type TransportOptions } from './http.ts';
import { Jobs } from './jobs.ts';

export type ClientOptions = TransportOptions;

/**
 * The Switchyard API, typed from `@switchyard/contracts`.
 *
 * ```ts
 * const sy = new SwitchyardClient({ baseUrl: 'http://127.0.0.1:8080', apiKey: process.env.SWITCHYARD_API_KEY! });
 * const job = await sy.jobs.submit({ type: 'completion', request: { model: 'gpt-4o-mini', messages } });
 * const done = await sy.jobs.wait(job.id);
 * ```
 */
export class SwitchyardClient {
  readonly jobs: Jobs;
  readonly batches: Batches;
  readonly admin: Admin;
  readonly #http: Transport;

  constructor(opts: ClientOptions) {
    this.#http = new Transport(opts);
    this.jobs = new Jobs(this.#http);
    this.batches = new Batches(this.#http);
    this.admin = new Admin(this.#http);
  }

  /** The caller's costs by model, day or outcome, with the share spent on retries. */
  usage(q: UsageQuery = {}): Promise<UsageReport> {
    return usage(this.#http, q);
  }
}
