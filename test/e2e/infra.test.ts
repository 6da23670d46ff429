import { loadConfig } from '@switchyard/config';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';
import { alertRules, scaledObjects } from './support/metric-names.ts';

/**
 * The deployment files in infra/ cannot be run here (no container runtime), so what can be
 * checked without one is: the Switchyard config they carry loads with the real schema, and they
 * start only apps and flags that exist.
 */
const file = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

interface ComposeService {
  build?: { args?: { APP?: string } };
  command?: string[];
  ports?: unknown[];
  expose?: string[];
  container_name?: string;
  profiles?: string[];
  volumes?: string[];
}
// Compose files share settings through YAML merge keys (`<<: *app`), as Docker Compose reads them.
const compose = () =>
  parse(file('infra/compose/docker-compose.yml'), { merge: true }) as {
    services: Record<string, ComposeService>;
  };
const lanesOf = (args: string[] | undefined) => {
  const i = args?.indexOf('--lanes') ?? -1;
  return i >= 0 ? args?.[i + 1] : undefined;
};

describe('infra/', () => {
  it('the compose stack’s config loads, and its services run real apps with real flags', () => {
    const config = loadConfig({
      env: {},
      file: new URL('../../infra/compose/switchyard.yaml', import.meta.url).pathname,
    });
    expect(config.api.host).toBe('0.0.0.0');
    expect(Object.keys(config.models)).toEqual(['gpt-4o-mini']);
    const { services } = compose();
    const apps = Object.values(services).flatMap((s) => (s.build?.args?.APP ? [s.build.args.APP] : []));
    expect(new Set(apps)).toEqual(new Set(['api', 'worker']));
    const lanes = Object.values(services).flatMap((s) => {
      const lane = lanesOf(s.command);
      return lane ? [lane] : [];
    });
    expect(lanes.sort()).toEqual(['batch', 'interactive']);
  });

  it('`docker compose up --scale worker=N` can run: the worker services publish no host port', () => {
    const { services } = compose();
    const config = loadConfig({
      env: {},
      file: new URL('../../infra/compose/switchyard.yaml', import.meta.url).pathname,
    });
    // `worker` is the batch lane (the one a backlog scales); the interactive lane scales apart.
    expect(lanesOf(services.worker?.command)).toBe('batch');
    const workers = Object.entries(services).filter(([, s]) => s.build?.args?.APP === 'worker');
    expect(workers.map(([name]) => name).sort()).toEqual(['worker', 'worker-interactive']);
    for (const [name, s] of workers) {
      // A published host port or a container name can be taken only once: scaling would fail.
      expect(s.ports, name).toBeUndefined();
      expect(s.container_name, name).toBeUndefined();
      // Each container serves /metrics on the same fixed port inside its own network namespace.
      expect(s.expose, name).toEqual([String(config.worker.metricsPort)]);
    }
    expect(config.worker.metricsPort).toBe(9464);
    expect(config.worker.metricsHost).toBe('0.0.0.0');
  });

  it('compose runs Redis with AOF fsynced every second and noeviction, and says what everysec can lose', () => {
    const command = compose().services.redis?.command ?? [];
    const flag = (name: string) => command[command.indexOf(name) + 1];
    expect(command[0]).toBe('redis-server');
    expect(flag('--appendonly')).toBe('yes');
    expect(flag('--appendfsync')).toBe('everysec');
    expect(flag('--maxmemory-policy')).toBe('noeviction');
    expect(file('infra/compose/docker-compose.yml')).toMatch(/last second of acknowledged writes/);
  });

  it('the compose monitoring profile loads the alert rules and finds every scaled worker by DNS', () => {
    const { services } = compose();
    expect(services.prometheus?.profiles).toEqual(['monitoring']);
    expect(services.prometheus?.volumes).toContain('../prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro');
    expect(services.grafana?.volumes).toContain(
      '../grafana/switchyard.json:/var/lib/grafana/dashboards/switchyard.json:ro',
    );
    const prom = parse(file('infra/prometheus/prometheus.yml')) as {
      rule_files: string[];
      scrape_configs: { job_name: string; dns_sd_configs: { names: string[]; port: number }[] }[];
    };
    expect(prom.rule_files).toEqual(['alerts.yml']);
    const targets = prom.scrape_configs.flatMap((c) =>
      c.dns_sd_configs.flatMap((d) => d.names.map((n) => `${n}:${d.port}`)),
    );
    expect(targets.sort()).toEqual(['api:8080', 'worker-interactive:9464', 'worker:9464']);
  });

  it('the Kubernetes ConfigMap’s config loads, and the worker Deployments split the lanes', () => {
    const docs = parseAllDocuments(file('infra/k8s/switchyard.yaml')).map((d) => d.toJS() as K8sDoc);
    const map = docs.find((d) => d.kind === 'ConfigMap');
    const yamlText = map?.data?.['switchyard.yaml'] ?? '';
    const config = loadConfig({ env: {}, defaults: parse(yamlText) as Record<string, unknown> });
    expect(config.worker.metricsHost).toBe('0.0.0.0');
    const workers = docs.filter((d) => d.kind === 'Deployment' && d.metadata.name.includes('worker'));
    const args = workers.map((d) => d.spec?.template.spec.containers[0]?.args ?? []);
    expect(args.map((a) => a[a.indexOf('--lanes') + 1]).sort()).toEqual(['batch', 'interactive']);
  });

  it('KEDA scales each lane’s workers apart, on its ready depth and oldest-ready age, below its SLO', () => {
    const docs = parseAllDocuments(file('infra/k8s/switchyard.yaml')).map((d) => d.toJS() as K8sDoc);
    const map = docs.find((d) => d.kind === 'ConfigMap');
    const config = loadConfig({
      env: {},
      defaults: parse(map?.data?.['switchyard.yaml'] ?? '') as Record<string, unknown>,
    });
    const workers = docs.filter((d) => d.kind === 'Deployment' && d.metadata.name.includes('worker'));
    const objects = scaledObjects();
    expect(objects.map((o) => o.spec.scaleTargetRef.name).sort()).toEqual(
      workers.map((w) => w.metadata.name).sort(),
    );
    const slo = (lane: string) => {
      const rule = alertRules().find((r) =>
        r.expr?.includes(`switchyard_lane_oldest_ready_seconds{lane="${lane}"}`),
      );
      return Number(/>\s*(\d+)\s*$/.exec(rule?.expr ?? '')?.[1]);
    };
    for (const w of workers) {
      const lane = lanesOf(w.spec?.template.spec.containers[0]?.args) as 'interactive' | 'batch';
      const o = objects.find((x) => x.spec.scaleTargetRef.name === w.metadata.name);
      if (!o) throw new Error(`no ScaledObject for ${w.metadata.name}`);
      // Every lane matcher of the object's queries names its own lane.
      const queries = o.spec.triggers.map((tr) => tr.metadata.query);
      for (const q of queries) for (const m of q.matchAll(/lane="([^"]+)"/g)) expect(m[1], q).toBe(lane);
      const depth = o.spec.triggers.find((tr) => tr.metadata.query.includes('switchyard_lane_ready_jobs'));
      const age = o.spec.triggers.find((tr) =>
        tr.metadata.query.includes('switchyard_lane_oldest_ready_seconds'),
      );
      expect(depth?.type, lane).toBe('prometheus');
      expect(depth?.metricType, lane).toBe('AverageValue');
      // Jobs per replica: a whole multiple of the lane's worker concurrency.
      expect(Number(depth?.metadata.threshold) % config.worker.concurrency[lane], lane).toBe(0);
      expect(age?.metricType, lane).toBe('Value');
      const ageThreshold = Number(age?.metadata.threshold);
      expect(ageThreshold, lane).toBeGreaterThan(0);
      expect(ageThreshold, lane).toBeLessThan(slo(lane));
    }
    // Interactive never scales to zero: a cold start is longer than its SLO.
    const interactive = objects.find((o) => o.spec.scaleTargetRef.name === 'switchyard-worker-interactive');
    expect(interactive?.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
  });
});

interface K8sDoc {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec?: { template: { spec: { containers: { args?: string[] }[] } } };
}
