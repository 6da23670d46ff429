import type { HostExclusion, ProxyHealth, ProxyState } from './types.ts';

const STATES: ProxyState[] = ['available', 'cooling', 'quarantined', 'draining'];

function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

function duration(ms: number): string {
  if (ms <= 0) return 'due';
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ''}`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

function hosts(list: HostExclusion[], now: number): string {
  const first = list[0];
  if (!first) return '-';
  const more = list.length > 1 ? ` +${list.length - 1}` : '';
  return `${first.host} ${duration(first.until - now)}${more}`;
}

/**
 * Pool health as a plain-text table for people (admin endpoint, CLI): a summary line, then one
 * row per proxy. URLs come from `list()` and are already redacted.
 */
export function formatPoolTable(list: ProxyHealth[], opts: { now?: number } = {}): string {
  const now = opts.now ?? Date.now();
  const byState = new Map<ProxyState, number>();
  for (const p of list) byState.set(p.state, (byState.get(p.state) ?? 0) + 1);
  const inFlight = list.reduce((n, p) => n + p.inFlight, 0);
  const capacity = list.reduce((n, p) => n + p.maxConcurrency, 0);
  const summary =
    `${list.length} proxies: ` +
    STATES.map((s) => `${byState.get(s) ?? 0} ${s}`).join(', ') +
    ` | in flight ${inFlight}/${capacity}`;

  const header = [
    'ID',
    'STATE',
    'LOAD',
    'OK',
    '429',
    'BLOCK',
    'FAULT',
    'EXPIRED',
    'BYTES',
    'COOLING',
    'BANNED',
    'QUARANTINE',
    'TAGS',
    'URL',
  ];
  const rows = list.map((p) => [
    p.id,
    p.state,
    `${p.inFlight}/${p.maxConcurrency}`,
    String(p.outcomes.ok),
    String(p.outcomes.rate_limited),
    String(p.outcomes.blocked),
    String(p.outcomes.proxy_fault),
    String(p.outcomes.expired),
    bytes(p.bytes),
    hosts(p.cooling, now),
    hosts(p.banned, now),
    p.quarantinedUntil ? `${duration(p.quarantinedUntil - now)} (x${p.consecutiveFaults})` : '-',
    [...p.tags, ...(p.country ? [p.country] : [])].join(',') || '-',
    p.url,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [summary, '', line(header), ...rows.map(line)].join('\n') + '\n';
}
