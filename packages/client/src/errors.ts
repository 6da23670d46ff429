import type { ErrorCode, Problem } from '@switchyard/contracts';

/** The codes the API answers with, plus the client's own for failures that never reached it. */
export type ClientErrorCode = ErrorCode | 'network_error' | 'invalid_response';

/**
 * Every failure of a client call: an API problem (`code` from the problem+json body, the HTTP
 * `status`), or a network failure after the retries (`network_error`, status 0). Branch on `code`;
 * never parse `message`.
 */
export class SwitchyardApiError extends Error {
  override readonly name = 'SwitchyardApiError';
  readonly code: ClientErrorCode;
  /** HTTP status; 0 when no answer arrived. */
  readonly status: number;
  /** The problem's `detail`, or the network error's message. */
  readonly detail: string;
  /** The whole problem+json body, when the API sent one (field errors are in `problem.errors`). */
  readonly problem: Problem | undefined;

  constructor(
    code: ClientErrorCode,
    status: number,
    detail: string,
    opts: { problem?: Problem; cause?: unknown } = {},
  ) {
    super(`${code} (${status}): ${detail}`, { cause: opts.cause });
    this.code = code;
    this.status = status;
    this.detail = detail;
    this.problem = opts.problem;
  }
}

/** The error for a non-2xx answer: its problem+json body when there is one. */
export async function errorFromResponse(res: Response): Promise<SwitchyardApiError> {
  const text = await res.text().catch(() => '');
  try {
    const problem = JSON.parse(text) as Problem;
    if (problem && typeof problem.code === 'string') {
      return new SwitchyardApiError(problem.code as ErrorCode, res.status, problem.detail ?? problem.title, {
        problem,
      });
    }
  } catch {
    // not JSON: described below
  }
  return new SwitchyardApiError('invalid_response', res.status, text.slice(0, 200) || res.statusText);
}
