export * from './content-decoding.ts';
export * from './output-guardrail.ts';
export * from './pricing.ts';
export * from './registry.ts';
export * from './types.ts';
export * from './upstream-errors.ts';
