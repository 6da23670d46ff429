import type { JobRecord, UsageReport } from '@switchyard/contracts';
import { Command, Option } from 'commander';
import { contextOf, type Context } from '../context.ts';
import { CliInputError } from '../errors.ts';

function printJob(ctx: Context, job: JobRecord): void {
  if (ctx.json) return ctx.print(JSON.stringify(job));
  ctx.print(`${job.id}  ${job.type}  ${job.status}  attempts ${job.attempts}  $${job.cost.usd.toFixed(6)}`);
  if (job.error) ctx.print(`error: ${job.error.code}: ${job.error.message}`);
}

/** `switchyard jobs get|cancel ID` */
export function jobsCommand(): Command {
  const jobs = new Command('jobs').description('read or cancel one job');
  jobs
    .command('get')
    .description('show a job (with --json: the whole record, result included)')
    .argument('<id>', 'job id')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      printJob(ctx, await ctx.client.jobs.get(id));
    });
  jobs
    .command('cancel')
    .description('cancel a job that has not finished')
    .argument('<id>', 'job id')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      printJob(ctx, await ctx.client.jobs.cancel(id));
    });
  return jobs;
}

/** Columns padded to their widest cell. */
export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function usageTable(report: UsageReport): string {
  const head = [
    report.group_by.toUpperCase(),
    'ATTEMPTS',
    'RETRIES',
    'IN TOK',
    'OUT TOK',
    'BYTES',
    'COST $',
    'RETRY $',
  ];
  const row = (key: string, r: Omit<UsageReport['rows'][number], 'key'>) => [
    key,
    String(r.attempts),
    String(r.retries),
    String(r.input_tokens),
    String(r.output_tokens),
    String(r.bytes),
    r.cost.usd.toFixed(6),
    r.retry_cost.usd.toFixed(6),
  ];
  const body = report.rows.map((r) => row(r.key, r));
  return (
    `${table([head, ...body, row('total', report.total)])}\n` +
    `${report.from} … ${report.to}; retry share ${(report.retry_share * 100).toFixed(1)}%` +
    classesLine(report.total)
  );
}

/** The token classes and the estimated part of a total, when there are any. */
function classesLine(t: UsageReport['total']): string {
  const parts = [
    t.cached_input_tokens ? `cached in ${t.cached_input_tokens}` : '',
    t.cache_write_tokens ? `cache writes ${t.cache_write_tokens}` : '',
    t.reasoning_tokens ? `reasoning ${t.reasoning_tokens}` : '',
    t.estimated?.attempts
      ? `estimated ${t.estimated.attempts} attempts ($${t.estimated.cost.usd.toFixed(6)}, cut streams)`
      : '',
  ].filter(Boolean);
  return parts.length ? `\n${parts.join('; ')}` : '';
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
function day(name: string) {
  return (v: string) => {
    if (!DAY.test(v)) throw new CliInputError(`${name} must be a date YYYY-MM-DD`);
    return v;
  };
}

/** `switchyard usage` */
export function usageCommand(): Command {
  return new Command('usage')
    .description('your costs from the ledger, with the share spent on retries')
    .addOption(new Option('--group-by <by>', 'rows by').choices(['model', 'day', 'outcome']).default('model'))
    .addOption(new Option('--from <day>', 'first UTC day, YYYY-MM-DD').argParser(day('--from')))
    .addOption(new Option('--to <day>', 'last UTC day, YYYY-MM-DD').argParser(day('--to')))
    .action(async (o: { groupBy: 'model' | 'day' | 'outcome'; from?: string; to?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const report = await ctx.client.usage({ groupBy: o.groupBy, from: o.from, to: o.to });
      ctx.print(ctx.json ? JSON.stringify(report) : usageTable(report));
    });
}

/** `switchyard pool` */
export function poolCommand(): Command {
  return new Command('pool')
    .description('the egress proxy pool as a table (admin key)')
    .action(async (_o: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      process.stdout.write(await ctx.client.admin.proxyTable());
    });
}

/** `switchyard admin tenants create NAME`, `switchyard admin keys create TENANT` */
export function adminCommand(): Command {
  const admin = new Command('admin').description('tenants and keys (admin key)');
  admin
    .command('tenants')
    .description('manage tenants')
    .command('create')
    .description('create a tenant')
    .argument('<name>', 'display name')
    .option('--id <id>', 'chosen id (generated when absent)')
    .action(async (name: string, o: { id?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const t = await ctx.client.admin.createTenant({ name, id: o.id });
      ctx.print(ctx.json ? JSON.stringify(t) : `tenant ${t.id} created (${t.name})`);
    });
  admin
    .command('keys')
    .description('manage API keys')
    .command('create')
    .description('create an API key for a tenant (the secret is shown once)')
    .argument('<tenant>', 'tenant id')
    .option('--name <name>', 'a label for the key')
    .option('--admin', 'give the key the admin scope too')
    .action(async (tenant: string, o: { name?: string; admin?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const scopes = o.admin
        ? (['jobs:write', 'jobs:read', 'admin'] as const)
        : (['jobs:write', 'jobs:read'] as const);
      const k = await ctx.client.admin.createKey(tenant, { name: o.name, scopes: [...scopes] });
      ctx.print(ctx.json ? JSON.stringify(k) : `key ${k.id} for ${k.tenant_id}: ${k.key}`);
    });
  return admin;
}
