import type { JobResult, JobSpec } from '@switchyard/contracts';
import type { Dispatcher } from 'undici';

/** One attempt's successful outcome. */
export interface AttemptSuccess {
  result: JobResult;
  costNanos: number;
  bytes: number;
}

export interface AttemptContext {
  signal: AbortSignal;
  dispatcher: Dispatcher;
  /** Set for streaming jobs: receives content deltas as the upstream sends them. */
  onDelta?: (text: string) => void;
  /** Scrapes: called right before the request leaves (the per-host gate's start report). */
  beforeSend?: () => void;
}

/** Runs one attempt of one kind of job: one upstream call, no retries. */
export type Executor<S extends JobSpec = JobSpec> = (spec: S, ctx: AttemptContext) => Promise<AttemptSuccess>;

/**
 * The upstream answered, and billed, but the answer failed the request's `response_format` (the
 * JSON guardrail): the attempt is `invalid_output`, and its cost is still the attempt's cost.
 */
export class InvalidOutputError extends Error {
  readonly spent: AttemptSuccess;
  constructor(reason: string, spent: AttemptSuccess) {
    super(reason);
    this.name = 'InvalidOutputError';
    this.spent = spent;
  }
}
