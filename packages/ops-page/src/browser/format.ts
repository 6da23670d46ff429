/** Formatters for the page: pure, so they read the same in every browser. */

/** Dollars: cents from $0.01 up, three significant digits below (a completion costs fractions of a cent). */
export function usd(v: number): string {
  if (v === 0) return '$0';
  if (v < 0.000001) return '<$0.000001';
  // Three significant digits; JavaScript writes numbers from 1e-6 up without an exponent.
  if (v < 0.01) return `$${Number(v.toPrecision(3))}`;
  return `$${v.toFixed(2)}`;
}

export function percent(share: number): string {
  return `${(share * 100).toFixed(share > 0 && share < 0.1 ? 1 : 0)}%`;
}

/** A duration in seconds as `45s`, `3m 05s`, `2h 10m`; `–` when there is none. */
export function age(seconds: number | null): string {
  if (seconds === null) return '–';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** How long until an epoch-ms instant, from `now`; `–` when it has passed or is unset. */
export function until(epochMs: number | null | undefined, now: number): string {
  if (!epochMs || epochMs <= now) return '–';
  return age((epochMs - now) / 1000);
}

export function rate(perSecond: number): string {
  return perSecond >= 10 ? perSecond.toFixed(0) : perSecond.toFixed(2);
}

/** An ISO time as the browser's local HH:MM:SS. */
export function clock(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString([], { hour12: false });
}
