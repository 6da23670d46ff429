import { describe, expect, it } from 'vitest';
import { AdminSessions } from './session.ts';

const ADMIN_KEY = 'admin_0123456789abcdef';

describe('AdminSessions', () => {
  it('accepts a token it issued until it expires, and never carries the admin key', () => {
    const sessions = new AdminSessions(ADMIN_KEY, 60_000);
    const { token, expiresAt } = sessions.issue(1_000_000);
    expect(expiresAt).toBe(1_060_000);
    expect(token).not.toContain(ADMIN_KEY);
    expect(sessions.verify(token, 1_059_999)).toBe(true);
    expect(sessions.verify(token, 1_060_000)).toBe(false);
  });

  it('refuses a tampered token, one signed with another admin key, and garbage', () => {
    const sessions = new AdminSessions(ADMIN_KEY);
    const { token } = sessions.issue();
    const [v, expires, nonce, sig] = token.split('.');
    const later = `${v}.${Number(expires) + 86_400_000}.${nonce}.${sig}`;
    const flipped = `${v}.${expires}.${nonce}.${sig?.startsWith('A') ? 'B' : 'A'}${sig?.slice(1)}`;
    for (const bad of [later, flipped, `${token}x`, '', 'v1.1.2.3', 'v2.9999999999999.a.b', undefined])
      expect(sessions.verify(bad)).toBe(false);
    expect(new AdminSessions('another admin key').verify(token)).toBe(false);
  });
});
