/** The tenant hash field holding the webhook signing secret (`whsec_…`). */
export const WEBHOOK_SECRET_FIELD = 'webhook_secret';

/** Every Redis key name of webhooks, built from the deployment's key prefix. */
export class WebhookKeys {
  readonly prefix: string;

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  /** BullMQ queue of deliveries: apart from the lanes, so a delivery never takes a job slot. */
  get webhookQueueName(): string {
    return '{webhooks}';
  }

  /**
   * The tenant's hash, where `WEBHOOK_SECRET_FIELD` keeps the signing secret. The API's tenancy
   * owns the hash (apps/api/src/tenancy/keys.ts names it too, and a test keeps the two equal);
   * it is named here for the worker, which reads the secret when it signs a delivery.
   */
  tenant(tenantId: string): string {
    return `${this.prefix}:tenant:${tenantId}`;
  }
}
