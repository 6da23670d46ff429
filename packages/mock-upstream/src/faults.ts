import { mulberry32, type Prng } from './prng.ts';

/** Rates are probabilities per call (0..1, summing to at most 1); one draw picks at most one fault. */
export interface FaultConfig {
  /** Answer 5xx (`status5xx`, default 500) with an OpenAI `server_error` body. */
  error5xx?: number;
  /** Answer 429 with `Retry-After: retryAfterSeconds` (default 1). */
  rateLimit?: number;
  /** Accept the request and never answer; the client has to give up. */
  timeout?: number;
  /** Send part of the answer, then destroy the socket. */
  streamCut?: number;
  /** Answer 200 with an `{ error: {...} }` body (or SSE event) instead of a completion. */
  errorIn200?: number;
  /** PRNG seed; the same seed and the same sequence of calls give the same faults. Default 1. */
  seed?: number;
  retryAfterSeconds?: number;
  status5xx?: number;
}

export type Fault =
  | { kind: '5xx'; status: number }
  | { kind: '429'; retryAfterSeconds: number }
  | { kind: 'timeout' }
  | { kind: 'cut' }
  | { kind: 'error200' };

/** The `x-mock-fault` request header: forces one fault (or `none`) for that request only. */
export const FAULT_HEADER = 'x-mock-fault';

const RATE_KEYS = ['error5xx', 'rateLimit', 'timeout', 'streamCut', 'errorIn200'] as const;

export function validateFaultConfig(config: FaultConfig): void {
  let sum = 0;
  for (const key of RATE_KEYS) {
    const rate = config[key] ?? 0;
    if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 0 || rate > 1) {
      throw new RangeError(`${key} must be a rate between 0 and 1`);
    }
    sum += rate;
  }
  if (sum > 1 + 1e-9) throw new RangeError('fault rates must sum to at most 1');
  if (config.seed !== undefined && !Number.isInteger(config.seed))
    throw new RangeError('seed must be an integer');
  const status = config.status5xx ?? 500;
  if (!Number.isInteger(status) || status < 500 || status > 599) {
    throw new RangeError('status5xx must be a 5xx status');
  }
  const retryAfter = config.retryAfterSeconds ?? 1;
  if (!Number.isInteger(retryAfter) || retryAfter < 0) {
    throw new RangeError('retryAfterSeconds must be a non-negative integer');
  }
}

/**
 * Picks the fault for each call. The PRNG advances exactly once per call that is not forced by the
 * header, so forced calls never shift the seeded sequence of the others.
 */
export class FaultInjector {
  #config: FaultConfig = {};
  #rng: Prng = mulberry32(1);

  constructor(config: FaultConfig = {}) {
    this.set(config);
  }

  /** Replaces the whole configuration (omitted rates become 0) and re-seeds the PRNG. */
  set(config: FaultConfig): void {
    validateFaultConfig(config);
    this.#config = { ...config };
    this.#rng = mulberry32(config.seed ?? 1);
  }

  get config(): FaultConfig {
    return { ...this.#config };
  }

  /** The fault for one call; `header` is the raw `x-mock-fault` value, if any. */
  next(header?: string): Fault | undefined {
    if (header !== undefined) return this.#fromHeader(header);
    const c = this.#config;
    const r = this.#rng();
    let edge = 0;
    for (const key of RATE_KEYS) {
      edge += c[key] ?? 0;
      if (r < edge) return this.#fault(key);
    }
    return undefined;
  }

  #fault(key: (typeof RATE_KEYS)[number]): Fault {
    switch (key) {
      case 'error5xx':
        return { kind: '5xx', status: this.#config.status5xx ?? 500 };
      case 'rateLimit':
        return { kind: '429', retryAfterSeconds: this.#config.retryAfterSeconds ?? 1 };
      case 'timeout':
        return { kind: 'timeout' };
      case 'streamCut':
        return { kind: 'cut' };
      case 'errorIn200':
        return { kind: 'error200' };
    }
  }

  #fromHeader(value: string): Fault | undefined {
    const v = value.trim().toLowerCase();
    if (v === 'none') return undefined;
    if (v === '5xx') return this.#fault('error5xx');
    if (/^5\d\d$/.test(v)) return { kind: '5xx', status: Number(v) };
    if (v === '429') return this.#fault('rateLimit');
    if (v === 'timeout') return { kind: 'timeout' };
    if (v === 'cut') return { kind: 'cut' };
    if (v === 'error200') return { kind: 'error200' };
    throw new UnknownFaultError(`unknown ${FAULT_HEADER} value: ${value}`);
  }
}

export class UnknownFaultError extends Error {
  readonly code = 'MOCK_UNKNOWN_FAULT';
}
