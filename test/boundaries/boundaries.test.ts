import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const fixture = join(import.meta.dirname, 'fixture');
// The CLI `pnpm lint` runs, under this test's own Node (dependency-cruiser needs Node >= 22).
const depcruise = join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruiser.mjs');
const scripts = (
  JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
).scripts;

/** Runs the boundary check as `pnpm lint` does, in `cwd`, on `dirs`. */
async function check(cwd: string, dirs: string[]): Promise<{ code: number; output: string }> {
  const args = [depcruise, ...dirs, '--config', join(root, '.dependency-cruiser.mjs')];
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, args, { cwd });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const { code, stdout, stderr } = err as { code: number; stdout: string; stderr: string };
    return { code, output: stdout + stderr };
  }
}

describe('package boundaries (dependency-cruiser, part of pnpm lint)', () => {
  it('pnpm lint runs the boundary check on the whole tree', () => {
    expect(scripts.lint).toContain('pnpm lint:boundaries');
    expect(scripts['lint:boundaries']).toBe(
      'depcruise apps packages test scripts --config .dependency-cruiser.mjs',
    );
  });

  it('fails on an import cycle, an upward import, contracts importing the repo, a deep import and the client reaching past contracts', async () => {
    const { code, output } = await check(fixture, ['packages', 'apps']);
    expect(code).not.toBe(0);
    expect(output).toMatch(/error no-circular: packages\/a\/src\/a\.ts →\s+packages\/b\/src\/index\.ts/);
    expect(output).toContain('error packages-not-to-apps: packages/b/src/up.ts → apps/api/src/index.ts');
    expect(output).toContain(
      'error contracts-imports-nothing-from-the-repo: packages/contracts/src/index.ts → packages/a/src/index.ts',
    );
    expect(output).toContain(
      'error packages-through-their-entry: apps/api/src/deep.ts → packages/a/src/a.ts',
    );
    expect(output).toContain(
      'error client-uses-contracts-only: packages/client/src/index.ts → packages/b/src/index.ts',
    );
    expect(output).not.toContain('packages/client/src/index.ts → packages/contracts/src/index.ts');
  });

  it('passes on the repository itself', async () => {
    const { code, output } = await check(root, ['apps', 'packages', 'test', 'scripts']);
    expect(output).toContain('no dependency violations found');
    expect(code).toBe(0);
  });
});
