import { SwitchyardError } from '@switchyard/contracts';
import type { Ledger } from '@switchyard/ledger';
import { utcDay } from '@switchyard/ledger';
import type { TenantStore } from './tenancy/tenant-store.ts';

/**
 * Admission's budget check: today's (UTC) ledger spend against the tenant's daily budget. Jobs
 * already queued still run, so spend can pass the budget by what was accepted before it was hit.
 */
export async function checkBudget(
  tenants: TenantStore,
  ledger: Ledger,
  tenantId: string,
  now = Date.now(),
): Promise<void> {
  const [budget, spent] = await Promise.all([
    tenants.dailyBudgetNanos(tenantId),
    ledger.daySpendNanos(tenantId, utcDay(now)),
  ]);
  if (budget === undefined || spent < budget) return;
  const midnight = Date.UTC(
    new Date(now).getUTCFullYear(),
    new Date(now).getUTCMonth(),
    new Date(now).getUTCDate() + 1,
  );
  throw new SwitchyardError(
    'budget_exceeded',
    `spent ${(spent / 1e9).toFixed(6)} of ${(budget / 1e9).toFixed(6)} USD today (UTC)`,
    {
      retryAfterSeconds: Math.ceil((midnight - now) / 1000),
    },
  );
}
