import type { Extracted, ExtractInput } from './formats.ts';

/**
 * Extraction in the calling thread, for tests, benchmarks and tools. The HTML, markdown and PDF
 * libraries load on the first call, not with the package: a process that extracts through
 * `ContentExtractor` never loads them in its main thread (only its extraction threads do).
 */
export async function extractContent(input: ExtractInput): Promise<Extracted> {
  const { extractContent: extract } = await import('./extract-content.ts');
  return extract(input);
}
