import { describe, expect, it } from 'vitest';
import { addressRefusal, parseCidr } from './address-rules.ts';
import { TargetPolicy } from './target-policy.ts';

/** Pure: URLs are parsed and judged, nothing is resolved or dialled. */
const verdict = (url: string, policy = new TargetPolicy()) => policy.checkUrl(new URL(url));

describe('scrape target rules (no DNS, no connection)', () => {
  // [URL as a client could write it, what it is]
  const refused: [string, string][] = [
    ['http://127.0.0.1/', 'loopback'],
    ['http://127.1/', 'loopback, short form'],
    ['http://2130706433/', 'loopback as one decimal number'],
    ['http://0x7f.1/', 'loopback in hex, short form'],
    ['http://0177.0.0.1/', 'loopback in octal'],
    ['http://0x7f000001/', 'loopback as one hex number'],
    ['http://017700000001/', 'loopback as one octal number'],
    ['http://127.0.0.1./', 'loopback with a trailing dot'],
    ['http://127.255.255.254:8080/', 'the rest of 127/8'],
    ['http://[::1]/', 'IPv6 loopback'],
    ['http://[0:0:0:0:0:0:0:1]/', 'IPv6 loopback, long form'],
    ['http://[::ffff:127.0.0.1]/', 'IPv4-mapped loopback'],
    ['http://[::ffff:7f00:1]/', 'IPv4-mapped loopback in hex'],
    ['http://[::127.0.0.1]/', 'IPv4-compatible (deprecated) loopback'],
    ['http://localhost/', 'localhost'],
    ['http://LOCALHOST./', 'localhost, upper case with a trailing dot'],
    ['http://api.localhost/', 'a .localhost name'],
    ['http://0.0.0.0/', 'unspecified'],
    ['http://0/', 'unspecified as one number'],
    ['http://[::]/', 'IPv6 unspecified'],
    ['http://10.0.0.1/', 'RFC 1918 10/8'],
    ['http://10.1/', 'RFC 1918, short form'],
    ['http://0x0a000001/', 'RFC 1918 as one hex number'],
    ['http://172.16.5.4/', 'RFC 1918 172.16/12'],
    ['http://172.31.255.255/', 'RFC 1918 172.16/12, top'],
    ['http://192.168.1.1/', 'RFC 1918 192.168/16'],
    ['http://169.254.169.254/latest/meta-data/', 'cloud metadata'],
    ['http://2852039166/', 'cloud metadata as one decimal number'],
    ['http://0xa9.0xfe.0xa9.0xfe/', 'cloud metadata in hex'],
    ['http://0251.0376.0251.0376/', 'cloud metadata in octal'],
    ['http://[::ffff:169.254.169.254]/', 'IPv4-mapped cloud metadata'],
    ['http://[fd00:ec2::254]/', 'AWS IPv6 metadata'],
    ['http://100.100.100.200/', 'Alibaba metadata'],
    ['http://169.254.1.1/', 'link-local'],
    ['http://[fe80::1]/', 'IPv6 link-local'],
    ['http://[fc00::1]/', 'unique local fc00::/7'],
    ['http://[fd12:3456::1]/', 'unique local fd00::/8'],
    ['http://[fec0::1]/', 'deprecated site-local'],
    ['http://100.64.0.1/', 'carrier-grade NAT'],
    ['http://100.127.255.254/', 'carrier-grade NAT, top'],
    ['http://224.0.0.1/', 'multicast'],
    ['http://[ff02::1]/', 'IPv6 multicast'],
    ['http://255.255.255.255/', 'broadcast'],
    ['http://240.0.0.1/', 'reserved 240/4'],
    ['http://192.0.0.8/', 'IETF protocol assignments'],
    ['http://192.0.2.1/', 'documentation TEST-NET-1'],
    ['http://198.51.100.7/', 'documentation TEST-NET-2'],
    ['http://203.0.113.9/', 'documentation TEST-NET-3'],
    ['http://[2001:db8::1]/', 'IPv6 documentation'],
    ['http://198.18.0.1/', 'benchmarking 198.18/15'],
    ['http://198.19.255.255/', 'benchmarking 198.18/15, top'],
    ['http://[2001:2::1]/', 'IPv6 benchmarking'],
    ['http://[2002:7f00:1::]/', '6to4 embedding 127.0.0.1'],
    ['http://[2002:a9fe:a9fe::1]/', '6to4 embedding the metadata address'],
    ['http://[2002:c0a8:101::1]/', '6to4 embedding 192.168.1.1'],
    ['http://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/', 'Teredo, client 10.0.0.1'],
    ['http://[2001:0:a00:1:8000:63bf:f7f7:f7f7]/', 'Teredo, server 10.0.0.1'],
    ['http://[64:ff9b::a9fe:a9fe]/', 'NAT64 embedding the metadata address'],
    ['http://[64:ff9b::127.0.0.1]/', 'NAT64 embedding loopback'],
    ['http://[64:ff9b::10.0.0.1]/', 'NAT64 embedding 10.0.0.1'],
    ['http://[64:ff9b:1::808:808]/', 'local-use NAT64 prefix'],
    ['http://[100::1]/', 'IPv6 discard-only'],
    ['http://[::ffff:0:a00:1]/', 'IPv4-translated (RFC 6145)'],
    ['ftp://example.com/', 'ftp scheme'],
    ['file:///etc/passwd', 'file scheme'],
    ['gopher://example.com:70/', 'gopher scheme'],
    ['ws://example.com/', 'websocket scheme'],
    ['http://example.com:22/', 'ssh port'],
    ['http://example.com:6379/', 'redis port'],
    ['https://example.com:25/', 'smtp port'],
    ['http://example.com:0/', 'port 0'],
  ];

  it.each(refused)('refuses %s (%s)', (url) => {
    expect(verdict(url)).toMatchObject({ kind: 'refused' });
  });

  it('covers at least 30 refused spellings', () => {
    expect(refused.length).toBeGreaterThanOrEqual(30);
  });

  it.each([
    ['http://example.com/', 'name'],
    ['https://example.com/path?q=1', 'name'],
    ['https://example.com:8443/', 'name'],
    ['http://example.com:8080/', 'name'],
    ['http://example.com:443/', 'name'],
    ['http://93.184.216.34/', 'addresses'],
    ['http://8.8.8.8:8080/', 'addresses'],
    ['http://1.1.1.1./', 'addresses'],
    ['http://[2606:4700:4700::1111]/', 'addresses'],
    ['http://[::ffff:8.8.8.8]/', 'addresses'],
    ['http://[2002:808:808::1]/', 'addresses'],
    ['http://[64:ff9b::808:808]/', 'addresses'],
    ['http://[2001:0:4136:e378:8000:63bf:f7f7:f7f7]/', 'addresses'],
    ['http://172.32.0.1/', 'addresses'],
    ['http://100.128.0.1/', 'addresses'],
    ['http://192.169.0.1/', 'addresses'],
  ])('allows %s', (url, kind) => {
    expect(verdict(url)).toMatchObject({ kind });
  });

  it('names the kind of address and never lets a spelling hide it', () => {
    expect(verdict('http://0x7f.1/')).toEqual({
      kind: 'refused',
      reason: '127.0.0.1 is a forbidden address (loopback)',
    });
    expect(verdict('http://2852039166/')).toMatchObject({
      reason: expect.stringContaining('cloud metadata'),
    });
    expect(verdict('http://[64:ff9b::a9fe:a9fe]/')).toMatchObject({
      reason: '64:ff9b::a9fe:a9fe is a forbidden address (cloud metadata IPv4 inside NAT64)',
    });
    expect(verdict('http://255.255.255.255/')).toMatchObject({
      reason: expect.stringContaining('broadcast'),
    });
    expect(verdict('http://example.com:22/')).toMatchObject({
      reason: 'port 22 is not allowed (allowed: 80, 443, 8080, 8443)',
    });
  });
});

describe('operator allow-lists', () => {
  const dev = new TargetPolicy({ allowCidrs: ['127.0.0.0/8'], allowPorts: 'any' });

  it('127.0.0.0/8 with any port admits loopback IPv4 on any port, and nothing else private', () => {
    expect(verdict('http://127.0.0.1:6379/', dev)).toMatchObject({ kind: 'addresses' });
    expect(verdict('http://127.0.0.3:41234/page', dev)).toMatchObject({ kind: 'addresses' });
    expect(verdict('http://[::ffff:127.0.0.1]:9/', dev)).toMatchObject({ kind: 'addresses' });
    expect(verdict('http://10.0.0.1/', dev)).toMatchObject({ kind: 'refused' });
    expect(verdict('http://169.254.169.254/', dev)).toMatchObject({ kind: 'refused' });
    // ::1 is not in 127.0.0.0/8, and localhost means both.
    expect(verdict('http://[::1]/', dev)).toMatchObject({ kind: 'refused' });
    expect(verdict('http://localhost:3000/', dev)).toMatchObject({ kind: 'refused' });
    // Transition addresses are judged by the IPv4 they carry, without the allow-list.
    expect(verdict('http://[2002:7f00:1::]/', dev)).toMatchObject({ kind: 'refused' });
  });

  it('localhost passes when both loopback addresses are allow-listed', () => {
    const both = new TargetPolicy({ allowCidrs: ['127.0.0.0/8', '::1/128'], allowPorts: 'any' });
    expect(verdict('http://localhost:3000/', both)).toEqual({
      kind: 'addresses',
      addresses: ['127.0.0.1', '::1'],
    });
  });

  it('a metadata address stays refused inside a broader allow-listed range, unless named exactly', () => {
    const linkLocal = new TargetPolicy({ allowCidrs: ['169.254.0.0/16', 'fd00::/8'] });
    expect(verdict('http://169.254.1.1/', linkLocal)).toMatchObject({ kind: 'addresses' });
    expect(verdict('http://169.254.169.254/', linkLocal)).toMatchObject({ kind: 'refused' });
    expect(verdict('http://[fd00:ec2::254]/', linkLocal)).toMatchObject({ kind: 'refused' });
    const exact = new TargetPolicy({ allowCidrs: ['169.254.169.254/32'] });
    expect(verdict('http://169.254.169.254/', exact)).toMatchObject({ kind: 'addresses' });
  });

  it('allowPorts replaces the default set', () => {
    const p = new TargetPolicy({ allowPorts: [3000] });
    expect(verdict('http://example.com:3000/', p)).toMatchObject({ kind: 'name' });
    expect(verdict('http://example.com/', p)).toMatchObject({
      kind: 'refused',
      reason: expect.stringContaining('80'),
    });
  });

  it('refuses a bad CIDR at construction, naming the setting', () => {
    expect(() => new TargetPolicy({ allowCidrs: ['10.0.0.0/33'] })).toThrow(/scrape\.allowCidrs/);
    expect(() => new TargetPolicy({ allowCidrs: ['not-a-cidr'] })).toThrow(/scrape\.allowCidrs/);
  });
});

describe('addressRefusal (what DNS answers are judged by)', () => {
  it.each([
    ['127.0.0.1'],
    ['10.255.255.255'],
    ['172.20.0.1'],
    ['192.168.0.1'],
    ['169.254.169.254'],
    ['100.100.100.200'],
    ['::1'],
    ['::ffff:10.0.0.1'],
    ['::ffff:169.254.169.254'],
    ['fd00:ec2::254'],
    ['fe80::1%eth0'],
    ['fc00::'],
    ['0.0.0.0'],
    ['::'],
    ['not an address'],
  ])('refuses %s', (address) => {
    expect(addressRefusal(address)).toBeDefined();
  });

  it.each([['93.184.216.34'], ['2606:2800:220:1:248:1893:25c8:1946'], ['::ffff:93.184.216.34'], ['1.1.1.1']])(
    'allows %s',
    (address) => {
      expect(addressRefusal(address)).toBeUndefined();
    },
  );

  it('an allow-listed CIDR admits the addresses inside it only', () => {
    const allow = [parseCidr('10.1.0.0/16'), parseCidr('fd00:1::/32')];
    expect(addressRefusal('10.1.2.3', allow)).toBeUndefined();
    expect(addressRefusal('::ffff:10.1.2.3', allow)).toBeUndefined();
    expect(addressRefusal('fd00:1::5', allow)).toBeUndefined();
    expect(addressRefusal('10.2.0.1', allow)).toBe('RFC 1918 private');
    expect(addressRefusal('fd00:2::5', allow)).toBe('unique local');
  });
});
