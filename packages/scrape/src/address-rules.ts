import ipaddr from 'ipaddr.js';

export type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;
/** A parsed CIDR: network address and prefix length. */
export type Cidr = [IpAddress, number];

/**
 * Ranges a scrape may never reach unless the operator allow-lists them, each with the reason a
 * refusal names. Listed here (not only taken from ipaddr.js's range names) so the rules and their
 * wording do not depend on the library's version; anything ipaddr.js does not call `unicast` is
 * refused as well.
 */
const V4_RULES: readonly (readonly [string, string])[] = [
  ['169.254.169.254/32', 'cloud metadata'], // AWS, GCP, Azure, OpenStack, ...
  ['100.100.100.200/32', 'cloud metadata'], // Alibaba Cloud
  ['0.0.0.0/8', 'unspecified'],
  ['10.0.0.0/8', 'RFC 1918 private'],
  ['100.64.0.0/10', 'carrier-grade NAT'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'RFC 1918 private'],
  ['192.0.0.0/24', 'IETF protocol assignment'],
  ['192.0.2.0/24', 'documentation TEST-NET-1'],
  ['192.88.99.0/24', '6to4 relay anycast'],
  ['192.168.0.0/16', 'RFC 1918 private'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation TEST-NET-2'],
  ['203.0.113.0/24', 'documentation TEST-NET-3'],
  ['224.0.0.0/4', 'multicast'],
  ['255.255.255.255/32', 'broadcast'], // before 240/4, which holds it
  ['240.0.0.0/4', 'reserved'],
];
const V6_RULES: readonly (readonly [string, string])[] = [
  ['fd00:ec2::254/128', 'cloud metadata'], // AWS IMDS over IPv6
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['fc00::/7', 'unique local'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'deprecated site-local'],
  ['ff00::/8', 'multicast'],
  ['100::/64', 'discard-only'],
  ['2001:2::/48', 'benchmarking'],
  ['2001:db8::/32', 'documentation'],
  ['3fff::/20', 'documentation'],
  ['64:ff9b:1::/48', 'local-use NAT64'],
];

const parseRules = (rules: readonly (readonly [string, string])[]) =>
  rules.map(([cidr, reason]) => ({ cidr: ipaddr.parseCIDR(cidr), reason }));
const RULES = { ipv4: parseRules(V4_RULES), ipv6: parseRules(V6_RULES) };
const METADATA = [...RULES.ipv4, ...RULES.ipv6].filter((r) => r.reason === 'cloud metadata');
/** Global unicast (RFC 4291): everything outside it is special in some way. */
const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');
const NAT64_WELL_KNOWN = ipaddr.parseCIDR('64:ff9b::/96');

const inCidr = (addr: IpAddress, [net, bits]: Cidr) => addr.kind() === net.kind() && addr.match(net, bits);

function v4FromParts(hi: number, lo: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
}

/** The IPv4 addresses an IPv6 transition address carries (6to4, Teredo, NAT64), with its name. */
function embeddedV4(addr: ipaddr.IPv6): { via: string; v4: ipaddr.IPv4[] } | undefined {
  const p = addr.parts as [number, number, number, number, number, number, number, number];
  const range = addr.range();
  if (range === '6to4') return { via: '6to4', v4: [v4FromParts(p[1], p[2])] };
  // Teredo: server address in bits 32-63, the client's in the last 32 bits, inverted.
  if (range === 'teredo') {
    return { via: 'Teredo', v4: [v4FromParts(p[2], p[3]), v4FromParts(~p[6] & 0xffff, ~p[7] & 0xffff)] };
  }
  if (inCidr(addr, NAT64_WELL_KNOWN)) return { via: 'NAT64', v4: [v4FromParts(p[6], p[7])] };
  return undefined;
}

function isAllowed(addr: IpAddress, allow: readonly Cidr[]): boolean {
  // A metadata address stays refused inside a broader allow-listed range (a test network's
  // 169.254.0.0/16, say); only a CIDR naming exactly that address admits it.
  const metadata = METADATA.some((m) => inCidr(addr, m.cidr));
  const full = addr.kind() === 'ipv4' ? 32 : 128;
  return allow.some((c) => inCidr(addr, c) && (!metadata || c[1] === full));
}

/** Why an address (already judged free of the allow-list) may not be dialled, or undefined. */
function specialReason(addr: IpAddress): string | undefined {
  const rule = RULES[addr.kind()].find((r) => inCidr(addr, r.cidr));
  if (rule) return rule.reason;
  if (addr.kind() === 'ipv6') {
    const v6 = addr as ipaddr.IPv6;
    const embedded = embeddedV4(v6);
    if (embedded) {
      for (const v4 of embedded.v4) {
        const reason = specialReason(v4);
        if (reason) return `${reason} IPv4 inside ${embedded.via}`;
      }
      return undefined;
    }
    if (!inCidr(v6, GLOBAL_UNICAST_V6)) return 'outside global unicast 2000::/3';
  }
  const range = addr.range();
  return range === 'unicast' ? undefined : `special-purpose ${range}`;
}

/**
 * Why a scrape may not connect to `address`, or undefined when it may. Only public unicast
 * addresses pass, plus those inside an allow-listed CIDR. An IPv4-mapped IPv6 address is judged
 * as the IPv4 address it is; 6to4, Teredo and NAT64 addresses by the IPv4 addresses they carry
 * (the allow-list does not apply to those: it names networks the worker reaches directly).
 * Something that is not an IP address is refused.
 */
export function addressRefusal(address: string | IpAddress, allow: readonly Cidr[] = []): string | undefined {
  let addr: IpAddress;
  try {
    addr = typeof address === 'string' ? ipaddr.parse(address) : address;
  } catch {
    return 'not an IP address';
  }
  const forms: IpAddress[] = [addr];
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
    forms.push((addr as ipaddr.IPv6).toIPv4Address());
  }
  if (forms.some((f) => isAllowed(f, allow))) return undefined;
  return specialReason(forms[forms.length - 1] ?? addr);
}

/** The address to dial for a checked one: IPv4-mapped IPv6 becomes plain IPv4. */
export function dialForm(address: string): { address: string; family: 4 | 6 } {
  const addr = ipaddr.process(address);
  return addr.kind() === 'ipv4'
    ? { address: addr.toString(), family: 4 }
    : { address: (addr as ipaddr.IPv6).toRFC5952String(), family: 6 };
}

/** Parses an allow-list entry (`10.0.0.0/8`, `fd00::/8`); throws on anything else. */
export function parseCidr(cidr: string): Cidr {
  return ipaddr.parseCIDR(cidr);
}
