import { z } from 'zod';
import { positiveInt, SsrfPolicySchema } from './primitives.ts';

/** `scrape.*`: how scrapes leave (egress, SSRF guard), what is kept, robots.txt and per-host politeness. */
export const ScrapeConfigSchema = z
  .strictObject({
    /** `pool` leases an egress proxy for every scrape; `direct` dials targets from the worker. */
    egress: z.enum(['pool', 'direct']).default('pool'),
    /** Per-attempt timeout for a scrape. */
    timeoutMs: positiveInt().default(30_000),
    /** Largest body kept; a larger one fails the job with `response_too_large`. */
    maxBytes: positiveInt().default(5_242_880),
    userAgent: z.string().default('Switchyard/0.1 (+https://switchyard.dev/bot)'),
    /** Content extraction in worker threads (one pool per worker process). */
    extraction: z
      .strictObject({
        /** Extraction threads per worker process; 0: one fewer than the cores, at least one. */
        threads: z.number().int().min(0).max(64).default(0),
        /** Per page, from when a thread starts on it; past it the job fails `extraction_timeout`. */
        timeoutMs: positiveInt().default(10_000),
      })
      .prefault({}),
    /** Reuse of results (`request.max_age_s`), stored in Redis per tenant. */
    cache: z
      .strictObject({
        /** How long a stored result is kept, whatever `max_age_s` a request asks for. */
        maxTtlSeconds: positiveInt().default(86_400),
      })
      .prefault({}),
    /** The SSRF guard for scrape targets and their redirects: `allowCidrs`, `allowPorts`. */
    ...SsrfPolicySchema.shape,
    /** robots.txt (RFC 9309), fetched per origin and cached in Redis for the whole fleet. */
    robots: z
      .strictObject({
        /** Off: robots.txt is neither fetched nor obeyed (only for fleets scraping their own sites). */
        enabled: z.boolean().default(true),
        /** The product token matched (case-insensitively) against `User-agent:` lines. */
        userAgent: z
          .string()
          .regex(/^[A-Za-z_-]{1,64}$/, 'a product token: letters, _ and -')
          .default('Switchyard'),
        ttlSeconds: positiveInt().default(86_400),
        /** After a 5xx, 429 or unreachable robots.txt nothing is allowed this long; jobs wait. */
        unreachableRetryMs: positiveInt().default(60_000),
        /** Only this much of a robots.txt is read (RFC 9309: at least 500 KiB). */
        maxBytes: positiveInt().default(512_000),
      })
      .prefault({}),
    /** Per-host politeness, counted in Redis across every worker and proxy. */
    perHost: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** Requests in flight to one host at once (robots.txt fetches included). */
        maxConcurrency: positiveInt().max(1_000).default(2),
        /** Least time between the starts of two requests to one host. */
        minIntervalMs: z.number().int().min(0).default(500),
        /** A robots.txt `Crawl-delay` raises the interval, up to this. */
        maxDelayMs: positiveInt().default(10_000),
        /** A 429 or 503 with Retry-After pauses the host for the fleet, for at most this long. */
        maxPauseMs: positiveInt().default(300_000),
      })
      .prefault({}),
  })
  .prefault({});
