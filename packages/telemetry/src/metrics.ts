import { collectDefaultMetrics, Registry } from 'prom-client';

export { Registry } from 'prom-client';

/** One registry per process, with Node's default metrics and an `app` label. */
export function createRegistry(app: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ app });
  collectDefaultMetrics({ register: registry });
  return registry;
}
