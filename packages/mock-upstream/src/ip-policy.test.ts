import { describe, expect, it } from 'vitest';
import { IpPolicy } from './ip-policy.ts';

describe('ip policy', () => {
  it('a burst gets exactly perIpPerSecond admitted per IP, and the IP recovers a second later', () => {
    const policy = new IpPolicy();
    policy.setRateLimit({ perIpPerSecond: 3, retryAfterSeconds: 7 });
    const t0 = 1_000_000;
    const verdicts = [0, 10, 20, 30, 40].map((dt) => policy.check('127.0.0.12', t0 + dt).kind);
    expect(verdicts).toEqual(['allow', 'allow', 'allow', 'rate_limited', 'rate_limited']);
    expect(policy.check('127.0.0.12', t0 + 50)).toEqual({ kind: 'rate_limited', retryAfterSeconds: 7 });
    expect(policy.check('127.0.0.13', t0 + 50).kind).toBe('allow');
    expect(policy.check('127.0.0.12', t0 + 1000).kind).toBe('allow');
  });

  it('a blocked IP is blocked in its IPv4-mapped form too, until unblocked', () => {
    const policy = new IpPolicy();
    policy.blockIp('::ffff:127.0.0.9');
    expect(policy.check('127.0.0.9').kind).toBe('blocked');
    expect(policy.isBlocked('127.0.0.9')).toBe(true);
    expect(policy.check('127.0.0.8').kind).toBe('allow');
    policy.unblockIp('127.0.0.9');
    expect(policy.check('127.0.0.9').kind).toBe('allow');
  });

  it('lifting the limit admits everything again', () => {
    const policy = new IpPolicy();
    policy.setRateLimit({ perIpPerSecond: 0 });
    expect(policy.check('127.0.0.1').kind).toBe('rate_limited');
    policy.setRateLimit(null);
    expect(policy.check('127.0.0.1').kind).toBe('allow');
  });
});
