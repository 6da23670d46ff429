import { ERROR_CATALOG, isErrorCode, type ErrorCode } from '@switchyard/contracts';

export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string };
}

function typeFor(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** An OpenAI-style error body and status for a catalog code; `code` stays Switchyard's. */
export function openAiError(
  code: string,
  message: string,
  param: string | null = null,
): { status: number; body: OpenAiErrorBody } {
  const known: ErrorCode = isErrorCode(code) ? code : 'internal_error';
  const status = ERROR_CATALOG[known].status;
  return { status, body: { error: { message, type: typeFor(status), param, code: known } } };
}
