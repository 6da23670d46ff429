export * from './address-rules.ts';
export * from './errors.ts';
export * from './extract/content-extractor.ts';
export * from './extract/in-thread.ts';
export * from './extract/formats.ts';
export { normalizeForHash } from './extract/normalize.ts';
export * from './fetch-page.ts';
export * from './target-guard.ts';
export * from './target-policy.ts';
