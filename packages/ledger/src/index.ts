export { Ledger } from './ledger.ts';
export { utcDay, MAX_USAGE_DAYS } from './day.ts';
export { ledgerKeys } from './keys.ts';
export type { LedgerKeys } from './keys.ts';
export { modelKey, SCRAPE_MODEL_KEY, UNKNOWN_MODEL_KEY } from './entry.ts';
export { LedgerError, LEDGER_ERRORS } from './errors.ts';
export type { LedgerErrorCode } from './errors.ts';
export type * from './types.ts';
