import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { formatPoolTable } from './format-table.ts';
import { redactProxyUrl } from './redact.ts';
import { interactive, leaseOk, openTestPool, proxySpec, type TestPool } from './test-support.ts';

describe('credentials never leave the pool', () => {
  let t: TestPool | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('redactProxyUrl hides user, password, path and query', () => {
    expect(redactProxyUrl('http://user:p%40ss@10.0.0.1:3128/x?token=abc')).toBe('http://***@10.0.0.1:3128');
    expect(redactProxyUrl('https://onlyuser@proxy.example:8443')).toBe('https://***@proxy.example:8443');
    expect(redactProxyUrl('http://10.0.0.1:3128')).toBe('http://10.0.0.1:3128');
    expect(redactProxyUrl('not a url with secret')).toBe('[invalid proxy url]');
  });

  it('list, the table and a logged lease show no credentials; the lease still carries its URL', async () => {
    t = await openTestPool();
    await t.pool.upsert(proxySpec('a', { url: 'http://alice:s3cret@127.0.0.1:3128' }));
    const lease = await leaseOk(t.pool, interactive('x.test'));
    expect(lease.proxyUrl).toBe('http://alice:s3cret@127.0.0.1:3128');
    const list = await t.pool.list();
    for (const shown of [
      JSON.stringify(list),
      formatPoolTable(list),
      JSON.stringify(lease),
      inspect(lease),
    ]) {
      expect(shown).not.toContain('s3cret');
      expect(shown).not.toContain('alice');
    }
    expect(list[0]?.url).toBe('http://***@127.0.0.1:3128');
  });
});

describe('formatPoolTable', () => {
  it('renders a summary line and one aligned row per proxy', () => {
    const now = 1_700_000_000_000;
    const base = {
      tags: ['dc'],
      maxConcurrency: 10,
      pricePerGbUsd: 1,
      outcomes: {
        ok: 0,
        rate_limited: 0,
        blocked: 0,
        proxy_fault: 0,
        upstream_fault: 0,
        client_fault: 0,
        canceled: 0,
        expired: 0,
      },
      bytes: 0,
      consecutiveFaults: 0,
      cooling: [],
      banned: [],
    };
    const table = formatPoolTable(
      [
        {
          ...base,
          id: 'p11',
          url: 'http://***@127.0.0.11:3128',
          state: 'available',
          inFlight: 3,
          bytes: 5 * 1024 * 1024,
          country: 'US',
        },
        {
          ...base,
          id: 'p12',
          url: 'http://127.0.0.12:3128',
          state: 'cooling',
          inFlight: 0,
          outcomes: { ...base.outcomes, ok: 120, rate_limited: 4 },
          cooling: [
            { host: 'api.example.com', until: now + 12_000 },
            { host: 'b.example.com', until: now + 30_000 },
          ],
        },
        {
          ...base,
          id: 'p13',
          url: 'http://127.0.0.13:3128',
          state: 'quarantined',
          inFlight: 0,
          quarantinedUntil: now + 90_000,
          consecutiveFaults: 2,
        },
      ],
      { now },
    );
    const lines = table.trimEnd().split('\n');
    expect(lines[0]).toBe('3 proxies: 1 available, 1 cooling, 1 quarantined, 0 draining | in flight 3/30');
    expect(lines[2]).toMatch(/^ID\s+STATE\s+LOAD\s+OK\s+429/);
    expect(lines[3]).toMatch(
      /^p11\s+available\s+3\/10\s.*5\.0 MB.*dc,US\s+http:\/\/\*\*\*@127\.0\.0\.11:3128$/,
    );
    expect(lines[4]).toContain('api.example.com 12s +1');
    expect(lines[5]).toContain('1m30s (x2)');
    // columns line up
    const col = (line: string | undefined) => line?.indexOf(line.split(/\s{2,}/)[1] ?? '');
    expect(new Set(lines.slice(2).map(col)).size).toBe(1);
  });
});
