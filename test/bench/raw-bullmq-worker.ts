/**
 * The raw BullMQ baselines' worker, as its own process like Switchyard's: one BullMQ Worker whose
 * processor returns at once (or, with `--hold-ms`, after that long: jobs stay in flight), or, with
 * `--call URL`, the worker a team writes instead of Switchyard: it POSTs the job's `request` to
 * the URL with undici (keep-alive, a connection per slot) and returns the answer as the job's
 * return value. Prints `ready` once it fetches; SIGTERM closes it and exits 0.
 *
 *   node test/bench/raw-bullmq-worker.ts --url redis://127.0.0.1:6379 --prefix raw --queue q \
 *     --concurrency 32 [--hold-ms 0 | --call http://127.0.0.1:4010/v1/chat/completions]
 *
 * Started by raw-bullmq.ts; not a benchmark on its own.
 */
import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    prefix: { type: 'string' },
    queue: { type: 'string' },
    concurrency: { type: 'string' },
    'hold-ms': { type: 'string', default: '0' },
    call: { type: 'string' },
  },
});
const holdMs = Number(values['hold-ms']);
const concurrency = Number(values.concurrency);
const connection = new Redis(values.url ?? '', { maxRetriesPerRequest: null });
const agent = new Agent({ keepAliveTimeout: 10_000, connections: concurrency });
const call = async (job: Job<{ request: unknown }>) => {
  const res = await request(values.call ?? '', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(job.data.request),
    dispatcher: agent,
  });
  const answer = await res.body.json();
  if (res.statusCode !== 200) throw new Error(`upstream answered ${res.statusCode}`);
  return answer;
};
const noop = holdMs > 0 ? () => sleep(holdMs) : async () => undefined;
const worker = new Worker(values.queue ?? '', values.call ? call : noop, {
  connection,
  prefix: values.prefix,
  concurrency,
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
