/**
 * The raw BullMQ baseline's worker, as its own process like Switchyard's: one BullMQ Worker whose
 * processor returns at once (or, with `--hold-ms`, after that long: jobs stay in flight).
 * Prints `ready` once it fetches; SIGTERM closes it and exits 0.
 *
 *   node test/bench/raw-bullmq-worker.ts --url redis://127.0.0.1:6379 --prefix raw --queue q \
 *     --concurrency 32 [--hold-ms 0]
 *
 * Started by raw-bullmq.ts; not a benchmark on its own.
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    prefix: { type: 'string' },
    queue: { type: 'string' },
    concurrency: { type: 'string' },
    'hold-ms': { type: 'string', default: '0' },
  },
});
const holdMs = Number(values['hold-ms']);
const connection = new Redis(values.url ?? '', { maxRetriesPerRequest: null });
const worker = new Worker(values.queue ?? '', holdMs > 0 ? () => sleep(holdMs) : async () => undefined, {
  connection,
  prefix: values.prefix,
  concurrency: Number(values.concurrency),
});
worker.on('error', (err) => console.error(`raw worker: ${err.message}`));
await worker.waitUntilReady();
console.log('ready');
process.once('SIGTERM', () => {
  // force: in-flight held jobs are abandoned, as a killed worker's would be
  void worker
    .close(holdMs > 0)
    .then(() => connection.quit())
    .then(() => process.exit(0));
});
