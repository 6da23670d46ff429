/** The tenant hash field listing the hosts whose robots.txt the tenant may ignore (a JSON array). */
export const ROBOTS_EXEMPT_HOSTS_FIELD = 'robots_exempt_hosts';

/** Redis key names of robots.txt and per-host politeness. */
export interface PolitenessKeys {
  /**
   * Hash of one host's politeness state: `next` (the next free ticket), `repair` (the next free
   * slot for a due ticket that could not start), `last` (the last start), `paused` (until, after a
   * Retry-After) and `lat` (average request duration). The host is the hash tag of its three keys.
   */
  hostState(host: string): string;
  /** Sorted set: leases of requests in flight to the host, scored by when they expire. */
  hostLeases(host: string): string;
  /** Sorted set: jobs holding a ticket (a start time) for the host, scored by that time. */
  hostTickets(host: string): string;
  /** String: one origin's robots.txt verdict as JSON (`RobotsEntry`), with its TTL. */
  robots(origin: string): string;
  /**
   * String: the job fetching the origin's robots.txt (`SET NX PX`, deleted once the verdict is
   * stored), so the fleet fetches it once while it is unknown.
   */
  robotsFetch(origin: string): string;
  /**
   * Hash: the tenant, where `ROBOTS_EXEMPT_HOSTS_FIELD` is kept. The API's tenancy owns the hash
   * (apps/api/src/tenancy/keys.ts names it too, and a test keeps the two equal).
   */
  tenant(tenantId: string): string;
}

/** Every key name of politeness, built from the deployment's key prefix (no spaces or braces). */
export function politenessKeys(prefix: string): PolitenessKeys {
  if (!/^[^\s{}]+$/.test(prefix)) throw new RangeError('prefix must be non-empty, without spaces or braces');
  // Braces are not allowed in a host name, so the tag cannot be broken out of.
  const tag = (host: string) => `${prefix}:host:{${host.replace(/[{}]/g, '')}}`;
  return {
    hostState: (host) => `${tag(host)}:state`,
    hostLeases: (host) => `${tag(host)}:leases`,
    hostTickets: (host) => `${tag(host)}:tickets`,
    robots: (origin) => `${prefix}:robots:${origin}`,
    robotsFetch: (origin) => `${prefix}:robots-fetch:${origin}`,
    tenant: (tenantId) => `${prefix}:tenant:${tenantId}`,
  };
}
