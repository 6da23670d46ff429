import type { JobReturn } from '@switchyard/jobs';
import { applyPreviousHash, planScrape } from '@switchyard/scrape';
import type { AttemptSuccess } from '../executors/types.ts';
import { ledgerEntry } from './attempt.ts';
import type { JobRun } from './job-run.ts';

/**
 * Step 1b, for scrapes that ask for reuse (`max_age_s`): a result this tenant stored for the same
 * scrape within that age ends the job here, with `cached: true`, no egress and no request to the
 * site. The ledger gets the attempt with zero bytes and zero cost. A store that cannot be read
 * is a miss: the page is fetched.
 */
export async function reuseStoredScrape(run: JobRun): Promise<JobReturn | undefined> {
  const { deps, spec, jobId } = run;
  if (spec.type !== 'scrape' || !spec.request.max_age_s || !deps.scrapeCache) return undefined;
  const req = spec.request;
  const stored = await deps.scrapeCache.get(run.tenantId, req).catch((err: unknown) => {
    deps.logger.warn({ err, jobId }, 'scrape reuse store unavailable; fetching the page');
    return undefined;
  });
  if (!stored) return undefined;
  const result = applyPreviousHash({ ...stored, cached: true }, req, planScrape(req));
  const numbered = await deps.attempts.start(jobId);
  const slot = { ...numbered, model: null, proxyId: null, started: Date.now() };
  const { jobCostNanos } = await deps.ledger.record(ledgerEntry(run, slot, { outcome: 'ok' }));
  deps.logger.debug({ jobId, lane: spec.lane }, 'scrape answered from a stored result');
  return { result, costNanos: jobCostNanos };
}

/** After a successful attempt: a scrape that asked for reuse leaves its result for the next one. */
export async function storeForReuse(run: JobRun, out: AttemptSuccess): Promise<void> {
  const { deps, spec, jobId } = run;
  if (spec.type !== 'scrape' || !spec.request.max_age_s || out.result.type !== 'scrape') return;
  await deps.scrapeCache
    ?.put(run.tenantId, spec.request, out.result)
    .catch((err: unknown) => deps.logger.warn({ err, jobId }, 'scrape result not stored for reuse'));
}
