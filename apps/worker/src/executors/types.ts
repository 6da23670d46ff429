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
