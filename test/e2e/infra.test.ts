import { loadConfig } from '@switchyard/config';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse } from 'yaml';

/**
 * The deployment files in infra/ cannot be run here (no container runtime), so what can be
 * checked without one is: the Switchyard config they carry loads with the real schema, and they
 * start only apps and flags that exist.
 */
const file = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('infra/', () => {
  it('the compose stack’s config loads, and its services run real apps with real flags', () => {
    const config = loadConfig({
      env: {},
      file: new URL('../../infra/compose/switchyard.yaml', import.meta.url).pathname,
    });
    expect(config.api.host).toBe('0.0.0.0');
    expect(Object.keys(config.models)).toEqual(['gpt-4o-mini']);
    const compose = parse(file('infra/compose/docker-compose.yml')) as {
      services: Record<string, { build?: { args?: { APP?: string } }; command?: string[] }>;
    };
    const apps = Object.values(compose.services).flatMap((s) =>
      s.build?.args?.APP ? [s.build.args.APP] : [],
    );
    expect(new Set(apps)).toEqual(new Set(['api', 'worker']));
    const lanes = Object.values(compose.services).flatMap((s) => {
      const i = s.command?.indexOf('--lanes') ?? -1;
      return i >= 0 ? [s.command?.[i + 1]] : [];
    });
    expect(lanes.sort()).toEqual(['batch', 'interactive']);
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
});

interface K8sDoc {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec?: { template: { spec: { containers: { args?: string[] }[] } } };
}
