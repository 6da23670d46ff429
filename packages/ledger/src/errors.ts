import { codedErrorClass } from '@switchyard/contracts';

/** Stable codes for everything the ledger throws; branch on `code`, never on the message. */
export const LEDGER_ERRORS = {
  LEDGER_INVALID_OPTIONS: 'The ledger options are invalid',
  LEDGER_INVALID_ENTRY: 'The attempt entry is invalid',
  LEDGER_INVALID_QUERY: 'The ledger query is invalid',
  LEDGER_CORRUPT_ENTRY: 'A stored ledger entry cannot be read',
  LEDGER_SCRIPT_ERROR: 'A ledger script returned something unexpected',
} as const;

export type LedgerErrorCode = keyof typeof LEDGER_ERRORS;

/** What the ledger throws: bad arguments, or stored data it cannot read. */
export class LedgerError extends codedErrorClass(LEDGER_ERRORS) {}
