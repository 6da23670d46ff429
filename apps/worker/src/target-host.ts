import type { Config } from '@switchyard/config';
import type { JobSpec } from '@switchyard/contracts';

/** The host an attempt of this job calls: the scrape URL's, or the model's base URL's. */
export function targetHost(spec: JobSpec, modelName: string | null, config: Config): string {
  if (spec.type === 'scrape') return new URL(spec.request.url).host;
  const model = config.models[modelName ?? spec.request.model];
  return model ? new URL(model.baseUrl).host : 'unknown';
}
