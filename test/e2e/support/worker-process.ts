import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '@switchyard/config';

const WORKER_MAIN = new URL('../../../apps/worker/src/main.ts', import.meta.url).pathname;
const API_MAIN = new URL('../../../apps/api/src/main.ts', import.meta.url).pathname;

export interface AppProcess {
  child: ChildProcess;
  output: string[];
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  terminate(signal?: NodeJS.Signals): void;
}
export type WorkerProcess = AppProcess;
export interface ApiProcess extends AppProcess {
  /** Base URL the API listens on, e.g. http://127.0.0.1:41234. */
  url: string;
}

/** Writes a config file the way an operator would, for processes started by tests. */
export function writeConfigFile(config: Config): string {
  const path = join(mkdtempSync(join(tmpdir(), 'sy-cfg-')), 'switchyard.json');
  // redis.url or redis.cluster, as an operator writes it (the parsed config has the url default).
  const { url, ...onCluster } = config.redis;
  const redis = config.redis.cluster ? onCluster : { ...onCluster, url };
  writeFileSync(path, JSON.stringify({ ...config, redis }));
  return path;
}

/**
 * Starts an app's `main.ts` as its own process (Node strips the types) and waits until a line of
 * its log matches `ready`; resolves with that match.
 */
async function startAppProcess(
  name: string,
  main: string,
  configPath: string,
  args: string[],
  ready: RegExp,
  env: Record<string, string> = {},
): Promise<AppProcess & { match: RegExpMatchArray }> {
  const child = spawn(process.execPath, [main, ...args], {
    // info level at least, so the start-up line is printed whatever the config says
    env: {
      ...process.env,
      SWITCHYARD_CONFIG: configPath,
      REDIS_URL: '',
      PORT: '',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, sig) => resolve(code ?? sig ?? -1)),
  );
  const match = await new Promise<RegExpMatchArray>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output.push(chunk.toString());
      if (output.length > 200) output.shift(); // keep the tail for error messages
      const m = ready.exec(chunk.toString());
      if (m) resolve(m);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => output.push(c.toString()));
    void exited.then((code) => reject(new Error(`${name} exited early (${code}): ${output.join('')}`)));
    setTimeout(() => reject(new Error(`${name} did not start: ${output.join('')}`)), 20_000).unref();
  });
  return { child, output, exited, match, terminate: (signal = 'SIGTERM') => void child.kill(signal) };
}

/**
 * Starts `apps/worker` as its own process and waits until it serves; `env` is added to this
 * process's environment (e.g. NODE_EXTRA_CA_CERTS, which Node reads only at start-up).
 */
export async function startWorkerProcess(
  configPath: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<WorkerProcess> {
  return startAppProcess('worker', WORKER_MAIN, configPath, args, /"worker started"/, env);
}

const FAKETIME_LIBS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib'].map(
  (dir) => `${dir}/faketime/libfaketimeMT.so.1`,
);

/**
 * The environment that runs a process with its clock `offset` off (`+30s`, `-30s`): libfaketime
 * (Debian's faketime package) preloaded into the process itself, as the `faketime` command does;
 * that command forks, so a signal sent to it would not reach the process. Throws when
 * libfaketime is missing (.ci/run installs it).
 */
export function skewedClock(offset: string): Record<string, string> {
  const lib = FAKETIME_LIBS.find((p) => existsSync(p));
  if (!lib) throw new Error('libfaketime is not installed (apt-get install faketime)');
  return { LD_PRELOAD: lib, FAKETIME: offset };
}

/** Starts `apps/api` as its own process (give the config `api.port: 0`) and waits until it listens. */
export async function startApiProcess(configPath: string): Promise<ApiProcess> {
  const p = await startAppProcess('api', API_MAIN, configPath, [], /Server listening at (http:\/\/[^"\s]+)/);
  return { ...p, url: p.match[1] ?? '' };
}
