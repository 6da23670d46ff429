import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describeWith } from '@switchyard/test-kit/capability';
import { expect, it } from 'vitest';

// The alert rules checked and unit-tested by Prometheus's own promtool (Debian's `prometheus`
// package, which .ci/run installs): every rule parses, and each fires on the synthetic series of
// infra/prometheus/alerts.test.yml and stays quiet below its threshold or before its `for`.

const PROMTOOL = process.env.PROMTOOL_PATH ?? 'promtool';
const DIR = fileURLToPath(new URL('../../infra/prometheus/', import.meta.url));
const run = promisify(execFile);

const found = await run(PROMTOOL, ['--version']).then(
  () => true,
  () => false,
);
// Missing, it skips, and fails under CI unless SWITCHYARD_ALLOW_SKIP=promtool.
const promtool = { name: 'promtool', available: found, hint: `no ${PROMTOOL}: apt-get install prometheus` };

describeWith(promtool, 'alerts.yml, by promtool', () => {
  it('every rule parses', async () => {
    const { stdout } = await run(PROMTOOL, ['check', 'rules', 'alerts.yml'], { cwd: DIR });
    expect(stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('every alert fires on its test series, and only then', async () => {
    const { stdout } = await run(PROMTOOL, ['test', 'rules', 'alerts.test.yml'], { cwd: DIR });
    expect(stdout).toContain('SUCCESS');
  });
});
