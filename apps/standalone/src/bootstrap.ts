import type { TenantStore } from '@switchyard/api';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What the embedded default remembers between runs (in a gitignored folder, mode 0600). */
export interface LocalState {
  adminKey: string;
  tenantId: string;
  apiKey: string;
}

export function readState(dataDir: string): Partial<LocalState> {
  try {
    return JSON.parse(readFileSync(join(dataDir, 'standalone.json'), 'utf8')) as Partial<LocalState>;
  } catch {
    return {};
  }
}

export function writeState(dataDir: string, state: LocalState): void {
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, 'standalone.json'), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

export function ensureAdminKey(configured: string | undefined, state: Partial<LocalState>): string {
  return configured ?? state.adminKey ?? `sy_admin_${randomBytes(24).toString('base64url')}`;
}

/**
 * A default tenant and key, created on first run (or again when Redis lost them), so a newcomer
 * can submit a job straight away. Returns whether they were created now.
 */
export async function ensureDefaultTenant(
  tenants: TenantStore,
  state: Partial<LocalState>,
): Promise<{ tenantId: string; apiKey: string; created: boolean }> {
  if (state.apiKey && state.tenantId && (await tenants.authenticate(state.apiKey))) {
    return { tenantId: state.tenantId, apiKey: state.apiKey, created: false };
  }
  const tenantId = 'default';
  if (!(await tenants.getTenant(tenantId)))
    await tenants.createTenant({ id: tenantId, name: 'Default tenant' });
  const key = await tenants.createKey(tenantId, {
    name: 'embedded default',
    scopes: ['jobs:write', 'jobs:read'],
  });
  return { tenantId, apiKey: key.key, created: true };
}
