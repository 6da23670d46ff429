import { SwitchyardError, type Scope } from '@switchyard/contracts';
import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { TenantRateLimit } from './rate-limit.ts';
import { bearerToken, safeEqual } from './tenancy/api-keys.ts';
import type { TenantStore } from './tenancy/tenant-store.ts';

export type Principal = { kind: 'admin' } | { kind: 'key'; tenantId: string; keyId: string; scopes: Scope[] };

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export interface AuthDeps {
  adminKey: string | undefined;
  tenants: TenantStore;
  /** Every request of a tenant key takes a token (absent: no rate limit). */
  rateLimit?: TenantRateLimit;
}

async function authenticate(req: FastifyRequest, deps: AuthDeps): Promise<Principal> {
  // `x-api-key` is how Anthropic SDKs send a key (for /v1/messages); Bearer is everyone else's.
  const xApiKey = req.headers['x-api-key'];
  const token =
    bearerToken(req.headers.authorization) ??
    bearerToken(typeof xApiKey === 'string' ? `Bearer ${xApiKey}` : undefined);
  if (!token) throw new SwitchyardError('unauthorized', 'send Authorization: Bearer <api key>');
  if (deps.adminKey && safeEqual(token, deps.adminKey)) return { kind: 'admin' };
  const found = await deps.tenants.authenticate(token);
  if (!found) throw new SwitchyardError('unauthorized', 'the API key is unknown or revoked');
  return { kind: 'key', ...found };
}

/**
 * A preHandler that authenticates and checks one scope. The bootstrap admin key and keys with the
 * `admin` scope manage tenants and keys; only tenant keys act on jobs, within their own tenant.
 */
export function requireScope(scope: Scope, deps: AuthDeps): preHandlerAsyncHookHandler {
  return async (req) => {
    const principal = await authenticate(req, deps);
    req.principal = principal;
    if (scope === 'admin') {
      if (principal.kind === 'admin' || principal.scopes.includes('admin')) return;
      throw new SwitchyardError('forbidden', 'this route needs the admin scope');
    }
    if (principal.kind === 'admin') {
      throw new SwitchyardError('forbidden', 'the admin key manages tenants; use a tenant API key for jobs');
    }
    if (!principal.scopes.includes(scope))
      throw new SwitchyardError('forbidden', `this route needs the ${scope} scope`);
    const limit = deps.rateLimit;
    if (limit) await limit.take(principal.tenantId);
  };
}

/** The tenant of an authenticated tenant-key request. */
export function tenantOf(req: FastifyRequest): string {
  const p = req.principal;
  if (p?.kind !== 'key') throw new SwitchyardError('unauthorized');
  return p.tenantId;
}
