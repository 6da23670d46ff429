/**
 * The CLI's own cost (issue #19): `switchyard batch submit FILE --wait --out results.jsonl` for a
 * small and a ten-times-larger file, against an API and worker in this process. The CLI runs as
 * its own process (the built `apps/cli/dist/main.js`); its CPU time and peak RSS are read from
 * `process.resourceUsage()` at its exit. The target: memory flat with file size, CPU per line flat.
 *
 *   node test/bench/cli-batch.ts [--quick] [--json FILE]
 */
import { startMockLlm } from '@switchyard/mock-upstream';
import { startRedis } from '@switchyard/test-kit';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { buildCli, CLI } from '../e2e/support/cli.ts';
import { MOCK_MODEL, redisVersion, startBenchStack } from './harness.ts';
import { bytes, emit, int, machine, times, type ScenarioReport } from './report.ts';
import { flag, option } from './stats.ts';

const HOOK = new URL('./support/resource-usage.ts', import.meta.url).pathname;

interface Run {
  lines: number;
  seconds: number;
  cpuSeconds: number;
  cpuMicrosPerLine: number;
  maxRssBytes: number;
  resultLines: number;
}

async function runCli(dir: string, lines: number, env: Record<string, string>): Promise<Run> {
  const file = join(dir, `batch-${lines}.jsonl`);
  const body = Array.from({ length: lines }, (_, i) =>
    JSON.stringify({
      custom_id: `l${i}`,
      type: 'completion',
      request: { model: MOCK_MODEL, messages: [{ role: 'user', content: `line ${i}` }] },
    }),
  );
  await writeFile(file, body.join('\n') + '\n');
  const out = join(dir, `results-${lines}.jsonl`);
  const usageFile = join(dir, `usage-${lines}.json`);
  const started = performance.now();
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', HOOK, CLI, 'batch', 'submit', file, '--wait', '--out', out, '--interval', '500'],
      {
        env: { ...process.env, ...env, SWITCHYARD_USAGE_FILE: usageFile },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    child.on('close', resolve);
  });
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`the CLI exited with ${code}`);
  const usage = JSON.parse(await readFile(usageFile, 'utf8')) as NodeJS.ResourceUsage;
  const cpuSeconds = (usage.userCPUTime + usage.systemCPUTime) / 1e6;
  const resultLines = (await readFile(out, 'utf8')).split('\n').filter(Boolean).length;
  if (resultLines !== lines) throw new Error(`${resultLines} result lines for ${lines} submitted`);
  return {
    lines,
    seconds,
    cpuSeconds,
    cpuMicrosPerLine: (cpuSeconds * 1e6) / lines,
    maxRssBytes: usage.maxRSS * 1024,
    resultLines,
  };
}

export async function cliBatch(opts: { quick: boolean }): Promise<ScenarioReport> {
  const sizes = opts.quick ? [500, 5_000] : [5_000, 50_000];
  await buildCli();
  const redis = await startRedis({ dedicated: true });
  const probe = new Redis(redis.url);
  const version = await redisVersion(probe);
  await probe.quit();
  const mock = await startMockLlm();
  const bench = await startBenchStack({ redis, mock, worker: true });
  const dir = await mkdtemp(join(tmpdir(), 'sy-bench-cli-'));
  const runs: Run[] = [];
  try {
    const env = { SWITCHYARD_URL: bench.url, SWITCHYARD_API_KEY: bench.key };
    for (const n of sizes) runs.push(await runCli(dir, n, env));
  } finally {
    await bench.close();
    await mock.close();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const [small, large] = runs as [Run, Run];
  const rssRatio = large.maxRssBytes / small.maxRssBytes;
  const cpuRatio = large.cpuMicrosPerLine / small.cpuMicrosPerLine;
  return {
    id: 'cli-batch',
    title: 'CLI: batch submit --wait --out, small vs 10× file',
    command: 'node test/bench/cli-batch.ts',
    setup:
      'The built CLI as its own process against an API and worker in the bench process (mock model, no latency); ' +
      'CPU and peak RSS of the CLI process only, from process.resourceUsage() at its exit.',
    columns: ['lines', 'wall', 'jobs/s end to end', 'CLI CPU', 'CLI CPU per line', 'CLI peak RSS'],
    rows: runs.map((r) => [
      int(r.lines),
      `${r.seconds.toFixed(1)} s`,
      int(r.lines / r.seconds),
      `${r.cpuSeconds.toFixed(2)} s`,
      `${r.cpuMicrosPerLine.toFixed(0)} µs`,
      bytes(r.maxRssBytes),
    ]),
    targets: [
      {
        what: 'CLI peak RSS, 10× file vs 1×',
        target: '≤ 1.25×',
        actual: times(rssRatio),
        met: rssRatio <= 1.25,
      },
      {
        what: 'CLI CPU per line, 10× file vs 1×',
        target: '≤ 1.5×',
        actual: times(cpuRatio),
        met: cpuRatio <= 1.5,
      },
    ],
    quick: opts.quick,
    machine: machine(version),
    raw: runs,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  emit(await cliBatch({ quick: flag('quick') }), option('json'));
}
