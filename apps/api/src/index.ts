export { buildApiServer, type ApiServer, type ApiServerDeps } from './server.ts';
export { TenantStore } from './tenancy/tenant-store.ts';
