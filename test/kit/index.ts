export * from './redis-harness.ts';
export * from './proxy-fleet.ts';
export * from './test-ca.ts';
export * from './redis-cluster.ts';
