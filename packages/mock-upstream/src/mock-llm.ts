import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseChatRequest } from './chat-request.ts';
import { FAULT_HEADER, FaultInjector, UnknownFaultError, type FaultConfig } from './faults.ts';
import { BodyTooLargeError, listen, pause, readBody, sendJson } from './http-server.ts';
import { IpPolicy, type RateLimitConfig } from './ip-policy.ts';
import { answerJson, answerStream } from './llm-answer.ts';
import { CONTROL_PREFIX, handleControl, type LlmControls } from './llm-control.ts';
import { LlmLedger, type CallHandle, type LlmOutcome } from './llm-ledger.ts';
import { errorBody, rateLimitBody, serverErrorBody } from './openai-shapes.ts';
import { mulberry32 } from './prng.ts';
import { sourceIp } from './source-ip.ts';
import { planCompletion } from './tokens.ts';

/** Fixed delay in ms, or a uniform range drawn from a seeded PRNG. */
export type Latency = number | { min: number; max: number };

export interface MockLlmOptions {
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

export async function startMockLlm(opts: MockLlmOptions = {}): Promise<MockLlm> {
  const models = opts.models ?? DEFAULT_MOCK_MODELS;
  const answerWords = opts.answerWords ?? 16;
  const tokenDelayMs = opts.tokenDelayMs ?? 0;
  if (!Number.isInteger(answerWords) || answerWords < 1) throw new RangeError('answerWords must be >= 1');
  const ledger = new LlmLedger();
  const faults = new FaultInjector(opts.faults);
  const policy = new IpPolicy();
  policy.setRateLimit(opts.rateLimit);
  const latencyRng = mulberry32(0x5eed);
  let seq = 0;

  const controls: LlmControls = {
    stats: () => ledger.snapshot(),
    resetStats: () => ledger.reset(),
    setFaults: (config) => faults.set(config),
    setRateLimit: (config) => policy.setRateLimit(config),
    blockIp: (ip) => policy.blockIp(ip),
    unblockIp: (ip) => policy.unblockIp(ip),
  };

  function latencyFor(req: IncomingMessage): number {
    const forced = header(req, LATENCY_HEADER);
    if (forced !== undefined && /^\d+$/.test(forced)) return Number(forced);
    const l = opts.latencyMs ?? 0;
    return typeof l === 'number' ? l : l.min + Math.floor(latencyRng() * (l.max - l.min + 1));
  }

  /** null when authorized, else the 401 body. */
  function authError(req: IncomingMessage) {
    if (opts.apiKey === undefined) return null;
    const auth = header(req, 'authorization');
    const match = auth ? /^Bearer\s+(.+)$/i.exec(auth) : null;
    if (!match) {
      return errorBody(
        "You didn't provide an API key. Provide it in an Authorization header using Bearer auth.",
        'invalid_request_error',
        null,
      );
    }
    if (match[1] !== opts.apiKey) {
      return errorBody('Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
    }
    return null;
  }

  const blockedBody = () =>
    errorBody('Access denied: requests from this IP address are blocked.', 'permission_error', 'ip_blocked');

  async function chat(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const ip = sourceIp(req);
    let raw: string;
    try {
      raw = await readBody(req, MAX_BODY_BYTES);
    } catch (err) {
      if (!(err instanceof BodyTooLargeError)) throw err;
      ledger.open(ip, UNKNOWN_MODEL).settle('invalid');
      const body = errorBody(err.message, 'invalid_request_error', 'request_too_large');
      return sendJson(res, 413, body, { connection: 'close' });
    }
    const parsed = parseChatRequest(raw, models);
    const call = ledger.open(ip, parsed.ok ? parsed.request.model : (parsed.model ?? UNKNOWN_MODEL));
    res.once('close', () => call.settle('aborted'));

    const verdict = policy.check(ip);
    if (verdict.kind === 'blocked') return refuse(res, call, '403', 403, blockedBody());
    if (verdict.kind === 'rate_limited') {
      return refuse(res, call, '429', 429, rateLimitBody(), verdict.retryAfterSeconds);
    }
    const unauthorized = authError(req);
    if (unauthorized) return refuse(res, call, '401', 401, unauthorized);
    if (!parsed.ok) {
      const body = errorBody(parsed.message, 'invalid_request_error', parsed.code, parsed.param);
      return refuse(res, call, 'invalid', parsed.status, body);
    }
    let fault;
    try {
      fault = faults.next(header(req, FAULT_HEADER));
    } catch (err) {
      if (!(err instanceof UnknownFaultError)) throw err;
      return refuse(
        res,
        call,
        'invalid',
        400,
        errorBody(err.message, 'invalid_request_error', null, FAULT_HEADER),
      );
    }

    await pause(latencyFor(req), signal);
    if (call.settled || signal.aborted) return;
    if (fault?.kind === '5xx') return refuse(res, call, '5xx', fault.status, serverErrorBody());
    if (fault?.kind === '429') return refuse(res, call, '429', 429, rateLimitBody(), fault.retryAfterSeconds);
    if (fault?.kind === 'timeout') return call.settle('timeout'); // never answer

    const { request } = parsed;
    const meta = {
      id: `chatcmpl-mock-${++seq}`,
      created: Math.floor(Date.now() / 1000),
      model: request.model,
    };
    const plan = planCompletion(request.messages, answerWords, request.maxTokens);
    const mode = fault?.kind === 'cut' || fault?.kind === 'error200' ? fault.kind : 'ok';
    if (!request.stream) return answerJson(res, call, meta, plan, mode);
    await answerStream(res, call, meta, plan, mode, {
      includeUsage: request.includeUsage,
      tokenDelayMs,
      signal,
    });
  }

  function refuse(
    res: ServerResponse,
    call: CallHandle,
    outcome: LlmOutcome,
    status: number,
    body: unknown,
    retryAfterSeconds?: number,
  ): void {
    call.settle(outcome);
    sendJson(
      res,
      status,
      body,
      retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) },
    );
  }

  const server = await listen(
    async (req, res, signal) => {
      const path = new URL(req.url ?? '/', 'http://mock').pathname;
      if (path.startsWith(CONTROL_PREFIX)) return handleControl(req, res, path, controls);
      if (path === '/v1/chat/completions' && req.method === 'POST') return chat(req, res, signal);
      // Blocks cover the whole API; rate limits, faults and the ledger concern chat calls only.
      if (path.startsWith('/v1/') && policy.isBlocked(sourceIp(req)))
        return sendJson(res, 403, blockedBody());
      if (path === '/v1/models' && req.method === 'GET') {
        const unauthorized = authError(req);
        if (unauthorized) return sendJson(res, 401, unauthorized);
        const data = models.map((id) => ({
          id,
          object: 'model',
          created: 1_700_000_000,
          owned_by: 'switchyard-mock',
        }));
        return sendJson(res, 200, { object: 'list', data });
      }
      sendJson(
        res,
        404,
        errorBody(`Unknown request URL: ${req.method} ${path}.`, 'invalid_request_error', 'unknown_url'),
      );
    },
    opts.host ?? '127.0.0.1',
    opts.port ?? 0,
  );

  return { ...controls, url: server.url, host: server.host, port: server.port, close: () => server.close() };
}
