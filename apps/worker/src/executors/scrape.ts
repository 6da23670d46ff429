import type { Config } from '@switchyard/config';
import type { ScrapeJobSpec } from '@switchyard/contracts';
import {
  applyPreviousHash,
  fetchPage,
  notModifiedResult,
  planScrape,
  scrapeResult,
  TargetGuard,
  TargetPolicy,
  type ContentExtractor,
} from '@switchyard/scrape';
import type { AttemptContext, AttemptSuccess } from './types.ts';

/**
 * One scrape attempt: the fetch (conditional when the request says so), then the extraction in
 * the process's worker threads, so a large page never holds this event loop. Extraction errors
 * (`unsupported_content_type`, `extraction_timeout`, `extraction_too_large`) are coded and end
 * the job. Direct egress costs nothing; proxy bytes are priced by the pool.
 */
export function scrapeExecutor(cfg: Config['scrape'], extractor: Pick<ContentExtractor, 'extract'>) {
  // The SSRF guard: every hop is checked after DNS and pinned to the checked address.
  const guard = new TargetGuard({ policy: new TargetPolicy(cfg) });
  return async (spec: ScrapeJobSpec, ctx: AttemptContext): Promise<AttemptSuccess> => {
    const req = spec.request;
    const plan = planScrape(req);
    const page = await fetchPage({
      url: req.url,
      method: req.method,
      headers: { ...req.headers, ...plan.conditionalHeaders },
      timeoutMs: cfg.timeoutMs,
      maxBytes: cfg.maxBytes,
      userAgent: cfg.userAgent,
      dispatcher: ctx.dispatcher,
      signal: ctx.signal,
      guard,
    });
    const bytes = page.body.byteLength;
    if (page.status === 304) return { result: notModifiedResult(page, req), costNanos: 0, bytes };
    const extracted = await extractor.extract(
      {
        body: page.body,
        contentType: page.contentType,
        url: page.url,
        status: page.status,
        formats: plan.formats,
        onlyMainContent: req.only_main_content,
        contentLanguage: page.contentLanguage,
      },
      ctx.signal,
    );
    const result = applyPreviousHash(scrapeResult(page, extracted, plan), req, plan);
    return { result, costNanos: 0, bytes };
  };
}
