import { fieldErrorsFromZod, SwitchyardError, WebhookUrlSchema } from '@switchyard/contracts';
import type { TenantStore } from './tenancy/tenant-store.ts';

/** A job or batch named a webhook, but its tenant has no secret to sign the events with. */
export function webhookSecretMissing(path: string): SwitchyardError {
  return new SwitchyardError(
    'webhook_secret_missing',
    'this tenant has no webhook secret; an admin creates one with POST /v1/admin/tenants/{id}/webhook-secret',
    { errors: [{ path, message: 'the tenant has no webhook secret to sign events with' }] },
  );
}

/**
 * Admission: a job may name a webhook only when its tenant has a secret; otherwise its events
 * could never be delivered, so say so now rather than drop them later.
 */
export async function checkWebhookSecret(
  tenants: TenantStore,
  tenantId: string,
  path: string,
): Promise<void> {
  if (!(await tenants.hasWebhookSecret(tenantId))) throw webhookSecretMissing(path);
}

/** `?webhook_url=` of `POST /v1/batches`: undefined when absent, else a valid webhook URL. */
export function parseWebhookUrlParam(query: unknown): string | undefined {
  const raw = (query as Record<string, unknown> | undefined)?.webhook_url;
  if (raw === undefined) return undefined;
  const parsed = WebhookUrlSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const errors = fieldErrorsFromZod(parsed.error).map((e) => ({ path: 'webhook_url', message: e.message }));
  throw new SwitchyardError('validation_failed', errors.map((e) => `${e.path}: ${e.message}`).join('; '), {
    errors,
  });
}
