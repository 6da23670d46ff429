import type { Config } from '@switchyard/config';
import type { JobSpec } from '@switchyard/contracts';
import type { ContentExtractor } from '@switchyard/scrape';
import { completionExecutor } from './executors/completion.ts';
import { scrapeExecutor } from './executors/scrape.ts';
import type { AttemptContext, AttemptSuccess } from './executors/types.ts';

export interface UpstreamsOptions {
  config: Pick<Config, 'models' | 'scrape'>;
  /** Provider API keys by env var name, read once by main.ts. */
  secrets: Record<string, string | undefined>;
  /** The process's extraction threads: scrapes turn pages into markdown, links, metadata there. */
  extractor: Pick<ContentExtractor, 'extract'>;
}

/** The upstreams a job can call: the configured models (completions) and the web (scrapes). */
export class Upstreams {
  private readonly models: Config['models'];
  private readonly completion: ReturnType<typeof completionExecutor>;
  private readonly scrape: ReturnType<typeof scrapeExecutor>;

  constructor(opts: UpstreamsOptions) {
    this.models = opts.config.models;
    this.completion = completionExecutor({ models: opts.config.models, secrets: opts.secrets });
    this.scrape = scrapeExecutor(opts.config.scrape, opts.extractor);
  }

  /** One call of one attempt, no retries; `model` is the model in use (a fallback, maybe). */
  call(spec: JobSpec, ctx: AttemptContext, model: string | null): Promise<AttemptSuccess> {
    return spec.type === 'completion'
      ? this.completion(spec, ctx, model ?? spec.request.model)
      : this.scrape(spec, ctx);
  }

  /** The provider of a model (`openai`...), for the ledger; null when not configured. */
  providerOf(model: string): string | null {
    return this.models[model]?.provider ?? null;
  }
}
