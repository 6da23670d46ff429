import { LedgerError } from './errors.ts';

const PREFIX_PATTERN = /^[^\s{}]+$/;
const TENANT_PATTERN = /^[^\s{}]{1,200}$/;

/**
 * Redis key names of one tenant's ledger. They all share the `{<tenantId>}` hash tag, so the record
 * script and every pipelined read touch one Cluster slot.
 */
export interface LedgerKeys {
  /** `<prefix>:ledger:{<tenantId>}:` */
  readonly base: string;
  /** Hash of one job: `e:<attempt>` entries and the running totals. */
  job(jobId: string): string;
  /** Hash of one UTC day (`YYYY-MM-DD`): spend and the per model × outcome aggregates. */
  day(day: string): string;
}

export function assertPrefix(prefix: string): void {
  if (typeof prefix !== 'string' || !PREFIX_PATTERN.test(prefix)) {
    throw new LedgerError('LEDGER_INVALID_OPTIONS', 'prefix must be non-empty, without spaces or braces');
  }
}

export function assertTenantId(
  tenantId: string,
  code: 'LEDGER_INVALID_ENTRY' | 'LEDGER_INVALID_QUERY',
): void {
  if (typeof tenantId !== 'string' || !TENANT_PATTERN.test(tenantId)) {
    throw new LedgerError(code, 'tenantId must be 1-200 characters, without spaces or braces');
  }
}

export function assertJobId(jobId: string, code: 'LEDGER_INVALID_ENTRY' | 'LEDGER_INVALID_QUERY'): void {
  if (typeof jobId !== 'string' || jobId.length === 0 || jobId.length > 512) {
    throw new LedgerError(code, 'jobId must be 1-512 characters');
  }
}

export function ledgerKeys(prefix: string, tenantId: string): LedgerKeys {
  assertPrefix(prefix);
  assertTenantId(tenantId, 'LEDGER_INVALID_QUERY');
  const base = `${prefix}:ledger:{${tenantId}}:`;
  return {
    base,
    job: (jobId) => `${base}job:${jobId}`,
    day: (day) => `${base}day:${day}`,
  };
}
