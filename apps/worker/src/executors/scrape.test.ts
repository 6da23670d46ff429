import { loadConfig } from '@switchyard/config';
import { describe, expect, it } from 'vitest';
import { ProcessExtractor } from './scrape.ts';

const input = {
  body: Buffer.from('# Writing a consumer\n\nRead one message at a time.\n'),
  contentType: 'text/markdown; charset=utf-8',
  url: 'https://docs.example/guide.md',
  status: 200,
  formats: ['markdown'] as const,
  onlyMainContent: true,
};

describe('ProcessExtractor', () => {
  it('extracts in its thread pool, and refuses pages once closed', async () => {
    const extractor = new ProcessExtractor(loadConfig({ env: {} }).scrape);
    const out = await extractor.extract(input);
    expect(out.markdown).toContain('# Writing a consumer');
    await extractor.close();
    await expect(extractor.extract(input)).rejects.toThrow('closed');
  });

  it('closing one that never extracted starts nothing and ends at once', async () => {
    await expect(new ProcessExtractor(loadConfig({ env: {} }).scrape).close()).resolves.toBeUndefined();
  });
});
