export * from './keys.ts';
export * from './webhook-outbox.ts';
