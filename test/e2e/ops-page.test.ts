import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { describeWith } from '@switchyard/test-kit/capability';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Api, completion } from './support/api.ts';
import { MOCK_MODEL, MOCK_PRICE, startTestStack, type TestStack } from './support/stack.ts';
import { startMockLlm, type MockLlm } from '@switchyard/mock-upstream';

// The ops page in a real headless Chromium (Debian's `chromium`, which .ci/run installs) against
// a real stack: API + worker, Redis, a slow mock upstream so jobs stay visible for a while.

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCREENSHOT = `${ROOT}artifacts/ops-page.png`;
/** Every upstream call takes this long, and a worker runs 2 interactive jobs at once. */
const LATENCY_MS = 1_500;
const UI_TIMEOUT = { timeout: 20_000, interval: 200 };

// Missing, the browser test skips, and fails under CI unless SWITCHYARD_ALLOW_SKIP=chromium.
const chromiumCap = {
  name: 'chromium',
  available: hasChromium,
  hint: `no Chromium at ${CHROMIUM}: set CHROMIUM_PATH or apt-get install chromium`,
};

let t: TestStack;
let mock: MockLlm;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

const lane = (name: string, field: string) => page.locator(`[data-lane="${name}"] [data-field="${field}"]`);
const text = async (selector: string) => ((await page.locator(selector).textContent()) ?? '').trim();

async function logIn(key: string): Promise<number> {
  await page.goto(`${t.url}/admin`);
  await page.fill('#key', key);
  const [res] = await Promise.all([
    page.waitForResponse('**/admin/login'),
    page.click('button[type=submit]'),
  ]);
  return res.status();
}

describeWith(chromiumCap, 'the ops page in a headless browser', () => {
  beforeAll(async () => {
    // What `pnpm build` does for the page when the API runs from source.
    const bundle = ['scripts/browser-bundle.mjs', 'packages/ops-page', 'packages/ops-page/dist'];
    execFileSync(process.execPath, bundle, { cwd: ROOT });
    mock = await startMockLlm({ latencyMs: LATENCY_MS });
    const broken = {
      baseUrl: `${mock.url}/v1`,
      upstreamModel: 'no-such-model',
      price: MOCK_PRICE,
      timeoutMs: 5_000,
    };
    t = await startTestStack({
      mock,
      config: { worker: { concurrency: { interactive: 2, batch: 4 } }, models: { broken } },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    page.on('pageerror', (err) => pageErrors.push(err.message));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await mock?.close();
  });

  it('refuses a tenant key on the login form and says why', async () => {
    const { key } = await t.tenant();
    expect(await logIn(key)).toBe(403);
    expect(await text('[role=alert]')).toContain('tenant API key');
    expect(await page.locator('#app').count()).toBe(0);
  });

  it('logs in with the admin key and shows the lanes, then their numbers move as jobs run and finish', async () => {
    pageErrors.length = 0; // the refused login's 403 is logged as a failed load: expected
    expect(await logIn(t.adminKey)).toBe(303);
    await expect.poll(() => text('#status'), UI_TIMEOUT).toMatch(/^Updated/);
    expect(await lane('interactive', 'ready').textContent()).toBe('0');
    expect(await lane('interactive', 'active').textContent()).toBe('0');

    const { api, tenantId } = await t.tenant();
    for (let i = 0; i < 12; i++)
      expect((await api.post('/v1/jobs', completion(`slow ${i}`))).status).toBe(202);

    // 12 jobs, 2 at a time, 1.5 s each (9 s): the page shows 2 running and the rest waiting...
    const running = async () => [
      await lane('interactive', 'active').textContent(),
      await lane('interactive', 'ready').textContent(),
    ];
    await expect.poll(running, UI_TIMEOUT).toEqual(['2', expect.stringMatching(/^([1-9]|10)$/)]);
    // ... and then nothing left, with what the tenant spent today.
    await expect.poll(() => lane('interactive', 'ready').textContent(), UI_TIMEOUT).toBe('0');
    await expect.poll(() => lane('interactive', 'active').textContent(), UI_TIMEOUT).toBe('0');
    await expect
      .poll(() => text(`[data-tenant="${tenantId}"] [data-field="spend"]`), UI_TIMEOUT)
      .not.toBe('$0');
    expect(await text(`[data-tenant="${tenantId}"] [data-field="models"]`)).toContain(MOCK_MODEL);
    // The worker's heartbeat, and the hour's charts drawn (queue states and jobs finished a minute).
    expect(await page.locator('#workers tr[data-worker]').count()).toBe(1);
    expect(await lane('interactive', 'workers').textContent()).toBe('1 (2 slots)');
    expect(await page.locator('#queue-chart canvas').count()).toBe(1);
    expect(await page.locator('#throughput-chart canvas').count()).toBe(1);
  });

  it('opens the pool table and shows a proxy added through the admin API', async () => {
    const added = await t.admin.post('/v1/admin/proxies', {
      id: 'px-page-1',
      url: 'http://127.0.0.1:9',
      maxConcurrency: 4,
    });
    expect(added.status).toBe(201);
    await expect.poll(() => text('#pool summary'), UI_TIMEOUT).toContain('1 proxy (1 available');
    expect(await page.locator('#pool-table').isVisible()).toBe(false);
    await page.click('#pool summary');
    const row = page.locator('[data-proxy="px-page-1"]');
    await row.waitFor({ state: 'visible' });
    expect(await row.locator('[data-field="state"]').textContent()).toBe('available');
    expect(await row.locator('[data-field="in-flight"]').textContent()).toBe('0 / 4');
    // The table stays open across refreshes.
    await page.waitForTimeout(2_500);
    expect(await page.locator('#pool-table').isVisible()).toBe(true);
  });

  it('groups a failed job under its error code and follows a batch to completion', async () => {
    const { api } = await t.tenant();
    const failed = await api.post<{ id: string }>(
      '/v1/jobs',
      completion('fails', { request: { model: 'broken', messages: [{ role: 'user', content: 'x' }] } }),
    );
    expect(failed.status).toBe(202);
    const lines = [0, 1, 2].map((i) => ({
      custom_id: `doc-${i}`,
      type: 'completion',
      request: completion(`b${i}`).request,
    }));
    const batch = await api.post<{ id: string }>('/v1/batches', lines);
    expect(batch.status).toBe(202);

    const failure = page.locator(`#failures tr:has-text("${failed.body.id}")`);
    await failure.waitFor({ state: 'visible', timeout: 20_000 });
    const job = await api.get<{ error: { code: string } }>(`/v1/jobs/${failed.body.id}`);
    expect(await failure.getAttribute('data-code')).toBe(job.body.error.code);
    const status = page.locator(`[data-batch="${batch.body.id}"] [data-field="status"]`);
    await expect.poll(() => status.textContent(), UI_TIMEOUT).toBe('completed');
    expect(await text(`[data-batch="${batch.body.id}"] [data-field="progress"]`)).toBe('3 / 3');
  });

  it('saves a screenshot of the page with work in flight, and the page logged no error (CSP included)', async () => {
    const tenant = await t.admin.post<{ id: string }>('/v1/admin/tenants', {
      name: 'acme',
      daily_budget_usd: 0.001,
    });
    const key = await t.admin.post<{ key: string }>(`/v1/admin/tenants/${tenant.body.id}/keys`, {
      scopes: ['jobs:write', 'jobs:read'],
    });
    const api = new Api(t.url, key.body.key);
    for (let i = 0; i < 6; i++)
      expect((await api.post('/v1/jobs', completion(`shot ${i}`))).status).toBe(202);
    await expect.poll(() => lane('interactive', 'active').textContent(), UI_TIMEOUT).toBe('2');
    const budget = page.locator(`[data-tenant="${tenant.body.id}"] [data-field="budget"]`);
    await expect.poll(() => budget.textContent(), UI_TIMEOUT).toContain('$0.001');
    expect(await budget.locator('meter').getAttribute('max')).toBe('0.001');
    mkdirSync(`${ROOT}artifacts`, { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
    expect(pageErrors).toEqual([]);
  });

  it('logging out returns to the login form', async () => {
    await page.click('header button[type=submit]');
    await page.locator('#key').waitFor({ state: 'visible' });
    const res = await page.request.get(`${t.url}/admin/api/overview`);
    expect(res.status()).toBe(401);
  });
});
