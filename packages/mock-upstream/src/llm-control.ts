import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendJson } from './http-server.ts';
import type { FaultConfig, FaultInjector } from './faults.ts';
import type { IpPolicy, RateLimitConfig } from './ip-policy.ts';
import type { LlmLedger, LlmStats } from './llm-ledger.ts';

/** The knobs the `/__mock/*` routes turn; the same methods `MockLlm` exposes in process. */
export interface LlmControls {
  stats(): LlmStats;
  resetStats(): void;
  setFaults(config: FaultConfig): void;
  setRateLimit(config: RateLimitConfig | null): void;
  blockIp(ip: string): void;
  unblockIp(ip: string): void;
  /** Sets what each model answers (its text, words joined by single spaces); replaces the map. */
  setAnswers(answers: Record<string, string>): void;
}

/** A copy of a set-answers map, or a TypeError when it is not `{ "<model>": "<answer text>" }`. */
export function checkedAnswers(answers: unknown): Record<string, string> {
  if (
    typeof answers !== 'object' ||
    answers === null ||
    Object.values(answers).some((a) => typeof a !== 'string')
  )
    throw new TypeError('answers must be {"<model>": "<answer text>"}');
  return { ...(answers as Record<string, string>) };
}

/** The controls of a mock LLM (OpenAI- or Anthropic-shaped): its bill, faults, per-IP policy and set answers. */
export function llmControls(mock: {
  ledger: LlmLedger;
  faults: FaultInjector;
  policy: IpPolicy;
  setAnswers(answers: Record<string, string>): void;
}): LlmControls {
  return {
    stats: () => mock.ledger.snapshot(),
    resetStats: () => mock.ledger.reset(),
    setFaults: (config) => mock.faults.set(config),
    setRateLimit: (config) => mock.policy.setRateLimit(config),
    blockIp: (ip) => mock.policy.blockIp(ip),
    unblockIp: (ip) => mock.policy.unblockIp(ip),
    setAnswers: (answers) => mock.setAnswers(checkedAnswers(answers)),
  };
}

/** Path prefix of the control routes; never counted as calls, never rate limited or faulted. */
export const CONTROL_PREFIX = '/__mock/';

async function jsonBody(req: IncomingMessage): Promise<unknown> {
  const raw = await readBody(req, 64 * 1024);
  return raw.trim() === '' ? {} : JSON.parse(raw);
}

function ipOf(body: unknown): string {
  const ip = (body as { ip?: unknown } | null)?.ip;
  if (typeof ip !== 'string' || ip === '') throw new TypeError('body must be {"ip": "<address>"}');
  return ip;
}

/**
 * `GET /__mock/stats`, `POST /__mock/reset` (stats only), `POST /__mock/faults` (a FaultConfig;
 * replaces the current one), `POST /__mock/rate-limit` (a RateLimitConfig, or null to lift it),
 * `POST /__mock/block` and `POST /__mock/unblock` (`{"ip": "127.0.0.12"}`), `POST /__mock/answers`
 * (`{"<model>": "<answer text>"}`), so out-of-process tests
 * can drive the mock.
 */
export async function handleControl(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  controls: LlmControls,
): Promise<void> {
  const route = `${req.method ?? 'GET'} ${path.slice(CONTROL_PREFIX.length)}`;
  if (route === 'GET stats') return sendJson(res, 200, controls.stats());
  const actions: Record<string, (body: unknown) => void> = {
    'POST reset': () => controls.resetStats(),
    'POST faults': (body) => controls.setFaults(body as FaultConfig),
    'POST rate-limit': (body) => controls.setRateLimit(body as RateLimitConfig | null),
    'POST block': (body) => controls.blockIp(ipOf(body)),
    'POST unblock': (body) => controls.unblockIp(ipOf(body)),
    'POST answers': (body) => controls.setAnswers(body as Record<string, string>),
  };
  const action = actions[route];
  if (!action) return sendJson(res, 404, { error: { message: `no control route ${route}` } });
  try {
    action(await jsonBody(req));
  } catch (err) {
    return sendJson(res, 400, { error: { message: err instanceof Error ? err.message : String(err) } });
  }
  res.writeHead(204).end();
}
