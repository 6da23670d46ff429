/**
 * The shape every benchmark program reports in, so `run.ts` can print one summary and write
 * `docs/benchmarks.md` without knowing the programs: a table (already formatted cells, the
 * same-run baseline in it) and the targets with met/missed. Raw numbers ride along in `raw`.
 */
import { cpus } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface Target {
  what: string;
  /** e.g. `≤ 3 ms` */
  target: string;
  /** e.g. `2.41 ms` */
  actual: string;
  met: boolean;
}

export interface Machine {
  cores: number;
  cpu: string;
  node: string;
  redis: string;
  date: string;
}

export interface ScenarioReport {
  /** File-name-safe id, e.g. `round-trip`. */
  id: string;
  title: string;
  /** How to run this scenario alone. */
  command: string;
  /** One or two sentences: what runs where, against which baseline. */
  setup: string;
  columns: string[];
  rows: string[][];
  targets: Target[];
  notes?: string[];
  quick: boolean;
  machine: Machine;
  raw: unknown;
}

export function machine(redisVersion: string): Machine {
  const list = cpus();
  return {
    cores: list.length,
    cpu: list[0]?.model.trim() ?? 'unknown',
    node: process.version,
    redis: redisVersion,
    date: new Date().toISOString(),
  };
}

// ---- number formatting shared by the programs

export const ms = (x: number) => `${x.toFixed(2)} ms`;
export const int = (x: number) => Math.round(x).toLocaleString('en');
export const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
export const times = (x: number) => `${x.toFixed(2)}×`;
export const bytes = (x: number) =>
  x >= 1024 * 1024
    ? `${(x / 1024 / 1024).toFixed(1)} MB`
    : x >= 1024
      ? `${(x / 1024).toFixed(2)} KB`
      : `${int(x)} B`;
export const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

// ---- output

/** A plain-text table: first column left-aligned, the others right-aligned. */
export function textTable(columns: string[], rows: string[][]): string {
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(columns), ...rows.map(line)].join('\n');
}

export function markdownTable(columns: string[], rows: string[][]): string {
  const esc = (c: string) => c.replaceAll('|', '\\|');
  const line = (cells: string[]) => `| ${cells.map(esc).join(' | ')} |`;
  return [line(columns), line(columns.map(() => '---')), ...rows.map(line)].join('\n');
}

export const verdict = (t: Target) => (t.met ? 'met' : 'missed');

export function printReport(r: ScenarioReport): void {
  console.log(`\n${r.title}${r.quick ? ' (quick: sizes too small for the targets to mean anything)' : ''}`);
  console.log(r.setup);
  console.log(textTable(r.columns, r.rows));
  for (const t of r.targets) console.log(`  ${t.what}: ${t.actual} (target ${t.target}: ${verdict(t)})`);
  for (const n of r.notes ?? []) console.log(`  note: ${n}`);
}

/** Writes a program's reports as a JSON array (what `run.ts` reads). */
export function writeReports(list: ScenarioReport[], jsonPath: string): void {
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, `${JSON.stringify(list, null, 2)}\n`);
}

/** Prints a program's reports and, with `--json FILE`, writes them. */
export function emit(reports: ScenarioReport | ScenarioReport[], jsonPath: string | undefined): void {
  const list = Array.isArray(reports) ? reports : [reports];
  for (const r of list) printReport(r);
  if (jsonPath) writeReports(list, jsonPath);
}
