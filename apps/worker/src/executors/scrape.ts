import type { Config } from '@switchyard/config';
import type { ScrapeJobSpec } from '@switchyard/contracts';
import { fetchPage, TargetGuard, TargetPolicy } from '@switchyard/scrape';
import type { AttemptContext, AttemptSuccess } from './types.ts';

/** One scrape attempt. Direct egress costs nothing; proxy bytes are priced by the pool. */
export function scrapeExecutor(cfg: Config['scrape']) {
  // The SSRF guard: every hop is checked after DNS and pinned to the checked address.
  const guard = new TargetGuard({ policy: new TargetPolicy(cfg) });
  return async (spec: ScrapeJobSpec, ctx: AttemptContext): Promise<AttemptSuccess> => {
    const result = await fetchPage({
      url: spec.request.url,
      method: spec.request.method,
      headers: spec.request.headers,
      format: spec.request.format,
      timeoutMs: cfg.timeoutMs,
      maxBytes: cfg.maxBytes,
      userAgent: cfg.userAgent,
      dispatcher: ctx.dispatcher,
      signal: ctx.signal,
      guard,
      beforeSend: ctx.beforeSend,
    });
    return { result, costNanos: 0, bytes: result.bytes };
  };
}
