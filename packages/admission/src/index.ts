export * from './fair-mover.ts';
export * from './fair-share.ts';
export * from './keys.ts';
export * from './tenant-load.ts';
