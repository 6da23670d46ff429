import { describe, expect, it } from 'vitest';
import { TargetForbiddenError, TargetLookupError } from './errors.ts';
import { TargetGuard, type LookupAll } from './target-guard.ts';
import { TargetPolicy } from './target-policy.ts';

/** A resolver from a table; counts calls. Nothing here touches the network. */
function fakeDns(table: Record<string, string[] | Error>) {
  const calls: string[] = [];
  const lookup: LookupAll = async (hostname) => {
    calls.push(hostname);
    const answer = table[hostname];
    if (answer instanceof Error) throw answer;
    if (!answer) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
    return answer.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return { lookup, calls };
}

const guardWith = (table: Record<string, string[] | Error>, policy = new TargetPolicy()) => {
  const dns = fakeDns(table);
  return { guard: new TargetGuard({ policy, lookup: dns.lookup }), calls: dns.calls };
};

async function refusal(promise: Promise<unknown>): Promise<TargetForbiddenError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TargetForbiddenError);
  return err as TargetForbiddenError;
}

describe('TargetGuard', () => {
  it('pins a public name to the address it checked: the request names the IP, Host keeps the name', async () => {
    const { guard, calls } = guardWith({ 'example.com': ['93.184.216.34'] });
    const t = await guard.check(new URL('https://example.com:8443/a?b=1'));
    expect(t.address).toBe('93.184.216.34');
    expect(t.connectUrl.href).toBe('https://93.184.216.34:8443/a?b=1');
    expect(t.host).toBe('example.com:8443');
    expect(t.url.href).toBe('https://example.com:8443/a?b=1');
    expect(calls).toEqual(['example.com']);
  });

  it('refuses a name if any one of its addresses is forbidden (every address is checked)', async () => {
    const { guard } = guardWith({ 'mixed.example': ['93.184.216.34', '10.0.0.1'] });
    const err = await refusal(guard.check(new URL('http://mixed.example/')));
    expect(err.code).toBe('target_forbidden');
    expect(err.reason).toBe('RFC 1918 private');
    // The message says what kind of address, never which one (it would map internal DNS).
    expect(err.message).toBe(
      'http://mixed.example is not allowed: "mixed.example" resolves to a forbidden address (RFC 1918 private)',
    );
    expect(err.message).not.toContain('10.0.0.1');
  });

  it.each([
    ['metadata.example', ['169.254.169.254'], 'cloud metadata'],
    ['mapped.example', ['::ffff:127.0.0.1'], 'loopback'],
    ['six.example', ['::1'], 'loopback'],
    ['ula.example', ['fd00::1'], 'unique local'],
    ['nat64.example', ['64:ff9b::a9fe:a9fe'], 'cloud metadata IPv4 inside NAT64'],
  ])('refuses %s resolving to %j', async (name, addresses, reason) => {
    const { guard } = guardWith({ [name]: addresses });
    expect((await refusal(guard.check(new URL(`http://${name}/`)))).reason).toBe(reason);
  });

  it('checks the URL before resolving: literals, localhost, scheme and port need no DNS', async () => {
    const { guard, calls } = guardWith({});
    for (const url of ['http://10.0.0.1/', 'http://localhost/', 'http://[::1]/', 'ftp://x.example/']) {
      await refusal(guard.check(new URL(url)));
    }
    await refusal(guard.check(new URL('http://example.com:6379/')));
    expect((await guard.check(new URL('http://8.8.8.8/'))).connectUrl.href).toBe('http://8.8.8.8/');
    expect(calls).toEqual([]);
  });

  it('resolves once per hop: an answer that changes later cannot swap the checked address', async () => {
    let n = 0;
    const lookup: LookupAll = async () => [{ address: n++ === 0 ? '93.184.216.34' : '127.0.0.1', family: 4 }];
    const guard = new TargetGuard({ policy: new TargetPolicy(), lookup });
    const t = await guard.check(new URL('http://rebind.example/'));
    expect(n).toBe(1);
    expect(t.connectUrl.hostname).toBe('93.184.216.34');
    // The next hop resolves again, and is judged again.
    await refusal(guard.check(new URL('http://rebind.example/'), { redirect: true }));
  });

  it('prefers IPv4, pins IPv6 in brackets, and dials IPv4-mapped answers as IPv4', async () => {
    const { guard } = guardWith({
      dual: ['2606:2800:220:1:248:1893:25c8:1946', '93.184.216.34'],
      v6: ['2606:2800:220:1:248:1893:25c8:1946'],
      mapped: ['::ffff:93.184.216.34'],
    });
    expect((await guard.check(new URL('http://dual/'))).address).toBe('93.184.216.34');
    expect((await guard.check(new URL('http://v6:8080/'))).connectUrl.host).toBe(
      '[2606:2800:220:1:248:1893:25c8:1946]:8080',
    );
    expect((await guard.check(new URL('http://mapped/'))).connectUrl.hostname).toBe('93.184.216.34');
  });

  it('an allow-listed range passes after DNS too', async () => {
    const policy = new TargetPolicy({ allowCidrs: ['10.20.0.0/16'] });
    const { guard } = guardWith(
      { 'intranet.example': ['10.20.1.2'], 'other.example': ['10.30.1.2'] },
      policy,
    );
    expect((await guard.check(new URL('http://intranet.example/'))).address).toBe('10.20.1.2');
    await refusal(guard.check(new URL('http://other.example/')));
  });

  it('names redirect hops in the refusal', async () => {
    const { guard } = guardWith({});
    const err = await refusal(guard.check(new URL('http://169.254.169.254/latest'), { redirect: true }));
    expect(err.message).toBe(
      'the redirect to http://169.254.169.254 is not allowed: 169.254.169.254 is a forbidden address (cloud metadata)',
    );
  });

  it('a failed or empty lookup is a TargetLookupError carrying the resolver code', async () => {
    const { guard } = guardWith({
      gone: Object.assign(new Error('x'), { code: 'EAI_AGAIN' }),
      empty: [],
    });
    await expect(guard.check(new URL('http://gone/'))).rejects.toMatchObject({
      name: 'TargetLookupError',
      code: 'EAI_AGAIN',
    });
    await expect(guard.check(new URL('http://empty/'))).rejects.toBeInstanceOf(TargetLookupError);
    await expect(guard.check(new URL('http://missing/'))).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('a lookup that hangs ends with the attempt signal', async () => {
    const guard = new TargetGuard({ policy: new TargetPolicy(), lookup: () => new Promise(() => undefined) });
    const signal = AbortSignal.timeout(20);
    await expect(guard.check(new URL('http://slow.example/'), { signal })).rejects.toMatchObject({
      name: 'TimeoutError',
    });
  });
});
