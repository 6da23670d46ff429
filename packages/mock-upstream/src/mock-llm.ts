import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseChatRequest } from './chat-request.ts';
import { FAULT_HEADER, FaultInjector, UnknownFaultError, type FaultConfig } from './faults.ts';
import { BodyTooLargeError, listen, pause, readBody, sendJson } from './http-server.ts';
import { IpPolicy, type RateLimitConfig } from './ip-policy.ts';
import { answerJson, answerStream } from './llm-answer.ts';
import { CONTROL_PREFIX, handleControl, llmControls, type LlmControls } from './llm-control.ts';
import { LlmLedger, type CallHandle, type LlmOutcome } from './llm-ledger.ts';
import { errorBody, rateLimitBody, serverErrorBody } from './openai-shapes.ts';
import { mulberry32 } from './prng.ts';
import { sourceIp } from './source-ip.ts';
import { PromptCache, withTokenClasses, type TokenClassOptions } from './token-classes.ts';
import { planCompletion } from './tokens.ts';

/** Fixed delay in ms, or a uniform range drawn from a seeded PRNG. */
export type Latency = number | { min: number; max: number };

/** Options of both LLM mocks (OpenAI-compatible and Anthropic), billed token classes included. */
export interface MockLlmOptions extends TokenClassOptions {
  /** Any local address; default 127.0.0.1. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** When set, `/v1/*` requires `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Delay before each chat answer (after admission, before any fault). Default 0. */
  latencyMs?: Latency;
  /** Delay between streamed word chunks. Default 0. */
  tokenDelayMs?: number;
  /** Length of the full answer in words (= completion tokens before a max-tokens cap). Default 16. */
  answerWords?: number;
  /** Model ids answered and listed; others get 404 `model_not_found`. */
  models?: string[];
  faults?: FaultConfig;
  rateLimit?: RateLimitConfig;
  /**
   * A set answer per model (e.g. JSON for guardrail tests): that model answers this text, its
   * whitespace-separated words (joined by single spaces) counted as tokens, instead of the demo answer.
   */
  answers?: Record<string, string>;
}

/** A running mock OpenAI-compatible server. See the package README. */
export interface MockLlm extends LlmControls {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:4010`; the API is under `/v1`. */
  url: string;
  host: string;
  port: number;
  /** Stops listening and destroys every open socket, hanging ones included. */
  close(): Promise<void>;
}

export const DEFAULT_MOCK_MODELS = ['mock-small', 'mock-large'];

/** Forces the latency of one request, in ms (overrides `latencyMs`). */
export const LATENCY_HEADER = 'x-mock-latency-ms';

const MAX_BODY_BYTES = 1024 * 1024;
const UNKNOWN_MODEL = '(none)';

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

const blockedBody = () =>
  errorBody('Access denied: requests from this IP address are blocked.', 'permission_error', 'ip_blocked');

function refuse(
  res: ServerResponse,
  call: CallHandle,
  outcome: LlmOutcome,
  status: number,
  body: unknown,
  retryAfterSeconds?: number,
): void {
  call.settle(outcome);
  const headers: Record<string, string> =
    retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) };
  sendJson(res, status, body, headers);
}

/** The mock's state (ledger, faults, per-IP policy) and its request handlers. */
class MockLlmServer {
  readonly ledger = new LlmLedger();
  readonly faults: FaultInjector;
  readonly policy = new IpPolicy();
  readonly controls: LlmControls;
  private readonly opts: MockLlmOptions;
  private readonly cache = new PromptCache();
  private readonly models: string[];
  private readonly answerWords: number;
  private readonly latencyRng = mulberry32(0x5eed);
  private answers: Record<string, string>;
  private seq = 0;

  constructor(opts: MockLlmOptions) {
    this.opts = opts;
    this.models = opts.models ?? DEFAULT_MOCK_MODELS;
    this.answerWords = opts.answerWords ?? 16;
    if (!Number.isInteger(this.answerWords) || this.answerWords < 1)
      throw new RangeError('answerWords must be >= 1');
    this.faults = new FaultInjector(opts.faults);
    this.policy.setRateLimit(opts.rateLimit);
    this.answers = { ...opts.answers };
    this.controls = llmControls({
      ledger: this.ledger,
      faults: this.faults,
      policy: this.policy,
      setAnswers: (answers) => (this.answers = answers),
    });
  }

  /** Routes one request: controls, chat, models, else 404 in OpenAI's shape. */
  async handle(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://mock').pathname;
    if (path.startsWith(CONTROL_PREFIX)) return handleControl(req, res, path, this.controls);
    if (path === '/v1/chat/completions' && req.method === 'POST') return this.chat(req, res, signal);
    // Blocks cover the whole API; rate limits, faults and the ledger concern chat calls only.
    if (path.startsWith('/v1/') && this.policy.isBlocked(sourceIp(req)))
      return sendJson(res, 403, blockedBody());
    if (path === '/v1/models' && req.method === 'GET') return this.listModels(req, res);
    const body = errorBody(
      `Unknown request URL: ${req.method} ${path}.`,
      'invalid_request_error',
      'unknown_url',
    );
    sendJson(res, 404, body);
  }

  private listModels(req: IncomingMessage, res: ServerResponse): void {
    const unauthorized = this.authError(req);
    if (unauthorized) return sendJson(res, 401, unauthorized);
    const data = this.models.map((id) => ({
      id,
      object: 'model',
      created: 1_700_000_000,
      owned_by: 'switchyard-mock',
    }));
    sendJson(res, 200, { object: 'list', data });
  }

  private latencyFor(req: IncomingMessage): number {
    const forced = header(req, LATENCY_HEADER);
    if (forced !== undefined && /^\d+$/.test(forced)) return Number(forced);
    const l = this.opts.latencyMs ?? 0;
    return typeof l === 'number' ? l : l.min + Math.floor(this.latencyRng() * (l.max - l.min + 1));
  }

  /** null when authorized, else the 401 body. */
  private authError(req: IncomingMessage) {
    if (this.opts.apiKey === undefined) return null;
    const auth = header(req, 'authorization');
    const match = auth ? /^Bearer\s+(.+)$/i.exec(auth) : null;
    if (!match) {
      return errorBody(
        "You didn't provide an API key. Provide it in an Authorization header using Bearer auth.",
        'invalid_request_error',
        null,
      );
    }
    if (match[1] !== this.opts.apiKey) {
      return errorBody('Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
    }
    return null;
  }

  /** The body, or undefined after answering 413. */
  private async readChatBody(req: IncomingMessage, res: ServerResponse): Promise<string | undefined> {
    try {
      return await readBody(req, MAX_BODY_BYTES);
    } catch (err) {
      if (!(err instanceof BodyTooLargeError)) throw err;
      this.ledger.open(sourceIp(req), UNKNOWN_MODEL).settle('invalid');
      const body = errorBody(err.message, 'invalid_request_error', 'request_too_large');
      sendJson(res, 413, body, { connection: 'close' });
      return undefined;
    }
  }

  private async chat(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const raw = await this.readChatBody(req, res);
    if (raw === undefined) return;
    const parsed = parseChatRequest(raw, this.models);
    const call = this.ledger.open(
      sourceIp(req),
      parsed.ok ? parsed.request.model : (parsed.model ?? UNKNOWN_MODEL),
    );
    res.once('close', () => call.settle('aborted'));

    const verdict = this.policy.check(sourceIp(req));
    if (verdict.kind === 'blocked') return refuse(res, call, '403', 403, blockedBody());
    if (verdict.kind === 'rate_limited') {
      return refuse(res, call, '429', 429, rateLimitBody(), verdict.retryAfterSeconds);
    }
    const unauthorized = this.authError(req);
    if (unauthorized) return refuse(res, call, '401', 401, unauthorized);
    if (!parsed.ok) {
      const body = errorBody(parsed.message, 'invalid_request_error', parsed.code, parsed.param);
      return refuse(res, call, 'invalid', parsed.status, body);
    }
    let fault;
    try {
      fault = this.faults.next(header(req, FAULT_HEADER));
    } catch (err) {
      if (!(err instanceof UnknownFaultError)) throw err;
      const body = errorBody(err.message, 'invalid_request_error', null, FAULT_HEADER);
      return refuse(res, call, 'invalid', 400, body);
    }

    await pause(this.latencyFor(req), signal);
    if (call.settled || signal.aborted) return;
    if (fault?.kind === '5xx') return refuse(res, call, '5xx', fault.status, serverErrorBody());
    if (fault?.kind === '429') return refuse(res, call, '429', 429, rateLimitBody(), fault.retryAfterSeconds);
    if (fault?.kind === 'timeout') return call.settle('timeout'); // never answer

    const { request } = parsed;
    const meta = {
      id: `chatcmpl-mock-${++this.seq}`,
      created: Math.floor(Date.now() / 1000),
      model: request.model,
    };
    const fixed = Object.hasOwn(this.answers, request.model) ? this.answers[request.model] : undefined;
    const plan = withTokenClasses(
      planCompletion(request.messages, this.answerWords, request.maxTokens, fixed),
      this.opts,
      this.cache.use(request.model, request.messages.slice(0, -1)),
      false,
    );
    const mode = fault?.kind === 'cut' || fault?.kind === 'error200' ? fault.kind : 'ok';
    if (!request.stream) return answerJson(res, call, meta, plan, mode);
    await answerStream(res, call, meta, plan, mode, {
      includeUsage: request.includeUsage,
      tokenDelayMs: this.opts.tokenDelayMs ?? 0,
      signal,
    });
  }
}

export function startMockLlm(opts: MockLlmOptions = {}): Promise<MockLlm> {
  return serveMockLlm(new MockLlmServer(opts), opts);
}

/** Listens for a mock LLM's requests (OpenAI- or Anthropic-shaped) and hands back its controls. */
export async function serveMockLlm(
  mock: {
    controls: LlmControls;
    handle(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void>;
  },
  opts: MockLlmOptions,
): Promise<MockLlm> {
  const server = await listen(
    (req, res, signal) => mock.handle(req, res, signal),
    opts.host ?? '127.0.0.1',
    opts.port ?? 0,
  );
  return {
    ...mock.controls,
    url: server.url,
    host: server.host,
    port: server.port,
    close: () => server.close(),
  };
}
