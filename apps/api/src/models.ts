import type { Config } from '@switchyard/config';
import { SwitchyardError, type JobSpec } from '@switchyard/contracts';

/** Admission: every model a completion may ask (the model and its fallbacks) must be configured. */
export function checkModels(spec: JobSpec, config: Config): void {
  if (spec.type !== 'completion') return;
  const names = [spec.request.model, ...(spec.fallbacks ?? [])];
  const unknown = names.filter((n) => !Object.hasOwn(config.models, n));
  if (unknown.length) {
    throw new SwitchyardError('unknown_model', `not configured: ${unknown.join(', ')}`, {
      errors: unknown.map((n) => ({
        path: n === spec.request.model ? 'request.model' : `fallbacks[${spec.fallbacks?.indexOf(n) ?? 0}]`,
        message: `unknown model "${n}"`,
      })),
    });
  }
}
