/**
 * Content extraction (issue #18): pages per second per core for a 50 KB and a 1 MB article
 * (`longArticle` from the mock upstream: the boilerplate-heavy fixture with its body repeated),
 * extracted to markdown in this thread (`extractContent`) and through the worker-thread pool
 * (`ContentExtractor` with one thread, and with one per core; as many pages in flight as threads).
 *
 *   node test/bench/extraction.ts [--quick] [--json FILE]
 *
 * No target: numbers to size a worker by. "Per core" divides the pool's rate by its threads; on a
 * machine shared with other work the pool's threads also compete with this process.
 */
import { availableParallelism } from 'node:os';
import { longArticle } from '@switchyard/mock-upstream';
import { ContentExtractor, extractContent, type ExtractInput } from '@switchyard/scrape';
import { bytes, emit, int, machine, ms, type ScenarioReport } from './report.ts';
import { flag, option, summarize } from './stats.ts';

interface Measured {
  page: string;
  where: 'in-thread' | 'pool';
  threads: number;
  pages: number;
  seconds: number;
  pagesPerSecond: number;
  perCore: number;
  p50Ms: number;
}

const input = (body: Uint8Array): ExtractInput => ({
  body,
  contentType: 'text/html; charset=utf-8',
  url: 'https://blog.harbor.example/2025/03/connection-reuse',
  status: 200,
  formats: ['markdown'],
  onlyMainContent: true,
});

async function inThread(label: string, body: Uint8Array, pages: number): Promise<Measured> {
  await extractContent(input(body)); // warm-up: JIT and module state
  const samples: number[] = [];
  const started = performance.now();
  for (let i = 0; i < pages; i++) {
    const t = performance.now();
    await extractContent(input(body));
    samples.push(performance.now() - t);
  }
  const seconds = (performance.now() - started) / 1000;
  const rate = pages / seconds;
  return {
    page: label,
    where: 'in-thread',
    threads: 1,
    pages,
    seconds,
    pagesPerSecond: rate,
    perCore: rate,
    p50Ms: summarize(samples).p50,
  };
}

async function pool(label: string, body: Uint8Array, pages: number, threads: number): Promise<Measured> {
  const extractor = new ContentExtractor({ maxThreads: threads, timeoutMs: 120_000 });
  try {
    // Warm every thread (start-up and module loading are not what is measured).
    await Promise.all(Array.from({ length: threads }, () => extractor.extract(input(body))));
    const samples: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: threads }, async () => {
        while (next++ < pages) {
          const t = performance.now();
          await extractor.extract(input(body));
          samples.push(performance.now() - t);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const rate = pages / seconds;
    return {
      page: label,
      where: 'pool',
      threads,
      pages,
      seconds,
      pagesPerSecond: rate,
      perCore: rate / threads,
      p50Ms: summarize(samples).p50,
    };
  } finally {
    await extractor.close();
  }
}

export async function extraction(opts: { quick: boolean }): Promise<ScenarioReport> {
  const threads = availableParallelism();
  const sizes = [
    { label: '50 KB', bytes: 50 * 1024, pages: opts.quick ? 10 : 200 },
    { label: '1 MB', bytes: 1024 * 1024, pages: opts.quick ? 2 : 12 },
  ];
  const results: Measured[] = [];
  for (const size of sizes) {
    const body = Buffer.from(longArticle(size.bytes));
    const label = `${size.label} (${bytes(body.byteLength)})`;
    results.push(await inThread(label, body, size.pages));
    // One thread isolates the pool's own cost (copying the body in, the result out); all of them, its scaling.
    for (const n of new Set([1, threads])) results.push(await pool(label, body, Math.max(size.pages, n), n));
  }
  const fmt = (x: number) => (x >= 100 ? int(x) : x.toFixed(x >= 10 ? 1 : 2));
  return {
    id: 'extraction',
    title: 'Content extraction: pages per second per core, HTML to markdown',
    command: 'node test/bench/extraction.ts',
    setup:
      'The article fixture (nav, cookie banner, sidebar, ads, scripts, a table and a code block) with its body ' +
      'repeated to 50 KB and 1 MB; main content to markdown (decode, linkedom, Readability, turndown, content_hash). ' +
      'In this thread one page at a time, then through ContentExtractor with one worker thread and with one per core ' +
      `(${threads}), as many pages in flight as threads.`,
    columns: [
      'page',
      'where',
      'threads',
      'pages',
      'pages/s',
      'pages/s per core',
      'MB/s per core',
      'p50 per page',
    ],
    rows: results.map((r) => {
      const size = r.page.startsWith('50') ? 50 * 1024 : 1024 * 1024;
      return [
        r.page,
        r.where,
        String(r.threads),
        String(r.pages),
        fmt(r.pagesPerSecond),
        fmt(r.perCore),
        ((r.perCore * size) / 1e6).toFixed(2),
        ms(r.p50Ms),
      ];
    }),
    targets: [],
    notes: [
      'The pool runs as many threads as the machine has cores; its per-core rate is its rate divided by its threads, so ' +
        'it drops below the in-thread rate when other work (this process, the rest of the machine) takes cores from it.',
    ],
    quick: opts.quick,
    machine: machine('n/a'),
    raw: results,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  emit(await extraction({ quick: flag('quick') }), option('json'));
}
