import { describe, expect, it } from 'vitest';
import { decideCapability, type Capability } from './capability.ts';

const missing: Capability = { name: 'netns', available: false, hint: 'unshare --net' };

describe('a suite that needs a capability', () => {
  it('runs where the capability is there, CI or not', () => {
    expect(decideCapability({ ...missing, available: true }, { CI: 'true' })).toBe('run');
    expect(decideCapability({ ...missing, available: true }, {})).toBe('run');
  });

  it('skips on a machine outside CI that lacks it', () => {
    expect(decideCapability(missing, {})).toBe('skip');
  });

  it('fails under CI=true when missing, instead of skipping', () => {
    expect(decideCapability(missing, { CI: 'true' })).toBe('fail');
    expect(decideCapability(missing, { CI: 'true', SWITCHYARD_ALLOW_SKIP: 'promtool' })).toBe('fail');
  });

  it('skips under CI only when SWITCHYARD_ALLOW_SKIP names it', () => {
    expect(decideCapability(missing, { CI: 'true', SWITCHYARD_ALLOW_SKIP: 'netns' })).toBe('skip');
    expect(decideCapability(missing, { CI: 'true', SWITCHYARD_ALLOW_SKIP: 'chromium, netns' })).toBe('skip');
  });
});
