export { WorkerApp, type WorkerAppOptions } from './worker-app.ts';
export { decideRetry, type RetryDecision, type RetryInput } from './retry-authority.ts';
