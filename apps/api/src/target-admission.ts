import type { Config } from '@switchyard/config';
import { SwitchyardError, type FieldError, type JobSpec } from '@switchyard/contracts';
import { TargetPolicy } from '@switchyard/scrape';

/**
 * Admission half of the SSRF guard (docs/security.md), for the two kinds of URL a tenant hands
 * the workers: scrape targets (`scrape.allowCidrs`/`allowPorts`) and webhook receivers
 * (`webhooks.allowCidrs`/`allowPorts`). Refuses a URL whose text alone shows it may not go there
 * (scheme, port, an IP literal in a forbidden range, localhost). Host names pass; the worker
 * judges their addresses after DNS (scrapes: at every redirect too).
 */
export class TargetAdmission {
  private readonly scrape: TargetPolicy;
  private readonly webhooks: TargetPolicy;

  constructor(config: Config) {
    this.scrape = new TargetPolicy(config.scrape);
    this.webhooks = new TargetPolicy({ ...config.webhooks, section: 'webhooks' });
  }

  /** The first refusal among a job's URLs as a field error (`request.url`, `webhook.url`). */
  refusal(spec: JobSpec): FieldError | undefined {
    if (spec.type === 'scrape') {
      const refused = refusalOf(this.scrape, spec.request.url, 'request.url');
      if (refused) return refused;
    }
    return spec.webhook ? this.webhookRefusal(spec.webhook.url, 'webhook.url') : undefined;
  }

  /** The refusal of a webhook URL (e.g. a batch's `webhook_url`), or undefined. */
  webhookRefusal(url: string, path: string): FieldError | undefined {
    return refusalOf(this.webhooks, url, path);
  }

  /** Throws `target_forbidden` (400) for a refused scrape target or webhook URL. */
  check(spec: JobSpec): void {
    throwIfRefused(this.refusal(spec));
  }

  checkWebhook(url: string, path: string): void {
    throwIfRefused(this.webhookRefusal(url, path));
  }
}

function refusalOf(policy: TargetPolicy, url: string, path: string): FieldError | undefined {
  const verdict = policy.checkUrl(new URL(url));
  return verdict.kind === 'refused' ? { path, message: verdict.reason } : undefined;
}

function throwIfRefused(refused: FieldError | undefined): void {
  if (refused) {
    throw new SwitchyardError('target_forbidden', `${refused.path}: ${refused.message}`, {
      errors: [refused],
    });
  }
}
