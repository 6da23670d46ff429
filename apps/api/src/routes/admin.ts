import {
  CreateKeySchema,
  CreateTenantSchema,
  SwitchyardError,
  UpdateTenantSchema,
} from '@switchyard/contracts';
import type { FastifyInstance } from 'fastify';
import { requireScope, type AuthDeps } from '../auth.ts';
import { parseBody } from '../validation.ts';
import type { TenantStore } from '../tenancy/tenant-store.ts';

export function registerAdminRoutes(
  app: FastifyInstance,
  deps: { tenants: TenantStore; auth: AuthDeps },
): void {
  const admin = { preHandler: requireScope('admin', deps.auth) };
  const { tenants } = deps;

  app.post('/v1/admin/tenants', admin, async (req, reply) => {
    const input = parseBody(CreateTenantSchema, req.body ?? {});
    const tenant = await tenants.createTenant(input);
    req.log.info({ tenantId: tenant.id }, 'tenant created');
    return reply.code(201).header('location', `/v1/admin/tenants/${tenant.id}`).send(tenant);
  });

  app.get<{ Params: { id: string } }>('/v1/admin/tenants/:id', admin, async (req) => {
    const tenant = await tenants.getTenant(req.params.id);
    if (!tenant) throw new SwitchyardError('not_found', `no tenant ${req.params.id}`);
    return tenant;
  });

  app.patch<{ Params: { id: string } }>('/v1/admin/tenants/:id', admin, async (req) => {
    const patch = parseBody(UpdateTenantSchema, req.body ?? {});
    const tenant = await tenants.updateTenant(req.params.id, patch);
    if (!tenant) throw new SwitchyardError('not_found', `no tenant ${req.params.id}`);
    req.log.info(
      {
        tenantId: tenant.id,
        dailyBudgetUsd: tenant.daily_budget_usd,
        robotsExemptHosts: tenant.robots_exempt_hosts,
      },
      'tenant updated',
    );
    return tenant;
  });

  app.post<{ Params: { id: string } }>('/v1/admin/tenants/:id/webhook-secret', admin, async (req, reply) => {
    const created = await tenants.rotateWebhookSecret(req.params.id);
    if (!created) throw new SwitchyardError('not_found', `no tenant ${req.params.id}`);
    req.log.info({ tenantId: created.tenant_id }, 'webhook secret set');
    return reply.code(201).header('cache-control', 'no-store').send(created);
  });

  app.post<{ Params: { id: string } }>('/v1/admin/tenants/:id/keys', admin, async (req, reply) => {
    const input = parseBody(CreateKeySchema, req.body ?? {});
    const created = await tenants.createKey(req.params.id, input);
    req.log.info(
      { tenantId: created.tenant_id, keyId: created.id, scopes: created.scopes },
      'api key created',
    );
    return reply.code(201).header('cache-control', 'no-store').send(created);
  });

  app.delete<{ Params: { id: string; keyId: string } }>(
    '/v1/admin/tenants/:id/keys/:keyId',
    admin,
    async (req, reply) => {
      const revoked = await tenants.revokeKey(req.params.id, req.params.keyId);
      if (!revoked)
        throw new SwitchyardError('not_found', `no key ${req.params.keyId} for tenant ${req.params.id}`);
      req.log.info({ tenantId: req.params.id, keyId: req.params.keyId }, 'api key revoked');
      return reply.code(204).send();
    },
  );
}
