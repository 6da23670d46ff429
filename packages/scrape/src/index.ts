export * from './address-rules.ts';
export * from './errors.ts';
export * from './fetch-page.ts';
export * from './target-guard.ts';
export * from './target-policy.ts';
