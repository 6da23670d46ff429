import { z } from 'zod';
import { CodedError } from './coded-error.ts';
import { ERROR_CATALOG, type ErrorCode } from './error-codes.ts';

/** RFC 9457 problem details, as every error response carries them. */
export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    code: z.string(),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .describe('Field-level validation errors; `path` is a JSON path such as `request.messages[0].role`'),
  })
  .meta({ id: 'Problem' });

export type Problem = z.infer<typeof ProblemSchema>;

export const PROBLEM_TYPE_BASE = 'https://switchyard.dev/errors/';

export interface FieldError {
  path: string;
  message: string;
}

/** An error that carries a catalog code; the API edge turns it into problem+json. */
export class SwitchyardError extends CodedError<ErrorCode> {
  readonly status: number;
  readonly errors: FieldError[] | undefined;
  /** Seconds a client should wait before retrying, sent as `Retry-After`. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ErrorCode,
    detail?: string,
    extra: { errors?: FieldError[]; retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(code, detail ?? ERROR_CATALOG[code].title, { cause: extra.cause });
    this.status = ERROR_CATALOG[code].status;
    this.errors = extra.errors;
    this.retryAfterSeconds = extra.retryAfterSeconds;
  }
}

export function toProblem(err: SwitchyardError, instance?: string): Problem {
  const problem: Problem = {
    type: `${PROBLEM_TYPE_BASE}${err.code}`,
    title: ERROR_CATALOG[err.code].title,
    status: err.status,
    detail: err.message,
    code: err.code,
  };
  if (instance) problem.instance = instance;
  if (err.errors) problem.errors = err.errors;
  return problem;
}

/** Formats a zod issue path as `a.b[0].c`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out || '(root)';
}

/** One entry per problem; an unknown key is reported at its own path (`request.foo`). */
export function fieldErrorsFromZod(error: z.ZodError): FieldError[] {
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: formatPath([...issue.path, key]), message: 'unknown field' }))
      : [{ path: formatPath(issue.path), message: issue.message }],
  );
}
