/** One request the mock site received: what, from where, and when it started and ended. */
export interface SiteRequest {
  /** Path and query, e.g. `/page/3?x=1`. */
  path: string;
  /** The source address the site saw (a fleet proxy's, or the client's). */
  ip: string;
  /** Epoch ms when the site began handling the request. */
  start: number;
  /** Epoch ms when the answer was sent (or the connection closed); undefined while in flight. */
  end: number | undefined;
  /** Status answered; undefined while in flight or when the connection closed first. */
  status: number | undefined;
}

/**
 * Every request the mock site received, in arrival order, so tests can prove from the site's side
 * what was (never) requested, and measure concurrency and the gaps between starts.
 */
export class RequestLog {
  #entries: SiteRequest[] = [];

  open(ip: string, path: string, now = Date.now()): SiteRequest {
    const entry: SiteRequest = { path, ip, start: now, end: undefined, status: undefined };
    this.#entries.push(entry);
    return entry;
  }

  close(entry: SiteRequest, status: number | undefined, now = Date.now()): void {
    entry.end ??= now;
    entry.status ??= status;
  }

  snapshot(): SiteRequest[] {
    return this.#entries.map((e) => ({ ...e }));
  }

  clear(): void {
    this.#entries = [];
  }
}

/** The most requests the site had in flight at once, from a log snapshot. */
export function maxConcurrency(entries: readonly SiteRequest[]): number {
  const edges = entries.flatMap((e) => [
    { at: e.start, d: 1 },
    { at: e.end ?? Number.POSITIVE_INFINITY, d: -1 },
  ]);
  // An end at the same millisecond as a start counts first: the two did not overlap.
  edges.sort((a, b) => a.at - b.at || a.d - b.d);
  let now = 0;
  let max = 0;
  for (const e of edges) {
    now += e.d;
    max = Math.max(max, now);
  }
  return max;
}

/** The gaps between consecutive request starts, in ms, in order. */
export function startGaps(entries: readonly SiteRequest[]): number[] {
  const starts = entries.map((e) => e.start).sort((a, b) => a - b);
  return starts.slice(1).map((s, i) => s - starts[i]!);
}
