import { AdmissionKeys, type FairKeys, type TenantLoadKeys } from '@switchyard/admission';
import { BatchKeys, type OneBatchKeys } from '@switchyard/batches';
import { JobKeys } from '@switchyard/jobs';
import { WebhookKeys } from '@switchyard/webhooks';

/**
 * Every key name the worker uses, in the one `keys` object its start-up hands to each part. Each
 * name is defined by the package that owns it (JobKeys, AdmissionKeys, BatchKeys, WebhookKeys);
 * this only gathers them, so the object fits wherever one of those is asked for.
 */
export class Keys extends JobKeys {
  readonly #admission: AdmissionKeys;
  readonly #batches: BatchKeys;
  readonly #webhooks: WebhookKeys;

  constructor(prefix: string) {
    super(prefix);
    this.#admission = new AdmissionKeys(prefix);
    this.#batches = new BatchKeys(prefix);
    this.#webhooks = new WebhookKeys(prefix);
  }

  get fair(): FairKeys {
    return this.#admission.fair;
  }

  tenantLoad(tenantId: string): TenantLoadKeys {
    return this.#admission.tenantLoad(tenantId);
  }

  batch(tenantId: string, batchId: string): OneBatchKeys {
    return this.#batches.batch(tenantId, batchId);
  }

  get webhookQueueName(): string {
    return this.#webhooks.webhookQueueName;
  }

  tenant(tenantId: string): string {
    return this.#webhooks.tenant(tenantId);
  }
}
