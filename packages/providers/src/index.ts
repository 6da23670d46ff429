export * from './content-decoding.ts';
export * from './output-guardrail.ts';
export * from './pricing.ts';
export * from './registry.ts';
export * from './types.ts';
export * from './upstream-errors.ts';
export * from './estimate.ts';
export { ANTHROPIC_VERSION, DEFAULT_MAX_TOKENS } from './anthropic/api.ts';
