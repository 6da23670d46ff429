// Smoke test of the built embedded default (what `pnpm start` runs): starts
// apps/standalone/dist/main.js with a throwaway data dir, submits a demo job with the printed key,
// and expects it to succeed. Run after `pnpm build`; CI does.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dataDir = mkdtempSync(join(tmpdir(), 'sy-smoke-'));
const port = await new Promise((resolve) => {
  const srv = createServer().listen(0, '127.0.0.1', () => {
    const { port: p } = srv.address();
    srv.close(() => resolve(String(p)));
  });
});
const child = spawn(process.execPath, ['apps/standalone/dist/main.js'], {
  env: { ...process.env, PORT: port, LOG_LEVEL: 'warn', SWITCHYARD_DATA_DIR: dataDir },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let out = '';
child.stdout.on('data', (c) => (out += c));

const deadline = Date.now() + 30_000;
while (!out.includes('Try it:')) {
  if (Date.now() > deadline || child.exitCode !== null) {
    console.error(`smoke: the embedded default did not start\n${out}`);
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 100));
}
const { apiKey, adminKey } = JSON.parse(readFileSync(join(dataDir, 'standalone.json'), 'utf8'));
const res = await fetch(`http://127.0.0.1:${port}/v1/jobs`, {
  method: 'POST',
  headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', prefer: 'wait=10' },
  body: JSON.stringify({
    type: 'completion',
    lane: 'interactive',
    request: { model: 'switchyard-demo', messages: [{ role: 'user', content: 'smoke test' }] },
  }),
});
const job = await res.json();
const opsPage = await checkOpsPage(`http://127.0.0.1:${port}`, adminKey);
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
if (res.status !== 200 || job.status !== 'succeeded') {
  console.error('smoke: the demo job did not succeed', res.status, job);
  process.exit(1);
}
if (opsPage) {
  console.error(`smoke: the ops page at /admin ${opsPage}`);
  process.exit(1);
}
console.log(`smoke: pnpm start's bundle ran a demo job to succeeded (cost ${job.cost.usd} USD)`);

/** The bundle serves the ops page: login with the admin key, its built script, its data. */
async function checkOpsPage(base, key) {
  const login = await fetch(`${base}/admin/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key }),
  });
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
  if (login.status !== 200 || !cookie) return `refused the admin key (${login.status})`;
  const script = await fetch(`${base}/admin/assets/main.js`);
  if (script.status !== 200 || !(script.headers.get('content-type') ?? '').includes('javascript'))
    return `did not serve its script (${script.status})`;
  const data = await fetch(`${base}/admin/api/overview`, { headers: { cookie } });
  const overview = await data.json();
  if (data.status !== 200 || overview.object !== 'ops_overview')
    return `did not answer its data (${data.status})`;
  return undefined;
}
