import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import fastifyStatic from '@fastify/static';
import { SwitchyardError } from '@switchyard/contracts';
import { OPS_PAGE_SCRIPT } from '@switchyard/ops-page';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bearerToken, safeEqual } from '../tenancy/api-keys.ts';
import type { TenantStore } from '../tenancy/tenant-store.ts';
import { loginPage, opsPage, PAGE_HEADERS } from './html.ts';
import type { OverviewReader } from './overview.ts';
import { AdminSessions, SESSION_COOKIE } from './session.ts';

export interface OpsPageRouteDeps {
  /** `api.adminKey`; without one the page only says it is off. */
  adminKey: string | undefined;
  tenants: Pick<TenantStore, 'authenticate'>;
  overview: Pick<OverviewReader, 'read'>;
  /** The built page (opsPageAssetsDir()); when it is missing the page says to build it. */
  assetsDir: string;
}

type Verdict = 'admin' | 'tenant' | 'unknown' | 'off';

const REFUSED: Record<Exclude<Verdict, 'admin'>, { status: number; message: string }> = {
  tenant: { status: 403, message: 'That is a tenant API key: the ops page opens only with the admin key.' },
  unknown: { status: 401, message: 'That key is not the admin key.' },
  off: { status: 403, message: 'The ops page is off: no admin key is configured (api.adminKey).' },
};

function keyFrom(body: unknown): string {
  const key = (body as { key?: unknown } | null | undefined)?.key;
  return typeof key === 'string' ? key.trim() : '';
}

/**
 * Whether the browser reached us over https: directly, or through a TLS-terminating proxy that says
 * so. Trusting the header is safe here: a forged one only makes the forger's own cookie Secure.
 */
function overHttps(req: FastifyRequest): boolean {
  const forwarded = req.headers['x-forwarded-proto'];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
  return req.protocol === 'https' || first === 'https';
}

const wantsJson = (req: FastifyRequest) => (req.headers['content-type'] ?? '').includes('application/json');

/**
 * The ops page under /admin: a login form that takes the admin key and sets an HttpOnly,
 * SameSite=Strict session cookie (Path=/admin; Secure over https), the page and its built assets,
 * and its data under /admin/api/ (GET only, so SameSite=Strict is the CSRF defence; the admin
 * bearer key works there too). A tenant API key is refused.
 */
export async function registerOpsPageRoutes(app: FastifyInstance, deps: OpsPageRouteDeps): Promise<void> {
  const sessions = deps.adminKey ? new AdminSessions(deps.adminKey) : undefined;

  async function judge(key: string): Promise<Verdict> {
    if (!deps.adminKey) return 'off';
    if (key && safeEqual(key, deps.adminKey)) return 'admin';
    if (key && (await deps.tenants.authenticate(key))) return 'tenant';
    return 'unknown';
  }

  const loggedIn = (req: FastifyRequest) => sessions?.verify(req.cookies[SESSION_COOKIE]) === true;

  const requireAdmin: preHandlerAsyncHookHandler = async (req) => {
    if (loggedIn(req)) return;
    const bearer = bearerToken(req.headers.authorization);
    if (!bearer) throw new SwitchyardError('unauthorized', 'log in at /admin with the admin key');
    const verdict = await judge(bearer);
    if (verdict === 'admin') return;
    if (verdict === 'unknown') throw new SwitchyardError('unauthorized', 'the key is not the admin key');
    throw new SwitchyardError('forbidden', REFUSED[verdict].message);
  };

  function login(req: FastifyRequest, reply: FastifyReply): FastifyReply {
    const { token, expiresAt } = (sessions as AdminSessions).issue();
    reply.setCookie(SESSION_COOKIE, token, {
      httpOnly: true,
      sameSite: 'strict',
      path: '/admin',
      secure: overHttps(req),
      maxAge: Math.floor((sessions as AdminSessions).ttlMs / 1000),
    });
    req.log.info({ expiresAt: new Date(expiresAt).toISOString() }, 'ops page login');
    if (wantsJson(req))
      return reply.send({ object: 'admin_session', expires_at: new Date(expiresAt).toISOString() });
    return reply.code(303).header('location', '/admin').send();
  }

  await app.register(async (scope) => {
    await scope.register(cookie);
    await scope.register(formbody);
    scope.addHook('onRequest', async (_req, reply) => {
      reply.headers(PAGE_HEADERS);
    });
    if (existsSync(join(deps.assetsDir, OPS_PAGE_SCRIPT))) {
      await scope.register(fastifyStatic, {
        root: deps.assetsDir,
        prefix: '/admin/assets/',
        decorateReply: false,
      });
    } else {
      app.log.warn(
        { assetsDir: deps.assetsDir },
        'the ops page is not built (pnpm build): /admin serves no script',
      );
    }

    scope.get('/admin', async (req, reply) =>
      reply.type('text/html; charset=utf-8').send(loggedIn(req) ? opsPage() : loginPage()),
    );

    scope.post('/admin/login', { config: { redis: true } }, async (req, reply) => {
      const verdict = await judge(keyFrom(req.body));
      if (verdict === 'admin') return login(req, reply);
      const { status, message } = REFUSED[verdict];
      req.log.warn({ verdict }, 'ops page login refused');
      if (wantsJson(req)) throw new SwitchyardError(status === 401 ? 'unauthorized' : 'forbidden', message);
      return reply.code(status).type('text/html; charset=utf-8').send(loginPage(message));
    });

    scope.post('/admin/logout', async (_req, reply) =>
      reply.clearCookie(SESSION_COOKIE, { path: '/admin' }).code(303).header('location', '/admin').send(),
    );

    // Redis-backed: 503 with Retry-After while Redis is down (redis-guard.ts).
    scope.get('/admin/api/overview', { preHandler: requireAdmin, config: { redis: true } }, async () =>
      deps.overview.read(),
    );
  });
}
