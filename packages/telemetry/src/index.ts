export * from './logger.ts';
export * from './metrics.ts';
export * from './redis-up.ts';
export * from './tracing.ts';
