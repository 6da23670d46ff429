/** Stable codes for everything the ledger throws; branch on `code`, never on the message. */
export const LEDGER_ERRORS = {
  LEDGER_INVALID_OPTIONS: 'The ledger options are invalid',
  LEDGER_INVALID_ENTRY: 'The attempt entry is invalid',
  LEDGER_INVALID_QUERY: 'The ledger query is invalid',
  LEDGER_CORRUPT_ENTRY: 'A stored ledger entry cannot be read',
  LEDGER_SCRIPT_ERROR: 'A ledger script returned something unexpected',
} as const;

export type LedgerErrorCode = keyof typeof LEDGER_ERRORS;

/** A `RangeError` (bad arguments are out of the accepted range) with a stable `code`. */
export class LedgerError extends RangeError {
  readonly code: LedgerErrorCode;

  constructor(code: LedgerErrorCode, detail: string) {
    super(`${LEDGER_ERRORS[code]}: ${detail}`);
    this.name = 'LedgerError';
    this.code = code;
  }
}
