import { parser } from '@prometheus-io/lezer-promql';
import { readFileSync } from 'node:fs';
import { parse, parseAllDocuments } from 'yaml';

/**
 * The metric names the operations files use (the Grafana dashboard's panel queries, the alert
 * rules, the KEDA triggers), and a check of them against live `/metrics` text, so a renamed
 * metric breaks a test instead of a dashboard.
 */

const file = (path: string) => readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8');

export const DASHBOARD = 'infra/grafana/switchyard.json';
export const ALERTS = 'infra/prometheus/alerts.yml';
export const KEDA = 'infra/k8s/keda.yaml';

const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'] as const;

/**
 * Metric names in a PromQL expression: every vector selector's name, read with Prometheus's own
 * PromQL grammar (so functions, label names and values are never taken for one).
 */
export function metricNamesIn(expr: string): string[] {
  const names = new Set<string>();
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector')
        names.add(expr.slice(node.from, node.to));
    },
  });
  return [...names];
}

export interface DashboardPanel {
  type: string;
  title: string;
  id: number;
  datasource?: { type?: string; uid?: string };
  targets?: { expr?: string; refId?: string; datasource?: { uid?: string } }[];
  gridPos?: { h: number; w: number; x: number; y: number };
}

export interface Dashboard {
  schemaVersion: number;
  title: string;
  uid: string;
  panels: DashboardPanel[];
  templating: { list: { name: string; type: string; query?: string }[] };
}

export interface AlertRule {
  alert?: string;
  expr?: string;
  for?: string;
  labels?: { severity?: string };
  annotations?: { summary?: string; description?: string };
}

export interface ScaledObject {
  kind: string;
  metadata: { name: string };
  spec: {
    scaleTargetRef: { name: string };
    minReplicaCount?: number;
    maxReplicaCount?: number;
    triggers: {
      type: string;
      name?: string;
      metricType?: string;
      metadata: { query: string; threshold: string; serverAddress: string };
    }[];
  };
}

export const dashboard = (): Dashboard => JSON.parse(file(DASHBOARD)) as Dashboard;
export const alertRules = (): AlertRule[] =>
  (parse(file(ALERTS)) as { groups: { rules: AlertRule[] }[] }).groups.flatMap((g) => g.rules);
export const scaledObjects = (): ScaledObject[] =>
  parseAllDocuments(file(KEDA))
    .map((d) => d.toJS() as ScaledObject)
    .filter((d) => d.kind === 'ScaledObject');

/** Every query of the three files, with where it is used (`file: panel / rule / trigger`). */
export function operationsQueries(): { where: string; expr: string }[] {
  const panels = dashboard().panels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({ where: `${DASHBOARD}: panel "${p.title}"`, expr: t.expr ?? '' })),
  );
  const alerts = alertRules().map((r) => ({ where: `${ALERTS}: ${r.alert ?? '?'}`, expr: r.expr ?? '' }));
  const keda = scaledObjects().flatMap((o) =>
    o.spec.triggers.map((t) => ({
      where: `${KEDA}: ${o.metadata.name} ${t.name ?? t.type}`,
      expr: t.metadata.query,
    })),
  );
  return [...panels, ...alerts, ...keda];
}

/** Metric name → where it is used, over `queries`. */
export function usedMetrics(queries: { where: string; expr: string }[]): Map<string, string[]> {
  const used = new Map<string, string[]>();
  for (const { where, expr } of queries) {
    for (const name of metricNamesIn(expr)) {
      const places = used.get(name) ?? [];
      if (!places.includes(where)) places.push(where);
      used.set(name, places);
    }
  }
  return used;
}

/** The metric families of Prometheus text: name → type, from its `# TYPE` lines. */
export function families(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1] ?? '', m[2] ?? '');
  return out;
}

/** Whether a query's name is a family, or a histogram's (or summary's) series of one. */
export function exposes(fams: Map<string, string>, name: string): boolean {
  if (fams.has(name)) return true;
  const suffix = HISTOGRAM_SUFFIXES.find((s) => name.endsWith(s));
  if (!suffix) return false;
  const type = fams.get(name.slice(0, -suffix.length));
  return type === 'histogram' || (type === 'summary' && suffix !== '_bucket');
}

/** The used names no family of `fams` exposes, each with where it is used. */
export function missingMetrics(used: Map<string, string[]>, fams: Map<string, string>): string[] {
  return [...used]
    .filter(([name]) => !exposes(fams, name))
    .map(([name, where]) => `${name} (used by ${where.join('; ')})`);
}

/** Offsets where Prometheus's own PromQL grammar (the one its web UI uses) finds a syntax error. */
export function promqlErrors(expr: string): number[] {
  const at: number[] = [];
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError) at.push(node.from);
    },
  });
  return at;
}

export interface Selector {
  metric: string;
  /** Label matchers: `lane="batch"` is { label: 'lane', op: '=', value: 'batch' }. */
  matchers: { label: string; op: string; value: string }[];
  /** Labels an enclosing `by (...)` groups this selector's series by. */
  groupedBy: string[];
}

/** Every vector selector of a PromQL expression, with its matchers and the labels it is grouped by. */
export function selectorsIn(expr: string): Selector[] {
  const text = (n: { from: number; to: number }) => expr.slice(n.from, n.to);
  const out: Selector[] = [];
  parser.parse(expr).iterate({
    enter: (ref) => {
      if (ref.name !== 'VectorSelector') return;
      const node = ref.node;
      const metric = node.getChild('Identifier');
      if (!metric) return;
      const matchers = (node.getChild('LabelMatchers')?.getChildren('UnquotedLabelMatcher') ?? []).map(
        (m) => {
          const value = m.getChild('StringLiteral');
          return {
            label: text(m.getChild('LabelName') ?? m),
            op: text(m.getChild('MatchOp') ?? m),
            value: value ? (JSON.parse(text(value)) as string) : '',
          };
        },
      );
      const groupedBy: string[] = [];
      for (let up = node.parent; up; up = up.parent) {
        if (up.name !== 'AggregateExpr') continue;
        const modifier = up.getChild('AggregateModifier');
        if (!modifier?.getChild('By')) continue;
        for (const l of modifier.getChild('GroupingLabels')?.getChildren('LabelName') ?? [])
          groupedBy.push(text(l));
      }
      out.push({ metric: text(metric), matchers, groupedBy: [...new Set(groupedBy)] });
    },
  });
  return out;
}

/** Samples of Prometheus text: metric name and labels of every series line. */
export function samples(text: string): { metric: string; labels: Record<string, string> }[] {
  const out: { metric: string; labels: Record<string, string> }[] = [];
  for (const m of text.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? \S+/gm)) {
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1] ?? ''] = l[2] ?? '';
    out.push({ metric: m[1] ?? '', labels });
  }
  return out;
}

/** Labels Prometheus adds to every series when it scrapes a target. */
const TARGET_LABELS = new Set(['instance', 'job']);

/**
 * What the queries ask of series the live text does not have: an equality matcher no sample
 * satisfies (`lane="bacth"`), a label no sample carries (`by (modle)`), each with where it is used.
 */
export function unmatchedLabels(queries: { where: string; expr: string }[], text: string): string[] {
  const live = samples(text);
  const problems = new Set<string>();
  for (const { where, expr } of queries) {
    for (const s of selectorsIn(expr)) {
      const series = live.filter(
        (x) =>
          x.metric === s.metric || HISTOGRAM_SUFFIXES.some((suffix) => x.metric === `${s.metric}${suffix}`),
      );
      const bad = (what: string) => problems.add(`${s.metric}: ${what} (used by ${where})`);
      if (series.length === 0) {
        if (s.matchers.length > 0 || s.groupedBy.length > 0) bad('no series to check its labels against');
        continue;
      }
      for (const m of s.matchers) {
        if (!series.some((x) => m.label in x.labels)) bad(`no series has the label ${m.label}`);
        else if (m.op === '=' && !series.some((x) => x.labels[m.label] === m.value))
          bad(`no series has ${m.label}="${m.value}"`);
      }
      for (const label of s.groupedBy) {
        if (TARGET_LABELS.has(label)) continue;
        if (!series.some((x) => label in x.labels)) bad(`no series has the label ${label} it is grouped by`);
      }
    }
  }
  return [...problems];
}
