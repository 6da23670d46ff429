import { createHmac, randomBytes } from 'node:crypto';
import { safeEqual } from '../tenancy/api-keys.ts';

/** The cookie holding an ops-page session; sent only to /admin. */
export const SESSION_COOKIE = 'sy_admin_session';
/** How long a login lasts. */
export const SESSION_TTL_MS = 12 * 3_600_000;

const VERSION = 'v1';

/**
 * Ops-page sessions: a signed, expiring token (`v1.<expires ms>.<nonce>.<HMAC>`), never the admin
 * key itself. The HMAC key is derived from the admin key, so changing the admin key ends every
 * session. Stateless: logging out clears the browser's cookie, and a copied token stays valid
 * until it expires (at most SESSION_TTL_MS).
 */
export class AdminSessions {
  readonly #key: Buffer;
  readonly ttlMs: number;

  constructor(adminKey: string, ttlMs = SESSION_TTL_MS) {
    this.#key = createHmac('sha256', adminKey).update('switchyard ops page session').digest();
    this.ttlMs = ttlMs;
  }

  issue(now = Date.now()): { token: string; expiresAt: number } {
    const expiresAt = now + this.ttlMs;
    const body = `${VERSION}.${expiresAt}.${randomBytes(12).toString('base64url')}`;
    return { token: `${body}.${this.#sign(body)}`, expiresAt };
  }

  /** True for a token this admin key signed that has not expired. */
  verify(token: string | undefined, now = Date.now()): boolean {
    if (!token) return false;
    const parts = token.split('.');
    if (parts.length !== 4 || parts[0] !== VERSION) return false;
    const [, expires, , sig] = parts;
    const expiresAt = Number(expires);
    if (!Number.isSafeInteger(expiresAt) || expiresAt <= now) return false;
    return safeEqual(sig ?? '', this.#sign(parts.slice(0, 3).join('.')));
  }

  #sign(body: string): string {
    return createHmac('sha256', this.#key).update(body).digest('base64url');
  }
}
