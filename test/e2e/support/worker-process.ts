import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '@switchyard/config';

const WORKER_MAIN = new URL('../../../apps/worker/src/main.ts', import.meta.url).pathname;

export interface WorkerProcess {
  child: ChildProcess;
  output: string[];
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  terminate(signal?: NodeJS.Signals): void;
}

/** Writes a config file the way an operator would, for processes started by tests. */
export function writeConfigFile(config: Config): string {
  const path = join(mkdtempSync(join(tmpdir(), 'sy-cfg-')), 'switchyard.json');
  writeFileSync(path, JSON.stringify(config));
  return path;
}

/** Starts `apps/worker` as its own process (Node strips the types) and waits until it serves. */
export async function startWorkerProcess(configPath: string, args: string[] = []): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [WORKER_MAIN, ...args], {
    // info level at least, so the start-up line below is printed whatever the config says
    env: { ...process.env, SWITCHYARD_CONFIG: configPath, REDIS_URL: '', PORT: '', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, sig) => resolve(code ?? sig ?? -1)),
  );
  const started = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output.push(chunk.toString());
      if (output.length > 200) output.shift(); // keep the tail for error messages
      if (chunk.toString().includes('"worker started"')) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => output.push(c.toString()));
    void exited.then((code) => reject(new Error(`worker exited early (${code}): ${output.join('')}`)));
    setTimeout(() => reject(new Error(`worker did not start: ${output.join('')}`)), 20_000).unref();
  });
  await started;
  return { child, output, exited, terminate: (signal = 'SIGTERM') => void child.kill(signal) };
}
