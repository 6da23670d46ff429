/**
 * Portkey's open-source AI gateway (`@portkey-ai/gateway`, a devDependency), the gateway users
 * compare Switchyard's interactive hop with: started as its own Node process on loopback, headless,
 * and routed to the bench's mock upstream per request (`x-portkey-provider: openai`,
 * `x-portkey-custom-host`).
 */
import { freePort } from '@switchyard/test-kit';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface Portkey {
  url: string;
  pid: number;
  version: string;
  /** Headers that route a chat completion through Portkey to `upstreamV1` (a `.../v1` base URL). */
  headers(upstreamV1: string): Record<string, string>;
  exited: Promise<number | string>;
  terminate(signal?: NodeJS.Signals): void;
}

/** Starts the gateway and waits until it answers. */
export async function startPortkey(): Promise<Portkey> {
  const require = createRequire(import.meta.url);
  const pkgJson = require.resolve('@portkey-ai/gateway/package.json');
  const { version } = require(pkgJson) as { version: string };
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [join(dirname(pkgJson), 'build/start-server.js'), `--port=${port}`, '--headless'],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NODE_ENV: 'production' } },
  );
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, sig) => resolve(code ?? sig ?? -1)),
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const up = await fetch(`${url}/`).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('Portkey gateway did not start within 30 s');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    pid: child.pid ?? 0,
    version,
    headers: (upstreamV1) => ({
      'content-type': 'application/json',
      authorization: 'Bearer sk-bench',
      'x-portkey-provider': 'openai',
      'x-portkey-custom-host': upstreamV1,
    }),
    exited,
    terminate: (signal = 'SIGTERM') => void child.kill(signal),
  };
}
