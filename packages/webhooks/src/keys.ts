/** The tenant hash field holding the webhook signing secret (`whsec_…`). */
export const WEBHOOK_SECRET_FIELD = 'webhook_secret';

/** Redis key names of webhooks. */
export interface WebhookKeys {
  /**
   * BullMQ queue of deliveries, under the deployment's prefix as BullMQ prefix: apart from the
   * lanes, so a delivery never takes a job slot.
   */
  readonly queueName: string;
  /**
   * Hash: the tenant, where `WEBHOOK_SECRET_FIELD` keeps the signing secret. The API's tenancy
   * owns the hash (apps/api/src/tenancy/keys.ts names it too, and a test keeps the two equal);
   * it is named here for the worker, which reads the secret when it signs a delivery.
   */
  tenant(tenantId: string): string;
}

/** Every key name of webhooks, built from the deployment's key prefix (no spaces or braces). */
export function webhookKeys(prefix: string): WebhookKeys {
  if (!/^[^\s{}]+$/.test(prefix)) throw new RangeError('prefix must be non-empty, without spaces or braces');
  return {
    queueName: '{webhooks}',
    tenant: (tenantId) => `${prefix}:tenant:${tenantId}`,
  };
}
