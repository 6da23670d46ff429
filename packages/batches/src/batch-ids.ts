import { createHash, randomBytes } from 'node:crypto';

export const isBatchId = (id: string) => /^bt_[0-9a-fk]{20,48}$/.test(id);

/** The batch an Idempotency-Key names: the same tenant and key always name the same batch. */
export function idempotentBatchId(tenantId: string, key: string): string {
  return `bt_k${createHash('sha256').update(`${tenantId}\0batch\0${key}`).digest('hex').slice(0, 40)}`;
}

export function newBatchId(): string {
  return `bt_${Date.now().toString(16).padStart(12, '0')}${randomBytes(8).toString('hex')}`;
}
