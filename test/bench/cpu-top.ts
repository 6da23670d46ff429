/**
 * Where a benchmark's CPU time goes: the top self-time functions of a V8 `.cpuprofile`, and the
 * self time summed by where the code lives (a package in node_modules, a workspace package or
 * app, Node internals, GC). For a missed target: run the program under
 *
 *   NODE_OPTIONS="--cpu-prof --cpu-prof-dir=/tmp/prof" node test/bench/batch-throughput.ts --jobs 20000
 *
 * (every Node process it starts writes a profile when it exits: the bench process with the API,
 * and the worker processes), then
 *
 *   node test/bench/cpu-top.ts /tmp/prof/<file>.cpuprofile [--top 30] [--who writeUtf8String]
 *
 * `--who TEXT`: the call paths (innermost 8 frames outside Node internals) that spend the self time
 * of the functions whose `name url:line` contains TEXT (e.g. `Pipeline.js:40`).
 */
import { readFileSync } from 'node:fs';
import { option } from './stats.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a script lives: `bullmq`, `@fastify/…`, `apps/worker`, `packages/jobs`, `node:internal`… */
export function area(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const nm = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm?.[1]) return nm[1];
  const ws = /\/((?:apps|packages|test)\/[^/]+)\//.exec(url);
  if (ws?.[1]) return ws[1];
  if (url.startsWith('node:')) return 'node:internal';
  return url;
}

export function topFunctions(profile: Profile, top: number) {
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFn = new Map<string, number>();
  const byArea = new Map<string, number>();
  for (const node of profile.nodes) {
    const us = self.get(node.id) ?? 0;
    if (!us) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url
      .replace(/^.*node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/, '')
      .replace(/^.*\/wt-[^/]+\//, '');
    const key = `${functionName || '(anonymous)'}  ${file}${url ? `:${lineNumber + 1}` : ''}`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
    const a = area(url, functionName);
    byArea.set(a, (byArea.get(a) ?? 0) + us);
  }
  const sorted = (m: Map<string, number>) =>
    [...m]
      .sort((x, y) => y[1] - x[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: us / 1000, share: us / total }));
  return { totalMs: total / 1000, functions: sorted(byFn), areas: sorted(byArea) };
}

/** The call paths leading to the self time of the functions matching `text`, heaviest first. */
export function whoCalls(profile: Profile, text: string, top: number, depth = 8) {
  const parent = new Map<number, ProfileNode>();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n);
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const paths = new Map<string, number>();
  for (const [id, us] of self) {
    let node = byId.get(id);
    const f = node?.callFrame;
    if (!f || !`${f.functionName || '(anonymous)'} ${f.url}:${f.lineNumber + 1}`.includes(text)) continue;
    const frames: string[] = [];
    for (; node && frames.length < depth; node = parent.get(node.id)) {
      const { functionName, url, lineNumber } = node.callFrame;
      if (url.startsWith('node:') && frames.length > 0) continue;
      frames.push(`${functionName || '(anonymous)'} ${area(url, functionName)}:${lineNumber + 1}`);
    }
    const key = frames.join(' < ');
    paths.set(key, (paths.get(key) ?? 0) + us);
  }
  return [...paths].sort((a, b) => b[1] - a[1]).slice(0, top);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: node test/bench/cpu-top.ts FILE.cpuprofile [--top 30]');
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const who = option('who');
  if (who) {
    for (const [path, us] of whoCalls(profile, who, Number(option('top') ?? 15)))
      console.log(`${(us / 1000).toFixed(0).padStart(6)} ms  ${path}`);
    process.exit(0);
  }
  const r = topFunctions(profile, Number(option('top') ?? 30));
  const line = (x: { name: string; ms: number; share: number }) =>
    `${(x.share * 100).toFixed(1).padStart(5)}%  ${x.ms.toFixed(0).padStart(7)} ms  ${x.name}`;
  console.log(`${file}: ${r.totalMs.toFixed(0)} ms sampled\n\nself time by area:`);
  for (const a of r.areas) console.log(line(a));
  console.log('\ntop self-time functions:');
  for (const f of r.functions) console.log(line(f));
}
