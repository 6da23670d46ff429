import { SwitchyardApiError } from '@switchyard/client';

/** Bad input from the user (a file, a flag, a missing key): exit 1 with a one-line message. */
export class CliInputError extends Error {
  override readonly name = 'CliInputError';
}

/** Exit codes: 0 ok, 1 bad input, 2 server or network error. */
export const EXIT = { ok: 0, input: 1, server: 2, interrupted: 130 } as const;

/** The exit code and the one line to print for an error that ends the command. */
export function describeFailure(err: unknown): { code: number; line: string } {
  if (err instanceof CliInputError) return { code: EXIT.input, line: err.message };
  if (err instanceof SwitchyardApiError) {
    const input = err.status >= 400 && err.status < 500;
    const fields = err.problem?.errors?.map((e) => `${e.path}: ${e.message}`).join('; ');
    const line = `${err.code}: ${err.detail}${fields ? ` (${fields})` : ''}`;
    return { code: input ? EXIT.input : EXIT.server, line };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: EXIT.server, line: `unexpected error: ${message}` };
}
