import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseMessagesRequest } from './anthropic-request.ts';
import {
  anthropicError,
  anthropicErrorType,
  messageBody,
  sseEvent,
  streamHead,
  streamTail,
  textDelta,
  type MessageMeta,
} from './anthropic-shapes.ts';
import { FAULT_HEADER, FaultInjector, UnknownFaultError, type Fault } from './faults.ts';
import { BodyTooLargeError, pause, readBody, sendJson } from './http-server.ts';
import { IpPolicy } from './ip-policy.ts';
import { CONTROL_PREFIX, handleControl, llmControls, type LlmControls } from './llm-control.ts';
import { LlmLedger, type CallHandle, type LlmOutcome } from './llm-ledger.ts';
import {
  DEFAULT_MOCK_MODELS,
  LATENCY_HEADER,
  serveMockLlm,
  type MockLlm,
  type MockLlmOptions,
} from './mock-llm.ts';
import { mulberry32 } from './prng.ts';
import { sourceIp } from './source-ip.ts';
import { billOf, cutBillOf, PromptCache, withTokenClasses } from './token-classes.ts';
import { planCompletion, type CompletionPlan } from './tokens.ts';

const MAX_BODY_BYTES = 1024 * 1024;
const UNKNOWN_MODEL = '(none)';

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

function refuse(
  res: ServerResponse,
  call: CallHandle,
  outcome: LlmOutcome,
  status: number,
  message: string,
  retryAfter?: number,
) {
  call.settle(outcome);
  const headers: Record<string, string> =
    retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) };
  sendJson(res, status, anthropicError(anthropicErrorType(status), message), headers);
}

/**
 * A mock of Anthropic's Messages API (`POST /v1/messages`, `x-api-key`, `anthropic-version`) with
 * the OpenAI mock's faults, per-IP policy, controls and billing: the same options, the same
 * `x-mock-fault` and `/__mock/*` routes. Cache writes are billed (Anthropic bills them); an
 * injected 5xx answers with its `status5xx`, e.g. 529 `overloaded_error`.
 */
class MockAnthropicServer {
  readonly ledger = new LlmLedger();
  readonly faults: FaultInjector;
  readonly policy = new IpPolicy();
  readonly controls: LlmControls;
  private readonly cache = new PromptCache();
  private readonly models: string[];
  private readonly opts: MockLlmOptions;
  private readonly latencyRng = mulberry32(0x5eed);
  private answers: Record<string, string>;
  private seq = 0;

  constructor(opts: MockLlmOptions) {
    this.opts = opts;
    this.answers = { ...opts.answers };
    this.models = opts.models ?? DEFAULT_MOCK_MODELS;
    this.faults = new FaultInjector(opts.faults);
    this.policy.setRateLimit(opts.rateLimit);
    this.controls = llmControls({
      ledger: this.ledger,
      faults: this.faults,
      policy: this.policy,
      setAnswers: (answers) => (this.answers = answers),
    });
  }

  async handle(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://mock').pathname;
    if (path.startsWith(CONTROL_PREFIX)) return handleControl(req, res, path, this.controls);
    if (path === '/v1/messages' && req.method === 'POST') return this.messages(req, res, signal);
    sendJson(res, 404, anthropicError('not_found_error', `Unknown request URL: ${req.method} ${path}.`));
  }

  /** The refusal (status and message) for a request that is not authorized, else undefined. */
  private authError(req: IncomingMessage): [number, string] | undefined {
    if (this.opts.apiKey !== undefined && header(req, 'x-api-key') !== this.opts.apiKey)
      return [401, 'invalid x-api-key'];
    if (!header(req, 'anthropic-version')) return [400, 'anthropic-version: header is required'];
    return undefined;
  }

  private latencyFor(req: IncomingMessage): number {
    const forced = header(req, LATENCY_HEADER);
    if (forced !== undefined && /^\d+$/.test(forced)) return Number(forced);
    const l = this.opts.latencyMs ?? 0;
    return typeof l === 'number' ? l : l.min + Math.floor(this.latencyRng() * (l.max - l.min + 1));
  }

  private async messages(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    let raw: string;
    try {
      raw = await readBody(req, MAX_BODY_BYTES);
    } catch (err) {
      if (!(err instanceof BodyTooLargeError)) throw err;
      return refuse(res, this.ledger.open(sourceIp(req), UNKNOWN_MODEL), 'invalid', 413, err.message);
    }
    const parsed = parseMessagesRequest(raw, this.models);
    const call = this.ledger.open(
      sourceIp(req),
      parsed.ok ? parsed.request.model : (parsed.model ?? UNKNOWN_MODEL),
    );
    res.once('close', () => call.settle('aborted'));
    const verdict = this.policy.check(sourceIp(req));
    if (verdict.kind === 'blocked') return refuse(res, call, '403', 403, 'this IP address is blocked');
    if (verdict.kind === 'rate_limited')
      return refuse(res, call, '429', 429, 'rate limit exceeded', verdict.retryAfterSeconds);
    const unauthorized = this.authError(req);
    if (unauthorized) return refuse(res, call, unauthorized[0] === 401 ? '401' : 'invalid', ...unauthorized);
    if (!parsed.ok) return refuse(res, call, 'invalid', parsed.status, parsed.message);
    let fault: Fault | undefined;
    try {
      fault = this.faults.next(header(req, FAULT_HEADER));
    } catch (err) {
      if (!(err instanceof UnknownFaultError)) throw err;
      return refuse(res, call, 'invalid', 400, err.message);
    }
    await pause(this.latencyFor(req), signal);
    if (call.settled || signal.aborted) return;
    if (fault?.kind === '5xx') return refuse(res, call, '5xx', fault.status, 'Overloaded');
    if (fault?.kind === '429')
      return refuse(res, call, '429', 429, 'rate limit exceeded', fault.retryAfterSeconds);
    if (fault?.kind === 'timeout') return call.settle('timeout');
    const { request } = parsed;
    const plan = withTokenClasses(
      planCompletion(
        request.messages,
        this.opts.answerWords ?? 16,
        request.maxTokens,
        Object.hasOwn(this.answers, request.model) ? this.answers[request.model] : undefined,
      ),
      this.opts,
      this.cache.use(request.model, request.messages.slice(0, -1)),
      true,
    );
    const meta = { id: `msg_mock_${++this.seq}`, model: request.model };
    const mode = fault?.kind === 'cut' || fault?.kind === 'error200' ? fault.kind : 'ok';
    if (!request.stream) return answerMessage(res, call, meta, plan, mode);
    await streamMessage(res, call, meta, plan, mode, { tokenDelayMs: this.opts.tokenDelayMs ?? 0, signal });
  }
}

function answerMessage(
  res: ServerResponse,
  call: CallHandle,
  meta: MessageMeta,
  plan: CompletionPlan,
  mode: string,
) {
  if (mode === 'error200') {
    call.settle('error200');
    return sendJson(res, 200, anthropicError('api_error', 'Internal server error'));
  }
  const text = JSON.stringify(messageBody(meta, plan));
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  if (mode === 'cut') {
    call.settle('cut');
    res.write(text.slice(0, Math.floor(text.length / 2)), () => res.destroy());
    return;
  }
  call.settle('ok', billOf(plan));
  res.end(text);
}

/**
 * The Messages stream: `message_start`, one `content_block_delta` per word, then the tail with
 * `message_delta` (stop reason, usage) and `message_stop`. A cut stream stops after half the words;
 * `error200` sends an `error` event (Anthropic's mid-stream `overloaded_error`).
 */
async function streamMessage(
  res: ServerResponse,
  call: CallHandle,
  meta: MessageMeta,
  plan: CompletionPlan,
  mode: string,
  opts: { tokenDelayMs: number; signal: AbortSignal },
): Promise<void> {
  let closed = false;
  res.once('close', () => (closed = true));
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  if (mode === 'error200') {
    call.settle('error200');
    res.end(sseEvent(anthropicError('overloaded_error', 'Overloaded')));
    return;
  }
  const cutAfter = Math.floor(plan.words.length / 2);
  const head = streamHead(meta, plan);
  if (mode === 'cut' && cutAfter === 0) {
    call.settle('cut', cutBillOf(plan, 0));
    res.write(head, () => res.destroy());
    return;
  }
  res.write(head);
  for (const [i, word] of plan.words.entries()) {
    if (i > 0) await pause(opts.tokenDelayMs, opts.signal);
    if (closed || opts.signal.aborted) return;
    const delta = textDelta(i === 0 ? word : ` ${word}`);
    if (mode === 'cut' && i + 1 === cutAfter) {
      call.settle('cut', cutBillOf(plan, cutAfter));
      res.write(delta, () => res.destroy());
      return;
    }
    res.write(delta);
  }
  call.settle('ok', billOf(plan));
  res.end(streamTail(plan));
}

/** Starts the Anthropic-compatible mock; its API is under `${url}/v1`. */
export function startMockAnthropic(opts: MockLlmOptions = {}): Promise<MockLlm> {
  return serveMockLlm(new MockAnthropicServer(opts), opts);
}
