/**
 * The raw BullMQ baselines, as the benchmark programs drive them: plain `Queue.addBulk` (default
 * job options) and a Worker in its own process (raw-bullmq-worker.ts): a no-op one (the floor), or
 * the hand-written one that calls the upstream (what users would write instead of Switchyard), on
 * the same Redis as the Switchyard run it is compared with.
 */
import { BATCH_CHUNK_SIZE } from '@switchyard/batches';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { spawn } from 'node:child_process';

export const RAW_PREFIX = 'rawbench';

export interface RawWorker {
  pid: number;
  exited: Promise<number | string>;
  terminate(signal?: NodeJS.Signals): void;
}

/** Starts raw-bullmq-worker.ts and waits until it fetches jobs. */
export async function startRawWorker(opts: {
  url: string;
  queue: string;
  concurrency: number;
  holdMs?: number;
  /** The hand-written worker: POST each job's `request` here and return the answer. */
  call?: string;
}): Promise<RawWorker> {
  const script = new URL('raw-bullmq-worker.ts', import.meta.url).pathname;
  const args = ['--url', opts.url, '--prefix', RAW_PREFIX, '--queue', opts.queue];
  args.push('--concurrency', String(opts.concurrency), '--hold-ms', String(opts.holdMs ?? 0));
  if (opts.call) args.push('--call', opts.call);
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, sig) => resolve(code ?? sig ?? -1)),
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => c.toString().includes('ready') && resolve());
    void exited.then((code) => reject(new Error(`raw BullMQ worker exited early (${code})`)));
  });
  return { pid: child.pid ?? 0, exited, terminate: (signal = 'SIGTERM') => void child.kill(signal) };
}

/** A producer for the raw queue; `close()` when done. */
export function rawQueue(url: string, name: string) {
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection, prefix: RAW_PREFIX });
  return {
    queue,
    /** `n` jobs of `data`, added with addBulk in Switchyard's own batch chunk size. */
    async add(n: number, data: (i: number) => unknown): Promise<void> {
      for (let i = 0; i < n; i += BATCH_CHUNK_SIZE) {
        const jobs = Array.from({ length: Math.min(BATCH_CHUNK_SIZE, n - i) }, (_, j) => ({
          name: 'completion',
          data: data(i + j),
        }));
        await queue.addBulk(jobs);
      }
    },
    async count(state: 'completed' | 'active' | 'wait'): Promise<number> {
      return (await queue.getJobCounts(state))[state] ?? 0;
    },
    async close() {
      await queue.close();
      await connection.quit();
    },
  };
}
