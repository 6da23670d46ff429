import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';

const CLI_DIR = new URL('../../../apps/cli/', import.meta.url).pathname;
const BUNDLE = new URL('../../../scripts/bundle.mjs', import.meta.url).pathname;
/** The built CLI, as `pnpm switchyard` runs it. */
export const CLI = `${CLI_DIR}dist/main.js`;

/** Builds the CLI the way `pnpm build` does (tests run the built file, not the sources). */
export async function buildCli(): Promise<void> {
  await promisify(execFile)(process.execPath, [BUNDLE, 'src/main.ts', 'dist/main.js'], { cwd: CLI_DIR });
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to its end with `env` added (no terminal: stdin closed, output piped). */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawnCli(args, env);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts the CLI without waiting for it. */
export function spawnCli(args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, SWITCHYARD_URL: '', SWITCHYARD_API_KEY: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
