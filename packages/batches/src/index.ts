export * from './batch-ids.ts';
export * from './batch-record.ts';
export * from './batch-store.ts';
export * from './batch-writer.ts';
export * from './keys.ts';
export * from './file-store.ts';
export * from './newest-first.ts';
