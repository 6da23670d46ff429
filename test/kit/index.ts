export * from './redis-harness.ts';
export * from './proxy-fleet.ts';
