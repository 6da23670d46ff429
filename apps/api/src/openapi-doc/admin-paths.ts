import { json, errors, idParam } from './shared.ts';

/** Admin: tenants, keys, webhook secrets, proxies. */
export const adminPaths = {
  '/v1/admin/tenants': {
    post: {
      summary: 'Create a tenant (admin)',
      requestBody: { required: true, content: json('CreateTenant') },
      responses: {
        '201': { description: 'Created', content: json('Tenant') },
        ...errors(400, 401, 403, 409, 503),
      },
    },
  },
  '/v1/admin/tenants/{id}': {
    get: {
      summary: 'Read a tenant (admin)',
      parameters: [idParam],
      responses: {
        '200': { description: 'The tenant', content: json('Tenant') },
        ...errors(401, 403, 404),
      },
    },
  },
  '/v1/admin/tenants/{id}/keys': {
    post: {
      summary: 'Create an API key for a tenant (admin); the key is shown once',
      parameters: [idParam],
      requestBody: { content: json('CreateKey') },
      responses: {
        '201': { description: 'Created', content: json('ApiKeyCreated') },
        ...errors(400, 401, 403, 404, 503),
      },
    },
  },
  '/v1/admin/tenants/{id}/webhook-secret': {
    post: {
      summary: "Create or rotate the tenant's webhook signing secret (admin); shown once",
      parameters: [idParam],
      responses: {
        '201': {
          description: 'Created; it replaces any earlier secret',
          content: json('WebhookSecretCreated'),
        },
        ...errors(401, 403, 404, 503),
      },
    },
  },
  '/v1/admin/tenants/{id}/keys/{keyId}': {
    delete: {
      summary: 'Revoke an API key (admin)',
      parameters: [idParam, { name: 'keyId', in: 'path', required: true, schema: { type: 'string' } }],
      responses: { '204': { description: 'Revoked' }, ...errors(401, 403, 404, 503) },
    },
  },
  '/v1/admin/lanes': {
    get: {
      summary:
        'Per lane: jobs ready, active and delayed (retrying, fair_share, egress, host), the oldest ready ' +
        "job's age, jobs finished per second over 1 and 5 minutes; and the live workers (admin)",
      responses: { '200': { description: 'LanesReport' }, ...errors(401, 403, 503) },
    },
  },
  '/v1/admin/proxies': {
    get: {
      summary: 'The proxy pool with health (admin; `?format=table` for text)',
      responses: { '200': { description: 'Pool' } },
    },
    post: {
      summary: 'Add or update a proxy (admin)',
      responses: { '200': { description: 'Updated' }, '201': { description: 'Created' } },
    },
  },
};
