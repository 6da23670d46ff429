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
  ContentExtractor,
  type Extracted,
  type ExtractInput,
} from '@switchyard/scrape';
import type { AttemptContext, AttemptSuccess } from './types.ts';

/**
 * The process's one pool of extraction threads (`scrape.extraction`), started by the first scrape
 * that needs it, so a worker that only runs completions never starts threads. `WorkerApp` holds
 * it and closes it on shutdown.
 */
export class ProcessExtractor {
  readonly #cfg: Config['scrape'];
  #pool: ContentExtractor | undefined;
  #closed = false;

  constructor(cfg: Config['scrape']) {
    this.#cfg = cfg;
  }

  extract(input: ExtractInput, signal?: AbortSignal): Promise<Extracted> {
    if (this.#closed) return Promise.reject(new Error('the extractor is closed'));
    const { threads, timeoutMs } = this.#cfg.extraction;
    // Every fetched body is within maxBytes: the thread heap is what limits extraction.
    this.#pool ??= new ContentExtractor({
      maxThreads: threads || undefined,
      timeoutMs,
      maxInputBytes: this.#cfg.maxBytes,
    });
    return this.#pool.extract(input, signal);
  }

  /** Lets running pages finish, then stops the threads. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#pool?.close();
  }
}

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
      beforeSend: ctx.beforeSend,
    });
    // What the proxy carried (and bills): the compressed bytes, not the decoded page.
    const bytes = page.wireBytes;
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
