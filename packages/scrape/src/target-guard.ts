import { lookup as dnsLookup } from 'node:dns/promises';
import { dialForm } from './address-rules.ts';
import { TargetForbiddenError, TargetLookupError } from './errors.ts';
import type { TargetPolicy } from './target-policy.ts';

/** Resolves a host name to every address it has (node:dns `lookup` with `all: true`). */
export type LookupAll = (hostname: string) => Promise<readonly { address: string; family: number }[]>;

const systemLookup: LookupAll = (hostname) => dnsLookup(hostname, { all: true, order: 'verbatim' });

/** A hop that passed the guard, and how to reach exactly the address that was checked. */
export interface PinnedTarget {
  /** The URL as asked: the result's `url` and the base for relative redirects. */
  url: URL;
  /** The checked address the connection goes to (IPv4-mapped IPv6 as plain IPv4). */
  address: string;
  /**
   * `url` with its host replaced by `address`. Requests go here, so neither undici nor a proxy
   * resolves anything: the connection (or the proxy's CONNECT / absolute-form request) names the IP.
   */
  connectUrl: URL;
  /** `url.host`, sent as the Host header; undici derives the TLS SNI (and the name the
   * certificate is checked against) from it. */
  host: string;
}

export interface TargetGuardOptions {
  policy: TargetPolicy;
  /** Injected by tests; default node:dns `lookup` (the system resolver, /etc/hosts included). */
  lookup?: LookupAll;
}

function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** IPv4 first: a pinned IPv6 address on a host without IPv6 routes would just fail to connect. */
const preferV4 = (a: { family: 4 | 6 }, b: { family: 4 | 6 }) => a.family - b.family;

/**
 * The SSRF guard of a scrape: judges a URL (scheme, port, IP literal, localhost), resolves its host
 * once, refuses it unless every address is allowed, and pins the hop to one checked address. Run
 * it before every hop, redirects included.
 */
export class TargetGuard {
  readonly policy: TargetPolicy;
  private readonly lookup: LookupAll;

  constructor(opts: TargetGuardOptions) {
    this.policy = opts.policy;
    this.lookup = opts.lookup ?? systemLookup;
  }

  async check(url: URL, opts: { signal?: AbortSignal; redirect?: boolean } = {}): Promise<PinnedTarget> {
    const what = opts.redirect ? `the redirect to ${url.origin}` : url.origin;
    const verdict = this.policy.checkUrl(url);
    if (verdict.kind === 'refused') {
      throw new TargetForbiddenError(`${what} is not allowed: ${verdict.reason}`, verdict.reason);
    }
    let addresses: readonly string[];
    if (verdict.kind === 'addresses') {
      addresses = verdict.addresses;
    } else {
      let answers: readonly { address: string }[];
      try {
        answers = await abortable(this.lookup(verdict.hostname), opts.signal);
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        const code = (err as { code?: unknown }).code;
        throw new TargetLookupError(verdict.hostname, typeof code === 'string' ? code : 'ENOTFOUND', {
          cause: err,
        });
      }
      if (!answers.length) throw new TargetLookupError(verdict.hostname, 'ENOTFOUND');
      addresses = answers.map((a) => a.address);
      for (const address of addresses) {
        const reason = this.policy.addressRefusal(address);
        // The address itself stays out of the message: it would map the worker's private DNS.
        if (reason) {
          throw new TargetForbiddenError(
            `${what} is not allowed: "${verdict.hostname}" resolves to a forbidden address (${reason})`,
            reason,
          );
        }
      }
    }
    const [pinned] = addresses.map(dialForm).sort(preferV4);
    if (!pinned) throw new TargetLookupError(url.hostname, 'ENOTFOUND');
    const connectUrl = new URL(url.href);
    connectUrl.hostname = pinned.family === 6 ? `[${pinned.address}]` : pinned.address;
    return { url, address: pinned.address, connectUrl, host: url.host };
  }
}
