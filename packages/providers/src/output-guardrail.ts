import type { ResponseFormat } from '@switchyard/contracts';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

/** Why an answer fails its `response_format`, in our words (never the answer itself); undefined when it passes. */
export type OutputCheck = (content: string | null) => string | undefined;

/** A `json_schema` whose schema cannot be compiled: the request is invalid, before any call. */
export class InvalidResponseFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidResponseFormatError';
  }
}

// `strict: false`: schemas written for OpenAI's structured outputs carry keywords Ajv's strict
// mode refuses (unknown formats, `strict`-mode idioms); they are checked by what Ajv knows.
const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: false });
const MAX_COMPILED = 256;
const compiled = new Map<string, ValidateFunction>();

/** Compiles (once per distinct schema, a bounded number kept) the validator of a JSON schema. */
function validatorOf(schema: Record<string, unknown>): ValidateFunction {
  const key = JSON.stringify(schema);
  const known = compiled.get(key);
  if (known) return known;
  // Checked by draft 2020-12's rules, whatever `$schema` names (the draft-07 and 2019-09
  // keywords OpenAI-style schemas use read the same there).
  const { $schema: _ignored, ...rest } = schema;
  let validate: ValidateFunction;
  try {
    validate = ajv.compile(rest);
  } catch (err) {
    throw new InvalidResponseFormatError(
      `response_format.json_schema.schema is not a valid JSON schema: ${(err as Error).message}`,
    );
  }
  if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value ?? '');
  compiled.set(key, validate);
  return validate;
}

function parseJson(content: string | null): { ok: true; value: unknown } | { ok: false } {
  if (content === null) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(content) as unknown };
  } catch {
    return { ok: false };
  }
}

/**
 * The guardrail of a request's `response_format`: none for `text` (or none given); for
 * `json_object` the answer must be a JSON object; for `json_schema` it must also be valid against
 * the schema (draft 2020-12, by Ajv). Throws `InvalidResponseFormatError` for a schema that does not
 * compile, so the API can refuse the request before anything is spent.
 */
export function outputGuardrail(format: ResponseFormat | undefined): OutputCheck | undefined {
  if (!format || format.type === 'text') return undefined;
  const schema = format.type === 'json_schema' ? format.json_schema.schema : undefined;
  const validate = schema ? validatorOf(schema) : undefined;
  return (content) => {
    const parsed = parseJson(content);
    if (!parsed.ok) return 'the answer is not JSON';
    if (!validate) {
      const v = parsed.value;
      return typeof v === 'object' && v !== null && !Array.isArray(v)
        ? undefined
        : 'the answer is not a JSON object';
    }
    if (validate(parsed.value)) return undefined;
    const first = validate.errors?.[0];
    const where = first?.instancePath ? first.instancePath : 'the answer';
    return `the answer does not match the schema (${where} ${first?.message ?? 'is invalid'})`;
  };
}
