import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '@switchyard/test-kit/capability';
import { startTestStack, type TestStack } from './support/stack.ts';
import { startWorkerProcess, writeConfigFile, type WorkerProcess } from './support/worker-process.ts';

let t: TestStack;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  t = await startTestStack({ worker: false });
});
afterAll(async () => {
  for (const w of workers) w.terminate('SIGKILL');
  await t?.close();
});

/** The nice value of every thread of a process, from /proc (field 19 of each task's stat). */
function threadNices(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

async function started(args: string[], batchNice?: number): Promise<WorkerProcess> {
  const worker = batchNice === undefined ? t.config.worker : { ...t.config.worker, batchNice };
  const w = await startWorkerProcess(writeConfigFile({ ...t.config, worker }), args);
  workers.push(w);
  return w;
}

/** Per-thread nice values are read from Linux's /proc. */
const procThreads = {
  name: 'proc-threads',
  available: existsSync('/proc/self/task'),
  hint: 'a Linux /proc',
};

describeWith(procThreads, 'a worker serving only the batch lane yields the CPU', () => {
  it('runs every thread at nice 10 by default, and says so in its log', async () => {
    const w = await started(['--lanes', 'batch']);
    const nices = threadNices(w.child.pid ?? 0);
    expect(nices.length).toBeGreaterThan(1);
    expect(new Set(nices)).toEqual(new Set([10]));
    expect(w.output.join('')).toContain('CPU priority lowered');
  });

  it('leaves a worker that serves the interactive lane, alone or with batch, at nice 0', async () => {
    for (const args of [['--lanes', 'interactive'], ['--lanes', 'interactive,batch'], []]) {
      const w = await started(args);
      expect(new Set(threadNices(w.child.pid ?? 0))).toEqual(new Set([0]));
    }
  });

  it('runs at the configured worker.batchNice, and leaves the process alone with 0', async () => {
    const five = await started(['--lanes', 'batch'], 5);
    expect(new Set(threadNices(five.child.pid ?? 0))).toEqual(new Set([5]));
    const zero = await started(['--lanes', 'batch'], 0);
    expect(new Set(threadNices(zero.child.pid ?? 0))).toEqual(new Set([0]));
  });
});
