import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './support/stack.ts';
import { until } from './support/wait.ts';

// The ops page's login and its data endpoint, over real HTTP against a real API and Redis (no
// browser: test/e2e/ops-page.test.ts drives the page itself in Chromium).

let t: TestStack;
let tenantKey: string;

beforeAll(async () => {
  t = await startTestStack({ worker: false });
  tenantKey = (await t.tenant(['jobs:write', 'jobs:read', 'admin'])).key;
});
afterAll(async () => t?.close());

const COOKIE = 'sy_admin_session';

async function loginForm(key: string) {
  const res = await request(`${t.url}/admin/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ key }).toString(),
  });
  return { status: res.statusCode, headers: res.headers, html: await res.body.text() };
}

async function overview(headers: Record<string, string> = {}) {
  const res = await request(`${t.url}/admin/api/overview`, { headers });
  const text = await res.body.text();
  return { status: res.statusCode, body: JSON.parse(text) as Record<string, unknown> };
}

/** The session token the login's Set-Cookie carries, and the cookie's attributes. */
function sessionCookie(setCookie: string | string[] | undefined): { token: string; attributes: string } {
  const line = [setCookie ?? []].flat().find((c) => c.startsWith(`${COOKIE}=`)) ?? '';
  const [pair = '', ...attributes] = line.split(';').map((s) => s.trim());
  return { token: pair.slice(COOKIE.length + 1), attributes: attributes.join('; ') };
}

describe('ops page: logging in', () => {
  it('without a session /admin shows the login form, not the page, under a strict CSP', async () => {
    const res = await request(`${t.url}/admin`);
    const html = await res.body.text();
    expect(res.statusCode).toBe(200);
    expect(html).toContain('action="/admin/login"');
    expect(html).not.toContain('/admin/assets/main.js');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
  });

  it('the admin key logs in: an HttpOnly, SameSite=Strict cookie on /admin holding a signed token, not the key', async () => {
    const res = await loginForm(t.adminKey);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/admin');
    const { token, attributes } = sessionCookie(res.headers['set-cookie']);
    expect(token).toMatch(/^v1\.\d+\.[\w-]+\.[\w-]+$/);
    expect(token).not.toContain(t.adminKey);
    expect(attributes).toContain('HttpOnly');
    expect(attributes).toContain('SameSite=Strict');
    expect(attributes).toContain('Path=/admin');
    expect(attributes).not.toContain('Secure'); // plain http here

    const page = await request(`${t.url}/admin`, { headers: { cookie: `${COOKIE}=${token}` } });
    expect(await page.body.text()).toContain('<script type="module" src="/admin/assets/main.js">');
    const data = await overview({ cookie: `${COOKIE}=${token}` });
    expect(data.status).toBe(200);
    expect(data.body).toMatchObject({ object: 'ops_overview', lanes: { object: 'lanes' } });
  });

  it('behind a TLS-terminating proxy (X-Forwarded-Proto: https) the cookie is Secure', async () => {
    const res = await request(`${t.url}/admin/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https' },
      body: JSON.stringify({ key: t.adminKey }),
    });
    expect(res.statusCode).toBe(200);
    expect(sessionCookie(res.headers['set-cookie']).attributes).toContain('Secure');
  });

  it('a tenant API key (even one with the admin scope) is refused with 403 and says so on the form', async () => {
    const res = await loginForm(tenantKey);
    expect(res.status).toBe(403);
    expect(res.html).toContain('tenant API key');
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('a wrong key is refused with 401; JSON logins are refused as problem+json', async () => {
    const res = await loginForm('sy_not-a-key');
    expect(res.status).toBe(401);
    expect(res.html).toContain('not the admin key');
    const json = await request(`${t.url}/admin/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: tenantKey }),
    });
    expect(json.statusCode).toBe(403);
    expect(await json.body.json()).toMatchObject({ code: 'forbidden' });
  });

  it('the form parser and the cookie stay under /admin: a form body on /v1 is still 415', async () => {
    const res = await request(`${t.url}/v1/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenantKey}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'type=completion',
    });
    expect(res.statusCode).toBe(415);
    expect(await res.body.json()).toMatchObject({ code: 'unsupported_media_type' });
  });

  it('logging out clears the cookie', async () => {
    const res = await request(`${t.url}/admin/logout`, { method: 'POST' });
    expect(res.statusCode).toBe(303);
    const line = [res.headers['set-cookie'] ?? []].flat().join();
    expect(line).toContain(`${COOKIE}=;`);
    expect(line).toMatch(/Expires=Thu, 01 Jan 1970/);
  });
});

describe('ops page: its data endpoint', () => {
  it('refuses a request without a session: 401 problem+json', async () => {
    const res = await overview();
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'unauthorized' });
  });

  it('refuses a tampered session, one whose expiry was edited (later or earlier), and the raw admin key as a cookie', async () => {
    const { token } = sessionCookie((await loginForm(t.adminKey)).headers['set-cookie']);
    const [v, expires, nonce, sig = ''] = token.split('.');
    const tampered = [
      `${v}.${expires}.${nonce}.${sig.startsWith('A') ? 'B' : 'A'}${sig.slice(1)}`,
      `${v}.${Number(expires) + 86_400_000}.${nonce}.${sig}`,
      `${v}.${Date.now() - 1_000}.${nonce}.${sig}`,
      t.adminKey,
    ];
    // (A genuinely expired token is refused too: apps/api/src/ops-page/session.test.ts.)
    for (const bad of tampered) expect((await overview({ cookie: `${COOKIE}=${bad}` })).status).toBe(401);
  });

  it('has the lanes sample the API took on start, for the chart', async () => {
    const admin = { authorization: `Bearer ${t.adminKey}` };
    const history = await until('a lanes sample', async () => {
      const h = (await overview(admin)).body.history as { t: number; lanes: { lane: string }[] }[];
      return h.length ? h : undefined;
    });
    const first = history[0]?.t ?? 0;
    expect(first % 60_000).toBe(0); // one sample a minute, stamped with its minute
    expect(Date.now() - first).toBeLessThan(120_000);
    expect(history[0]?.lanes.map((l) => l.lane)).toEqual(['interactive', 'batch']);
  });

  it('takes the admin bearer key; refuses a tenant key with 403', async () => {
    expect((await overview({ authorization: `Bearer ${t.adminKey}` })).status).toBe(200);
    const tenant = await overview({ authorization: `Bearer ${tenantKey}` });
    expect(tenant.status).toBe(403);
    expect(tenant.body).toMatchObject({ code: 'forbidden' });
  });
});
