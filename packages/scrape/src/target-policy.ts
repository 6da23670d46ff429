import ipaddr from 'ipaddr.js';
import { addressRefusal, parseCidr, type Cidr } from './address-rules.ts';

/** Ports a scrape may use when `scrape.allowPorts` is not configured. */
export const DEFAULT_ALLOWED_PORTS: readonly number[] = [80, 443, 8080, 8443];

export interface TargetPolicyOptions {
  /** CIDRs that may be reached although private, loopback, ... (`scrape.allowCidrs`). */
  allowCidrs?: readonly string[];
  /** Ports a target may use, or `any` (`scrape.allowPorts`); default 80, 443, 8080, 8443. */
  allowPorts?: readonly number[] | 'any';
  /** The config section the lists come from, for error messages (default `scrape`). */
  section?: string;
}

/** What the URL alone says about a target, before any DNS. */
export type UrlVerdict =
  | { kind: 'refused'; reason: string }
  /** An IP literal or a localhost name: the addresses are known, and all of them are allowed. */
  | { kind: 'addresses'; addresses: string[] }
  /** A host name: allowed so far; its addresses are judged after resolution. */
  | { kind: 'name'; hostname: string };

/** `localhost` and `*.localhost` are loopback by definition (RFC 6761), whatever DNS says. */
const LOCALHOST_ADDRESSES = ['127.0.0.1', '::1'];

export function isLocalhostName(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  return h === 'localhost' || h.endsWith('.localhost');
}

/** The port a URL connects to (its scheme's default when it names none). */
export function portOf(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

/**
 * The operator's rules for scrape targets: http(s) only, allowed ports only, public unicast
 * addresses only unless a CIDR is allow-listed. Pure: nothing here resolves or connects.
 */
export class TargetPolicy {
  readonly allowCidrs: readonly Cidr[];
  readonly allowPorts: ReadonlySet<number> | 'any';

  constructor(opts: TargetPolicyOptions = {}) {
    this.allowCidrs = (opts.allowCidrs ?? []).map((c) => {
      try {
        return parseCidr(c);
      } catch {
        throw new Error(
          `${opts.section ?? 'scrape'}.allowCidrs: "${c}" is not a CIDR (e.g. 10.0.0.0/8 or fd00::/8)`,
        );
      }
    });
    const ports = opts.allowPorts ?? DEFAULT_ALLOWED_PORTS;
    this.allowPorts = ports === 'any' ? 'any' : new Set(ports);
  }

  /** Why `address` may not be dialled, or undefined when it may. */
  addressRefusal(address: string): string | undefined {
    return addressRefusal(address, this.allowCidrs);
  }

  portAllowed(port: number): boolean {
    return this.allowPorts === 'any' || this.allowPorts.has(port);
  }

  /**
   * Everything that can be decided without DNS: the scheme, the port, an IP literal (WHATWG URL
   * parsing has already turned `2130706433`, `0x7f.1` and `0177.0.0.1` into `127.0.0.1`) and
   * localhost names. Used at admission and before every hop.
   */
  checkUrl(url: URL): UrlVerdict {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return { kind: 'refused', reason: `the scheme "${url.protocol}" is not allowed; only http and https` };
    }
    const port = portOf(url);
    if (!this.portAllowed(port)) {
      const allowed = this.allowPorts === 'any' ? 'any' : [...this.allowPorts].join(', ');
      return { kind: 'refused', reason: `port ${port} is not allowed (allowed: ${allowed})` };
    }
    const host = url.hostname;
    if (host.startsWith('[') || ipaddr.IPv4.isValidFourPartDecimal(host)) {
      const literal = host.replace(/^\[|\]$/g, '');
      const reason = this.addressRefusal(literal);
      return reason
        ? { kind: 'refused', reason: `${literal} is a forbidden address (${reason})` }
        : { kind: 'addresses', addresses: [literal] };
    }
    if (isLocalhostName(host)) {
      const refused = LOCALHOST_ADDRESSES.find((a) => this.addressRefusal(a));
      return refused
        ? { kind: 'refused', reason: `"${host}" is this machine (loopback)` }
        : { kind: 'addresses', addresses: LOCALHOST_ADDRESSES };
    }
    if (!host) return { kind: 'refused', reason: 'the URL has no host' };
    return { kind: 'name', hostname: host };
  }
}
