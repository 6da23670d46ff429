import { isBatchFinished, type BatchCreated, type BatchView } from '@switchyard/contracts';
import { Command, Option } from 'commander';
import { scanBatchFile, withLane, type FileScan } from '../batch-file.ts';
import { contextOf, positiveInt, type Context } from '../context.ts';
import { CliInputError, EXIT } from '../errors.ts';
import { batchProgress, describeBatch } from '../progress.ts';
import { downloadResults } from './batch-results.ts';

/** Rejected lines printed one by one; the rest are counted. */
const LINES_SHOWN = 20;

let interruptHint: string | undefined;

/**
 * Ctrl-C: stop what the CLI is doing (the batch itself keeps running) and say how to resume; the
 * hint is the one of the step in progress (uploading, then watching).
 */
function onInterrupt(ctx: Context, hint: string): void {
  if (interruptHint === undefined) {
    process.once('SIGINT', () => {
      ctx.status(`\ninterrupted: ${interruptHint ?? ''}`);
      process.exit(EXIT.interrupted);
    });
  }
  interruptHint = hint;
}

/** Follows a batch until it finishes (completed, cancelled...), with a progress bar or status lines. */
async function watch(ctx: Context, id: string, intervalMs: number): Promise<BatchView> {
  onInterrupt(ctx, `the batch keeps running; watch it again with: switchyard batch watch ${id}`);
  const progress = batchProgress(ctx, Number(process.env.SWITCHYARD_STATUS_INTERVAL_MS ?? 5_000));
  try {
    return await ctx.client.batches.wait(id, { intervalMs, onProgress: (b) => progress.update(b) });
  } finally {
    progress.stop();
  }
}

function reportRejections(ctx: Context, batch: BatchCreated): void {
  for (const r of batch.rejected_lines.slice(0, LINES_SHOWN)) {
    const why = r.errors.map((e) => `${e.path}: ${e.message}`).join('; ');
    ctx.status(`line ${r.line}${r.custom_id ? ` (${r.custom_id})` : ''}: ${r.code}${why ? ` — ${why}` : ''}`);
  }
  const more = batch.counts.rejected - Math.min(LINES_SHOWN, batch.rejected_lines.length);
  if (more > 0) ctx.status(`… and ${more} more rejected lines`);
}

function refuseStrict(scan: FileScan): void {
  if (scan.badCount === 0) return;
  const first = scan.bad[0];
  const where = first ? `line ${first.line}: ${first.message}` : '';
  const others = scan.badCount > 1 ? ` (and ${scan.badCount - 1} more bad lines)` : '';
  throw new CliInputError(`--strict: nothing sent; ${where}${others}`);
}

interface SubmitOptions {
  lane: string;
  wait?: boolean;
  out?: string;
  strict?: boolean;
  interval: number;
}

async function submit(file: string, opts: SubmitOptions, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  if (opts.out && !opts.wait)
    throw new CliInputError('--out needs --wait (or use: switchyard batch results ID --out FILE)');
  const scan = await scanBatchFile(file);
  if (opts.strict) refuseStrict(scan);
  if (scan.lines === 0) throw new CliInputError(`${file} has no lines`);
  // The same file (and lane) is the same batch: a re-run after a crash submits nothing twice.
  const idempotencyKey = `cli-${scan.sha256.slice(0, 48)}-${opts.lane}`;
  onInterrupt(ctx, 'run the same command again to resume the upload: nothing is submitted twice');
  if (!ctx.json) ctx.status(`uploading ${file}: ${scan.lines} lines, ${scan.bytes} bytes`);
  const input = opts.lane === 'batch' ? { path: file } : { lines: withLane(file, opts.lane) };
  const batch = await ctx.client.batches.create(input, { idempotencyKey });
  if (ctx.json && !opts.wait) return ctx.print(JSON.stringify(batch));
  if (!ctx.json) {
    ctx.print(`batch ${batch.id}: ${batch.counts.accepted} accepted, ${batch.counts.rejected} rejected`);
    reportRejections(ctx, batch);
  }
  if (!opts.wait) return;
  const done = await watch(ctx, batch.id, opts.interval);
  await finish(ctx, done, opts.out);
}

async function finish(ctx: Context, batch: BatchView, out: string | undefined): Promise<void> {
  if (out) {
    const { written, kept } = await downloadResults(ctx.client, batch.id, out);
    if (!ctx.json)
      ctx.status(`results: ${kept + written} lines in ${out}${kept ? ` (${kept} were there)` : ''}`);
  }
  if (ctx.json) return ctx.print(JSON.stringify(batch));
  const c = batch.counts;
  ctx.print(
    `batch ${batch.id} completed: ${c.succeeded} succeeded, ${c.failed} failed, ${c.canceled} canceled, ` +
      `${c.rejected} rejected; cost $${batch.cost.usd.toFixed(6)}`,
  );
}

/** `switchyard batch …` */
export function batchCommand(): Command {
  const batch = new Command('batch').description('submit batches, follow them, download their results');
  const interval = new Option('--interval <ms>', 'how often to read the batch')
    .default(1000)
    .argParser(positiveInt('--interval'));
  batch
    .command('submit')
    .description(
      'submit a .jsonl file (Switchyard or OpenAI batch lines); re-running it resumes, never duplicates',
    )
    .argument('<file>', 'NDJSON file, one line per job, each with a custom_id')
    .addOption(
      new Option('--lane <lane>', 'lane for lines that name none')
        .choices(['batch', 'interactive'])
        .default('batch'),
    )
    .option('--wait', 'follow the batch until it completes')
    .option('--out <file>', 'with --wait: write the results here (resumes a partial file)')
    .option('--strict', 'refuse the whole file if any line is not a JSON object with a custom_id')
    .addOption(interval)
    .action(submit);
  batch
    .command('watch')
    .description('follow a batch until it completes')
    .argument('<id>', 'batch id')
    .addOption(interval)
    .action(async (id: string, opts: { interval: number }, cmd: Command) => {
      const ctx = contextOf(cmd);
      await finish(ctx, await watch(ctx, id, opts.interval), undefined);
    });
  batch
    .command('results')
    .description("download a batch's results as NDJSON (streamed; resumes a partial --out file)")
    .argument('<id>', 'batch id')
    .option('--out <file>', 'write here instead of stdout')
    .action(async (id: string, opts: { out?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const b = await ctx.client.batches.get(id);
      if (!isBatchFinished(b.status) && !ctx.json)
        ctx.status(`batch ${id} is still running: ${describeBatch(b, 0)}`);
      const { written, kept } = await downloadResults(ctx.client, id, opts.out);
      if (opts.out && !ctx.json) ctx.status(`${kept + written} lines in ${opts.out}`);
    });
  return batch;
}
