import type { BatchResultLine } from '@switchyard/contracts';
import { jobKeys } from '@switchyard/jobs';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, CLI, runCli, spawnCli } from './support/cli.ts';
import { MOCK_MODEL, startTestStack, type TestStack } from './support/stack.ts';
import { until } from './support/wait.ts';

const ask = (content: string) => ({ model: MOCK_MODEL, messages: [{ role: 'user', content }] });
const jobLine = (id: string) => JSON.stringify({ custom_id: id, type: 'completion', request: ask(id) });
const openAiLine = (id: string) =>
  JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/chat/completions', body: ask(id) });

let dir: string;
async function file(name: string, lines: string[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, lines.join('\n') + '\n');
  return path;
}
const resultsIn = async (path: string) =>
  (await readFile(path, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as BatchResultLine);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sy-cli-'));
  await buildCli();
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('switchyard CLI against a real stack', () => {
  let t: TestStack;
  let env: Record<string, string>;

  beforeAll(async () => {
    t = await startTestStack();
    const { key } = await t.tenant();
    env = { SWITCHYARD_URL: t.url, SWITCHYARD_API_KEY: key, SWITCHYARD_STATUS_INTERVAL_MS: '200' };
  });
  afterAll(async () => t?.close());

  it('every command answers --help with exit 0', async () => {
    for (const args of [
      [],
      ['batch'],
      ['batch', 'submit'],
      ['batch', 'watch'],
      ['batch', 'results'],
      ['jobs', 'get'],
      ['jobs', 'cancel'],
      ['usage'],
      ['pool'],
      ['admin', 'tenants', 'create'],
      ['admin', 'keys', 'create'],
    ]) {
      const r = await runCli([...args, '--help']);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toContain('Usage: switchyard');
    }
  });

  it('batch submit --wait --out: Switchyard and OpenAI lines run, a bad line is reported by number, every result is written', async () => {
    const path = await file('mixed.jsonl', [jobLine('a'), openAiLine('b'), '{not json', jobLine('c')]);
    const out = join(dir, 'mixed-results.jsonl');
    const r = await runCli(['batch', 'submit', path, '--wait', '--out', out], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^line 3: invalid_json — \(root\): Expected property name/m);
    expect(r.stdout).toMatch(/^batch \S+: 3 accepted, 1 rejected$/m);
    expect(r.stdout).toMatch(/completed: 3 succeeded, 0 failed, 0 canceled, 1 rejected; cost \$0\.\d{6}$/m);
    // Not a terminal: plain status lines, no bar.
    expect(r.stderr).toMatch(/batch \S+: \d+\/3 done, [\d.]+ jobs\/s, ETA \S+, 0 failed, \$[\d.]+/);
    expect(r.stderr).not.toContain('█');
    const results = await resultsIn(out);
    expect(results.map((l) => [l.custom_id, l.status])).toEqual([
      ['a', 'succeeded'],
      ['b', 'succeeded'],
      ['c', 'succeeded'],
    ]);
  });

  it('--json prints the finished batch as one JSON document', async () => {
    const path = await file('json.jsonl', [jobLine('j1'), jobLine('j2')]);
    const r = await runCli(['--json', 'batch', 'submit', path, '--wait'], env);
    expect(r.code, r.stderr).toBe(0);
    const batch = JSON.parse(r.stdout) as { object: string; counts: { succeeded: number } };
    expect([batch.object, batch.counts.succeeded]).toEqual(['batch', 2]);
  });

  it('shows the progress bar on a terminal and ends with the summary', async () => {
    const lines = Array.from({ length: 300 }, (_, i) => jobLine(`tty${i}`));
    const path = await file('tty.jsonl', lines);
    const command = [process.execPath, CLI, 'batch', 'submit', path, '--wait', '--interval', '100'].join(' ');
    const { stdout } = await promisify(execFile)('script', ['-qfec', command, '/dev/null'], {
      env: { ...process.env, ...env, COLUMNS: '120' },
    });
    expect(stdout).toMatch(/[█░]+ \d+\/300 \| [\d.]+ jobs\/s \| ETA \S+ \| 0 failed \| \$[\d.]+/);
    expect(stdout).toMatch(/[█]+ 300\/300 \|/);
    expect(stdout).toMatch(/completed: 300 succeeded, 0 failed/);
  });

  it('batch results resumes a partial file without writing a line twice', async () => {
    const path = await file('resume.jsonl', ['r1', 'r2', 'r3', 'r4'].map(jobLine));
    const first = await runCli(['--json', 'batch', 'submit', path, '--wait'], env);
    const id = (JSON.parse(first.stdout) as { id: string }).id;
    const full = await runCli(['batch', 'results', id], env);
    const all = full.stdout.split('\n').filter(Boolean);
    const out = join(dir, 'resume-results.jsonl');
    // A previous run wrote two lines and crashed in the middle of the third.
    await writeFile(out, `${all[0]}\n${all[1]}\n${(all[2] ?? '').slice(0, 10)}`);
    const r = await runCli(['batch', 'results', id, '--out', out], env);
    expect(r.code, r.stderr).toBe(0);
    expect((await readFile(out, 'utf8')).split('\n').filter(Boolean)).toEqual(all);
  });

  it('jobs get, usage, and bad input with a one-line message and exit 1', async () => {
    const path = await file('one.jsonl', [jobLine('u1')]);
    const sub = await runCli(
      ['--json', 'batch', 'submit', path, '--wait', '--out', join(dir, 'one-out.jsonl')],
      env,
    );
    expect(sub.code, sub.stderr).toBe(0);
    const [line] = await resultsIn(join(dir, 'one-out.jsonl'));
    const job = await runCli(['jobs', 'get', line?.job_id ?? ''], env);
    expect(job.stdout).toMatch(new RegExp(`^${line?.job_id}  completion  succeeded  attempts 1  \\$`));
    const usage = await runCli(['usage', '--group-by', 'outcome'], env);
    expect(usage.code).toBe(0);
    expect(usage.stdout).toMatch(/^OUTCOME\s+ATTEMPTS\s+RETRIES/);
    expect(usage.stdout).toMatch(/retry share \d+\.\d%$/m);
    const missing = await runCli(['jobs', 'get', 'job_nope'], env);
    expect([missing.code, missing.stderr]).toEqual([1, 'switchyard: not_found: no job job_nope\n']);
    const badDay = await runCli(['usage', '--from', 'monday'], env);
    expect([badDay.code, badDay.stderr]).toEqual([1, 'switchyard: --from must be a date YYYY-MM-DD\n']);
    const noKey = await runCli(['usage'], { SWITCHYARD_URL: t.url });
    expect([noKey.code, noKey.stderr]).toEqual([
      1,
      'switchyard: no API key: set SWITCHYARD_API_KEY or pass --key\n',
    ]);
    const noFile = await runCli(['batch', 'submit', join(dir, 'absent.jsonl')], env);
    expect(noFile.stderr).toBe(`switchyard: no such file: ${join(dir, 'absent.jsonl')}\n`);
  });

  it('admin: creates a tenant and a key; pool prints the proxy table', async () => {
    const adminEnv = { ...env, SWITCHYARD_API_KEY: t.adminKey };
    const tenant = await runCli(
      ['--json', 'admin', 'tenants', 'create', 'cli tenant', '--id', 'cli-tenant'],
      adminEnv,
    );
    expect(JSON.parse(tenant.stdout)).toMatchObject({ id: 'cli-tenant', name: 'cli tenant' });
    const key = await runCli(['admin', 'keys', 'create', 'cli-tenant'], adminEnv);
    expect(key.stdout).toMatch(/^key \S+ for cli-tenant: sy_\S+$/m);
    const pool = await runCli(['pool'], adminEnv);
    expect(pool.stdout).toMatch(/^0 proxies: /);
  });

  it('a server that cannot be reached is exit 2 with one line, after the retries', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const r = await runCli(['usage'], { ...env, SWITCHYARD_URL: `http://127.0.0.1:${port}` });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `switchyard: network_error: fetch failed (connect ECONNREFUSED 127.0.0.1:${port})\n`,
    );
  });
});

describe('switchyard CLI: what is queued (no worker, so batches stay queued)', () => {
  let t: TestStack;
  let env: Record<string, string>;
  beforeAll(async () => {
    t = await startTestStack({ worker: false });
    const { key } = await t.tenant();
    env = { SWITCHYARD_URL: t.url, SWITCHYARD_API_KEY: key };
  });
  afterAll(async () => t?.close());

  async function queued(): Promise<number> {
    const redis = new Redis(t.redis.url);
    const queue = new Queue(jobKeys(t.config.redis.prefix).queueName('batch'), {
      connection: redis,
      prefix: t.config.redis.prefix,
    });
    const counts = await queue.getJobCounts('wait', 'prioritized', 'delayed', 'active');
    await queue.close();
    await redis.quit();
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }

  it('--strict refuses a file with a bad line before anything is sent', async () => {
    const path = await file('strict.jsonl', [jobLine('s1'), '[1,2]', jobLine('s3')]);
    const before = await queued();
    const r = await runCli(['batch', 'submit', path, '--strict'], env);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('switchyard: --strict: nothing sent; line 2: not a JSON object');
    expect(r.stdout).toBe('');
    expect(await queued()).toBe(before);
  });

  it('killed mid-upload and run again, the same command submits every line exactly once', async () => {
    const n = 20_000;
    const path = await file(
      'big.jsonl',
      Array.from({ length: n }, (_, i) => jobLine(`big${i}`)),
    );
    const child = spawnCli(['batch', 'submit', path], env);
    await until('the first lines queued', async () => (await queued()) > 0, 30_000, 20);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('close', resolve));
    const partial = await queued();
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(n);
    const again = await runCli(['--json', 'batch', 'submit', path], env);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ counts: { total: n, accepted: n, rejected: 0 } });
    expect(await queued()).toBe(n);
    const third = await runCli(['--json', 'batch', 'submit', path], env);
    expect(JSON.parse(third.stdout).id).toBe(JSON.parse(again.stdout).id);
    expect(await queued()).toBe(n);
  });

  it('Ctrl-C while watching leaves the batch running and prints the command that resumes watching', async () => {
    const path = await file('watch.jsonl', [jobLine('w1')]);
    const child = spawnCli(['batch', 'submit', path, '--wait'], env);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    await until('the batch accepted', () => /^batch \S+: 1 accepted/m.test(stdout), 15_000);
    const id = /^batch (\S+):/m.exec(stdout)?.[1];
    child.kill('SIGINT');
    const code = await new Promise((resolve) => child.once('close', resolve));
    expect(code).toBe(130);
    expect(stderr).toContain(`the batch keeps running; watch it again with: switchyard batch watch ${id}`);
    expect(await queued()).toBeGreaterThan(0);
  });
});
