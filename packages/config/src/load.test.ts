import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attemptTtlSeconds } from './derived.ts';
import { ConfigError, loadConfig } from './load.ts';

function file(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'sy-config-')), name);
  writeFileSync(path, text);
  return path;
}

describe('loadConfig', () => {
  it('runs with nothing configured, on sensible defaults', () => {
    const cfg = loadConfig({ env: {} });
    expect(cfg.redis.url).toBe('redis://127.0.0.1:6379');
    expect(cfg.api.port).toBe(8080);
    expect(cfg.jobs.retentionSeconds).toBeGreaterThanOrEqual(cfg.jobs.idempotencyTtlSeconds);
  });

  it('REDIS_CLUSTER names seed nodes of a Redis Cluster; redis.url and redis.cluster together are refused', () => {
    const cfg = loadConfig({ env: { REDIS_CLUSTER: '10.0.0.1:7000, 10.0.0.2:7001' } });
    expect(cfg.redis.cluster).toEqual(['10.0.0.1:7000', '10.0.0.2:7001']);
    expect(cfg.redis.waitReplicas).toBe(0);
    expect(() => loadConfig({ env: { REDIS_CLUSTER: 'a:1', REDIS_URL: 'redis://r:6380' } })).toThrow(
      /redis\.url \(REDIS_URL\) and redis\.cluster \(REDIS_CLUSTER\) are both set/,
    );
    expect(() => loadConfig({ env: { REDIS_CLUSTER: 'redis://a:1' } })).toThrow(/redis\.cluster/);
    expect(() => loadConfig({ env: {}, defaults: { redis: { waitReplicas: -1 } } })).toThrow(/waitReplicas/);
  });

  it('reads YAML from SWITCHYARD_CONFIG and lets env override it', () => {
    const path = file(
      'c.yaml',
      [
        'api: { port: 9000 }',
        'models:',
        '  gpt-4o-mini:',
        '    baseUrl: https://api.openai.com/v1',
        '    apiKeyEnv: OPENAI_API_KEY',
        '    upstreamModel: gpt-4o-mini',
        '    price: { inputPerMTok: 0.15, outputPerMTok: 0.6 }',
      ].join('\n'),
    );
    const cfg = loadConfig({ env: { SWITCHYARD_CONFIG: path, PORT: '9100', REDIS_URL: 'redis://r:6380' } });
    expect(cfg.api.port).toBe(9100);
    expect(cfg.redis.url).toBe('redis://r:6380');
    expect(cfg.models['gpt-4o-mini']).toMatchObject({
      provider: 'openai',
      egress: 'direct',
      timeoutMs: 60_000,
    });
  });

  it('a bad value stops start-up with a message naming the key', () => {
    const path = file(
      'c.json',
      JSON.stringify({ worker: { concurrency: { batch: -1 } }, api: { porrt: 1 } }),
    );
    expect(() => loadConfig({ env: { SWITCHYARD_CONFIG: path } })).toThrow(ConfigError);
    try {
      loadConfig({ env: { SWITCHYARD_CONFIG: path } });
    } catch (err) {
      expect((err as Error).message).toContain('worker.concurrency.batch');
      expect((err as Error).message).toContain('porrt');
    }
  });

  it('the scrape SSRF allow-lists: public targets on 80/443/8080/8443 by default; bad entries are named', () => {
    expect(loadConfig({ env: {} }).scrape).toMatchObject({
      allowCidrs: [],
      allowPorts: [80, 443, 8080, 8443],
    });
    const path = file('s.yaml', 'scrape: { allowCidrs: [127.0.0.0/8, "fd00::/8"], allowPorts: any }');
    expect(loadConfig({ env: { SWITCHYARD_CONFIG: path } }).scrape).toMatchObject({
      allowCidrs: ['127.0.0.0/8', 'fd00::/8'],
      allowPorts: 'any',
    });
    const bad = file('b.yaml', 'scrape: { allowCidrs: [10.0.0.0/33], allowPorts: [0] }');
    const message = (() => {
      try {
        loadConfig({ env: { SWITCHYARD_CONFIG: bad } });
      } catch (err) {
        return (err as ConfigError).message;
      }
      return '';
    })();
    expect(message).toContain('scrape.allowCidrs.0');
    expect(message).toContain('scrape.allowPorts');
  });

  it("a model's response cache: off unless configured; ttlS a positive number of seconds up to 30 days", () => {
    const model = { baseUrl: 'https://api.openai.com/v1', upstreamModel: 'm' };
    const load = (cache: unknown) =>
      loadConfig({ env: {}, defaults: { models: { m: { ...model, cache } } } });
    expect(loadConfig({ env: {}, defaults: { models: { m: model } } }).models.m?.cache).toBeUndefined();
    expect(load({ ttlS: 600 }).models.m?.cache).toEqual({ ttlS: 600 });
    for (const bad of [{ ttlS: 0 }, { ttlS: 30 * 86_400 + 1 }, { ttl: 5 }])
      expect(() => load(bad), JSON.stringify(bad)).toThrow(/models\.m\.cache/);
  });

  it('a non-numeric PORT is named', () => {
    expect(() => loadConfig({ env: { PORT: 'eighty' } })).toThrow(/PORT \(api\.port\)/);
  });

  it('retention shorter than the idempotency window is refused', () => {
    const path = file('c.yaml', 'jobs: { idempotencyTtlSeconds: 100, retentionSeconds: 50 }');
    expect(() => loadConfig({ env: { SWITCHYARD_CONFIG: path } })).toThrow(/jobs\.retentionSeconds/);
  });

  it('a missing file is named', () => {
    expect(() => loadConfig({ env: { SWITCHYARD_CONFIG: '/nonexistent/sy.yaml' } })).toThrow(
      /\/nonexistent\/sy\.yaml/,
    );
  });

  it('scrape and webhooks take one SSRF policy shape, with the same defaults and the same checks', () => {
    const cfg = loadConfig({ env: {} });
    const policy = (section: { allowCidrs: unknown; allowPorts: unknown }) => ({
      allowCidrs: section.allowCidrs,
      allowPorts: section.allowPorts,
    });
    expect(policy(cfg.webhooks)).toEqual(policy(cfg.scrape));
    for (const section of ['scrape', 'webhooks']) {
      const bad = file(
        'c.json',
        JSON.stringify({ [section]: { allowCidrs: ['10.0.0.0/33'], allowPorts: [] } }),
      );
      expect(() => loadConfig({ env: { SWITCHYARD_CONFIG: bad } })).toThrow(
        new RegExp(`${section}\\.allowCidrs\\.0[^\\n]*a CIDR[\\s\\S]*${section}\\.allowPorts`),
      );
    }
  });

  it('derives the attempt records TTL from the retention, in one place', () => {
    const cfg = loadConfig({
      env: {},
      defaults: { jobs: { retentionSeconds: 7200, idempotencyTtlSeconds: 60 } },
    });
    expect(attemptTtlSeconds(cfg)).toBe(7200 + 3600);
  });
});
