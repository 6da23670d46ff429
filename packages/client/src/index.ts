export { SwitchyardClient, type ClientOptions } from './client.ts';
export { SwitchyardApiError, type ClientErrorCode } from './errors.ts';
export type { SubmitOptions, WaitOptions } from './jobs.ts';
export type { BatchInput, BatchLineInput, CreateBatchOptions, UploadProgress } from './batches.ts';
export type { UsageQuery } from './admin.ts';
export type { Jobs } from './jobs.ts';
export type { Batches } from './batches.ts';
export type { Admin } from './admin.ts';
