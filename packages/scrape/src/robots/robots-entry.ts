import { RobotsRules } from './robots-rules.ts';

/** What the fleet knows of one origin's robots.txt (RFC 9309 2.3.1), as cached in Redis. */
export type RobotsEntry =
  /** Fetched (2xx): its rules apply. */
  | { kind: 'rules'; text: string }
  /** 4xx other than 429, or no file reached within 5 redirects: nothing is disallowed. */
  | { kind: 'allow_all'; status: number }
  /** 5xx, 429 or not reachable: nothing is allowed until `until` (epoch ms). */
  | { kind: 'unreachable'; until: number };

/** What robots.txt says of one URL. */
export type RobotsVerdict =
  | { kind: 'allowed'; crawlDelayMs: number | undefined }
  | { kind: 'disallowed' }
  | { kind: 'unreachable'; until: number };

/** A cached entry with its rules parsed once. */
export class RobotsView {
  readonly entry: RobotsEntry;
  private readonly rules: RobotsRules | undefined;

  constructor(origin: string, entry: RobotsEntry) {
    this.entry = entry;
    this.rules = entry.kind === 'rules' ? new RobotsRules(origin, entry.text) : undefined;
  }

  /** The verdict for `url` (of this origin) and the product token. */
  verdict(url: string, token: string): RobotsVerdict {
    const { entry, rules } = this;
    if (entry.kind === 'unreachable') return { kind: 'unreachable', until: entry.until };
    if (!rules) return { kind: 'allowed', crawlDelayMs: undefined };
    if (!rules.allows(url, token)) return { kind: 'disallowed' };
    return { kind: 'allowed', crawlDelayMs: rules.crawlDelayMs(token) };
  }
}

/** Parses a cached entry; anything unreadable counts as not cached. */
export function parseRobotsEntry(json: string | null): RobotsEntry | undefined {
  if (!json) return undefined;
  try {
    const e = JSON.parse(json) as Partial<RobotsEntry> & Record<string, unknown>;
    if (e.kind === 'rules' && typeof e.text === 'string') return { kind: 'rules', text: e.text };
    if (e.kind === 'allow_all' && typeof e.status === 'number')
      return { kind: 'allow_all', status: e.status };
    if (e.kind === 'unreachable' && typeof e.until === 'number')
      return { kind: 'unreachable', until: e.until };
  } catch {
    // not JSON: refetch
  }
  return undefined;
}
