import type { Lane } from '@switchyard/contracts';

/**
 * Every key Switchyard writes outside BullMQ. Queue keys are BullMQ's (`<prefix>:{<lane>}:...`):
 * the lane is the Redis Cluster hash tag, so lanes can live on different slots.
 */
export class Keys {
  readonly prefix: string;

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  /** BullMQ queue name for a lane; braces make the lane a cluster hash tag. */
  queueName(lane: Lane): string {
    return `{${lane}}`;
  }

  /** BullMQ queue of webhook deliveries: apart from the lanes, so a delivery never takes a job slot. */
  get webhookQueueName(): string {
    return '{webhooks}';
  }

  idempotency(tenantId: string, keyHash: string): string {
    return `${this.prefix}:idem:{${tenantId}}:${keyHash}`;
  }

  cancel(jobId: string): string {
    return `${this.prefix}:cancel:${jobId}`;
  }

  /**
   * Attempt state of a job (hash): `n` attempts so far (INCR'd when one starts, so it numbers
   * them), `m` index of the model in use (0 = the requested one), `mn` attempts on that model.
   */
  attempts(jobId: string): string {
    return `${this.prefix}:attempts:${jobId}`;
  }

  /** Redis stream of a streaming job's events (deltas, done, fail), relayed by the API as SSE. */
  deltas(jobId: string): string {
    return `${this.prefix}:deltas:${jobId}`;
  }

  /** Fair share inside the batch lane; every key carries the batch queue's hash tag. */
  get fair() {
    const base = `${this.prefix}:fair:{batch}`;
    return {
      ring: `${base}:ring`,
      members: `${base}:members`,
      inflight: `${base}:inflight`,
      backlogPrefix: `${base}:t:`,
    };
  }

  /**
   * What counts against a tenant's job limits (see TenantLoad): `open` jobs admitted and not
   * finished, `started` the ones a worker has started; both zsets of jobId -> expiry (ms).
   */
  tenantLoad(tenantId: string): { open: string; started: string } {
    const base = `${this.prefix}:load:{${tenantId}}`;
    return { open: `${base}:open`, started: `${base}:started` };
  }

  /** The fleet-wide retry budget (one hash). */
  get retryBudget(): string {
    return `${this.prefix}:retry-budget`;
  }

  get cancelChannel(): string {
    return `${this.prefix}:cancel`;
  }

  /** Tenant hash: `name`, `created_at`, `daily_budget_usd`, `webhook_secret` (see `WEBHOOK_SECRET_FIELD`). */
  tenant(tenantId: string): string {
    return `${this.prefix}:tenant:${tenantId}`;
  }

  get tenants(): string {
    return `${this.prefix}:tenants`;
  }

  apiKey(keyHash: string): string {
    return `${this.prefix}:apikey:${keyHash}`;
  }

  tenantKeys(tenantId: string): string {
    return `${this.prefix}:tenant:${tenantId}:keys`;
  }

  /** Set once on first start of the embedded default, so it creates its demo tenant once. */
  get bootstrap(): string {
    return `${this.prefix}:bootstrap`;
  }
}
