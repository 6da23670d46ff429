import type { Config } from '@switchyard/config';
import { SwitchyardError, type FieldError, type JobSpec } from '@switchyard/contracts';
import { TargetPolicy } from '@switchyard/scrape';

/**
 * Admission half of the SSRF guard (docs/security.md): refuses a scrape whose URL alone shows it
 * may not go there (scheme, port, an IP literal in a forbidden range, localhost). Host names pass;
 * the worker judges their addresses after DNS, and again at every redirect.
 */
export class ScrapeAdmission {
  private readonly policy: TargetPolicy;

  constructor(config: Config) {
    this.policy = new TargetPolicy(config.scrape);
  }

  /** The refusal of a job's target as a field error (path `request.url`), or undefined. */
  refusal(spec: JobSpec): FieldError | undefined {
    if (spec.type !== 'scrape') return undefined;
    const verdict = this.policy.checkUrl(new URL(spec.request.url));
    return verdict.kind === 'refused' ? { path: 'request.url', message: verdict.reason } : undefined;
  }

  /** Throws `target_forbidden` (400) for a refused scrape target. */
  check(spec: JobSpec): void {
    const refused = this.refusal(spec);
    if (refused) {
      throw new SwitchyardError('target_forbidden', `request.url: ${refused.message}`, { errors: [refused] });
    }
  }
}
