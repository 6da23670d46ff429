import { createHash } from 'node:crypto';
import {
  CompletionRequestSchema,
  fieldErrorsFromZod,
  JobSpecSchema,
  SwitchyardError,
  type ErrorCode,
  type FieldError,
  type JobSpec,
  type LineRejection,
} from '@switchyard/contracts';
import type { BatchLine, BatchSummary } from '@switchyard/batches';
import { fingerprint } from '@switchyard/jobs';

export const MAX_CUSTOM_ID_LENGTH = 256;
/** Field errors kept per rejected line; a line with thousands of bad messages stays small. */
export const MAX_ERRORS_PER_LINE = 20;
/** The only OpenAI Batch API endpoint Switchyard runs. */
export const OPENAI_BATCH_URL = '/v1/chat/completions';

/** One item of a batch body: a line of NDJSON (1-based, blank lines skipped) or an array element. */
export type RawLine =
  { line: number; text: string } | { line: number; value: unknown } | { line: number; tooLarge: true };

export type ParsedLine =
  | { ok: true; customId: string; spec: JobSpec }
  | { ok: false; customId: string | undefined; code: ErrorCode; errors: FieldError[] };

export interface SplitLimits {
  /** Whole body; past it the request fails with payload_too_large. */
  maxBytes: number;
  /** One line; a longer line is rejected on its own and skipped without being buffered. */
  maxLineBytes: number;
}

const NEWLINE = 0x0a;

function lineOf(line: number, parts: Buffer[], size: number, tooLarge: boolean): RawLine | undefined {
  if (tooLarge) return { line, tooLarge: true };
  let text = Buffer.concat(parts, size).toString('utf8');
  if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.endsWith('\r')) text = text.slice(0, -1);
  return text.trim() === '' ? undefined : { line, text };
}

/**
 * Splits an NDJSON byte stream into lines as it arrives. Memory is bounded by one line (at most
 * `maxLineBytes`) plus the chunk being scanned, whatever the size of the body.
 */
export async function* splitLines(
  chunks: AsyncIterable<Buffer | string>,
  limits: SplitLimits,
): AsyncGenerator<RawLine> {
  let parts: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  let line = 0;
  let received = 0;
  for await (const chunk of chunks) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    received += buf.length;
    if (received > limits.maxBytes) {
      throw new SwitchyardError('payload_too_large', `the batch body exceeds ${limits.maxBytes} bytes`);
    }
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(NEWLINE, start);
      const end = nl === -1 ? buf.length : nl;
      if (!tooLarge && end > start) {
        if (size + end - start > limits.maxLineBytes) {
          tooLarge = true;
          parts = [];
          size = 0;
        } else {
          parts.push(buf.subarray(start, end));
          size += end - start;
        }
      }
      if (nl === -1) break;
      const out = lineOf(++line, parts, size, tooLarge);
      parts = [];
      size = 0;
      tooLarge = false;
      start = nl + 1;
      if (out) yield out;
    }
  }
  const last = lineOf(line + 1, parts, size, tooLarge);
  if (last) yield last;
}

/** The elements of a JSON array body, numbered from 1 like lines. */
export function* arrayLines(items: readonly unknown[]): Generator<RawLine> {
  for (let i = 0; i < items.length; i++) yield { line: i + 1, value: items[i] };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const prefixed = (prefix: string, errors: FieldError[]) =>
  errors.map((e) => ({ path: e.path === '(root)' ? prefix : `${prefix}.${e.path}`, message: e.message }));
const OPENAI_KEYS = new Set(['custom_id', 'method', 'url', 'body']);

/** An OpenAI Batch API request line → a completion job on the batch lane. */
function openAiSpec(obj: Record<string, unknown>, errors: FieldError[]): JobSpec | undefined {
  for (const key of Object.keys(obj)) {
    if (!OPENAI_KEYS.has(key)) errors.push({ path: key, message: 'unknown field' });
  }
  if (obj.method !== 'POST') errors.push({ path: 'method', message: 'must be "POST"' });
  if (obj.url !== OPENAI_BATCH_URL) {
    errors.push({ path: 'url', message: `only "${OPENAI_BATCH_URL}" is supported` });
  }
  const body = CompletionRequestSchema.safeParse(obj.body);
  if (!body.success) errors.push(...prefixed('body', fieldErrorsFromZod(body.error)));
  if (errors.length || !body.success) return undefined;
  const spec = JobSpecSchema.safeParse({ type: 'completion', lane: 'batch', request: body.data });
  return spec.success ? spec.data : undefined;
}

function modelErrors(spec: JobSpec, openAi: boolean, knownModel: (name: string) => boolean): FieldError[] {
  if (spec.type !== 'completion') return [];
  const errors: FieldError[] = [];
  const check = (name: string, path: string) => {
    if (!knownModel(name)) errors.push({ path, message: `unknown model "${name}"` });
  };
  check(spec.request.model, openAi ? 'body.model' : 'request.model');
  spec.fallbacks?.forEach((name, i) => check(name, `fallbacks[${i}]`));
  return errors;
}

/** The line's `custom_id` when it is a valid one. */
function customIdOf(value: unknown): string | undefined {
  const cid = isObject(value) ? value.custom_id : undefined;
  return typeof cid === 'string' && cid.length >= 1 && cid.length <= MAX_CUSTOM_ID_LENGTH ? cid : undefined;
}

/**
 * Validates one batch line: a Switchyard job spec (the POST /v1/jobs body, `lane` defaulting to
 * `batch`) or an OpenAI Batch API request line, either with a `custom_id`. Every problem of the
 * line is reported at once, with field paths as the client wrote them.
 */
export function parseBatchLine(value: unknown, knownModel: (name: string) => boolean): ParsedLine {
  if (!isObject(value)) {
    return {
      ok: false,
      customId: undefined,
      code: 'validation_failed',
      errors: [{ path: '(root)', message: 'a batch line must be a JSON object' }],
    };
  }
  const errors: FieldError[] = [];
  const customId = customIdOf(value);
  if (customId === undefined) {
    errors.push({ path: 'custom_id', message: `required: a string of 1–${MAX_CUSTOM_ID_LENGTH} characters` });
  }
  const openAi = 'method' in value || 'url' in value || 'body' in value;
  let spec: JobSpec | undefined;
  if (openAi) {
    spec = openAiSpec(value, errors);
  } else {
    const { custom_id: _, ...rest } = value;
    const parsed = JobSpecSchema.safeParse(rest);
    if (parsed.success) spec = parsed.data;
    else errors.push(...fieldErrorsFromZod(parsed.error));
  }
  if (spec && !errors.length) {
    const unknown = modelErrors(spec, openAi, knownModel);
    if (unknown.length) return { ok: false, customId, code: 'unknown_model', errors: unknown };
  }
  if (errors.length || !spec || customId === undefined) {
    return { ok: false, customId, code: 'validation_failed', errors };
  }
  return { ok: true, customId, spec };
}

/** A line the intake accepted, as a batch writer takes it. */
export interface AcceptedLine extends BatchLine {
  line: number;
}

export interface IntakeSummary extends BatchSummary {
  /** The first `maxRejectionsListed` rejected lines, in line order. */
  rejections: LineRejection[];
  truncated: boolean;
}

export interface BatchIntakeOptions {
  knownModel: (name: string) => boolean;
  /** Lines past this many are rejected unread (payload_too_large). */
  maxLines: number;
  maxRejectionsListed: number;
  /** False when the tenant has no webhook secret: lines naming a `webhook` are rejected. */
  webhooksAllowed?: boolean;
  /** Why a line's target may not be reached (scrape URLs), or undefined: rejected as target_forbidden. */
  targetRefusal?: (spec: JobSpec) => FieldError | undefined;
  /** Only OpenAI Batch API request lines (a file batch): a job spec line is rejected. */
  openAiOnly?: boolean;
}

const NOT_OPENAI: FieldError = {
  path: '(root)',
  message: 'expected an OpenAI batch request line: custom_id, method, url, body',
};
const isOpenAiLine = (v: unknown) => isObject(v) && ('method' in v || 'url' in v || 'body' in v);

/**
 * Takes a batch's lines one at a time: validates each, rejects duplicate `custom_id`s (the first
 * line with an id keeps it), counts, and keeps a bounded list of rejections. Holds one entry per
 * `custom_id` seen, never the lines themselves.
 */
export class BatchIntake {
  private readonly opts: BatchIntakeOptions;
  private readonly seen = new Map<string, number>();
  private readonly hash = createHash('sha256');
  private readonly rejections: LineRejection[] = [];
  private accepted = 0;
  private rejected = 0;

  constructor(opts: BatchIntakeOptions) {
    this.opts = opts;
  }

  /** The accepted line, or undefined when the line was rejected (and recorded as such). */
  take(raw: RawLine): AcceptedLine | undefined {
    const { line } = raw;
    if (this.accepted + this.rejected >= this.opts.maxLines) {
      return this.reject(line, undefined, 'payload_too_large', [
        { path: '(root)', message: `a batch has at most ${this.opts.maxLines} lines; this one was not read` },
      ]);
    }
    if ('tooLarge' in raw) {
      return this.reject(line, undefined, 'payload_too_large', [
        { path: '(root)', message: 'the line is larger than the per-line limit' },
      ]);
    }
    let value: unknown;
    if ('text' in raw) {
      try {
        value = JSON.parse(raw.text);
      } catch (err) {
        const message = err instanceof SyntaxError ? err.message : 'not valid JSON';
        return this.reject(line, undefined, 'invalid_json', [{ path: '(root)', message }]);
      }
    } else {
      value = raw.value;
    }
    const parsed: ParsedLine =
      this.opts.openAiOnly && !isOpenAiLine(value)
        ? { ok: false, customId: customIdOf(value), code: 'validation_failed', errors: [NOT_OPENAI] }
        : parseBatchLine(value, this.opts.knownModel);
    const { customId } = parsed;
    let duplicate: FieldError | undefined;
    if (customId !== undefined) {
      const first = this.seen.get(customId);
      if (first === undefined) this.seen.set(customId, line);
      else duplicate = { path: 'custom_id', message: `duplicate custom_id; line ${first} already uses it` };
    }
    if (!parsed.ok) {
      return this.reject(
        line,
        customId,
        parsed.code,
        duplicate ? [duplicate, ...parsed.errors] : parsed.errors,
      );
    }
    if (duplicate) return this.reject(line, customId, 'already_exists', [duplicate]);
    const refused = this.opts.targetRefusal?.(parsed.spec);
    if (refused) return this.reject(line, customId, 'target_forbidden', [refused]);
    if (parsed.spec.webhook && this.opts.webhooksAllowed === false) {
      return this.reject(line, customId, 'webhook_secret_missing', [
        { path: 'webhook', message: 'the tenant has no webhook secret to sign events with' },
      ]);
    }
    const fp = fingerprint(parsed.spec);
    this.accepted++;
    this.hash.update(`a ${parsed.customId.length}:${parsed.customId} ${fp}\n`);
    return { line, customId: parsed.customId, spec: parsed.spec, fingerprint: fp };
  }

  summary(): IntakeSummary {
    return {
      total: this.accepted + this.rejected,
      accepted: this.accepted,
      rejected: this.rejected,
      rejections: this.rejections,
      truncated: this.rejected > this.rejections.length,
      fingerprint: this.hash.copy().digest('hex'),
    };
  }

  private reject(line: number, customId: string | undefined, code: ErrorCode, errors: FieldError[]) {
    this.rejected++;
    const kept = errors.slice(0, MAX_ERRORS_PER_LINE);
    this.hash.update(`r ${line} ${code} ${JSON.stringify(kept)}\n`);
    if (this.rejections.length < this.opts.maxRejectionsListed) {
      this.rejections.push({ line, custom_id: customId ?? null, code, errors: kept });
    }
    return undefined;
  }
}
