import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

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
if (!found) console.warn(`alert rule tests: no ${PROMTOOL} (apt-get install prometheus)`);

describe.runIf(found || process.env.CI === 'true')('alerts.yml, by promtool', () => {
  it('promtool is installed (.ci/run installs the prometheus package)', () => {
    expect(found, `no ${PROMTOOL}: apt-get install prometheus`).toBe(true);
  });

  it('every rule parses', async () => {
    const { stdout } = await run(PROMTOOL, ['check', 'rules', 'alerts.yml'], { cwd: DIR });
    expect(stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('every alert fires on its test series, and only then', async () => {
    const { stdout } = await run(PROMTOOL, ['test', 'rules', 'alerts.test.yml'], { cwd: DIR });
    expect(stdout).toContain('SUCCESS');
  });
});
