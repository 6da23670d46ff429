import { fixture } from '@switchyard/mock-upstream';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { afterAll, describe, expect, it } from 'vitest';
import type { ThreadReply, ThreadTask } from '../threads/extract.ts';

// Apps ship as one esbuild bundle (scripts/bundle.mjs). These tests prove the extractor survives
// that: its worker-thread entry is written beside the bundle and found from there at run time.

const root = new URL('../../../../', import.meta.url).pathname;
const bundle = (cwd: string, entry: string, outfile: string) =>
  execFileSync(process.execPath, [join(root, 'scripts/bundle.mjs'), entry, outfile], { cwd, stdio: 'pipe' });

const cleanup: string[] = [];
afterAll(() => {
  for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
});

/** Runs a bundled thread entry in a piscina thread, as ContentExtractor would. */
async function extractWith(threadEntry: string): Promise<ThreadReply> {
  const pool = new Piscina<ThreadTask, ThreadReply>({ filename: threadEntry, maxThreads: 1 });
  const { port1, port2 } = new MessageChannel();
  try {
    const input = {
      body: fixture('article.html'),
      contentType: 'text/html; charset=utf-8',
      url: 'https://blog.harbor.example/2025/03/connection-reuse',
      status: 200,
      formats: ['markdown' as const],
      onlyMainContent: true,
    };
    return await pool.run({ input, started: port2 }, { transferList: [port2] });
  } finally {
    port1.close();
    await pool.destroy();
  }
}

describe('the extractor in an app bundle', () => {
  it('an app bundle importing ContentExtractor runs it, its thread entry loaded from beside main.js', () => {
    // A deployed app as `pnpm deploy` leaves it: package.json, node_modules with what main.js
    // imports from npm (piscina here, zod through contracts), and the bundle in dist/.
    const app = mkdtempSync(join(tmpdir(), 'sy-app-bundle-'));
    cleanup.push(app);
    mkdirSync(join(app, 'node_modules'));
    symlinkSync(join(root, 'packages/scrape/node_modules/piscina'), join(app, 'node_modules/piscina'));
    symlinkSync(join(root, 'packages/contracts/node_modules/zod'), join(app, 'node_modules/zod'));
    const pkg = { name: 'bundle-test-app', type: 'module', dependencies: { piscina: '*', zod: '*' } };
    writeFileSync(join(app, 'package.json'), JSON.stringify(pkg));
    writeFileSync(
      join(app, 'entry.ts'),
      [
        "import { readFileSync } from 'node:fs';",
        `import { ContentExtractor } from '${join(root, 'packages/scrape/src/index.ts')}';`,
        'const extractor = new ContentExtractor({ maxThreads: 1 });',
        'const out = await extractor.extract({',
        "  body: readFileSync(process.argv[2]), contentType: 'text/html; charset=utf-8', status: 200,",
        "  url: 'https://blog.harbor.example/a', formats: ['markdown', 'links'], onlyMainContent: true,",
        '});',
        'await extractor.close();',
        'console.log(JSON.stringify(out));',
      ].join('\n'),
    );
    bundle(app, 'entry.ts', 'dist/main.js');
    expect(existsSync(join(app, 'dist/threads/scrape/extract.js'))).toBe(true);
    const page = join(root, 'packages/mock-upstream/fixtures/article.html');
    const out = JSON.parse(
      execFileSync(process.execPath, ['dist/main.js', page], { cwd: app, encoding: 'utf8' }),
    );
    expect(out.markdown).toMatch(/^# How we halved our p99 latency with connection reuse\n/);
    expect(out.links).toContain('https://nodejs.org/api/http.html');
  });

  it("the worker app's bundle carries a self-contained thread entry that extracts a page", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-worker-bundle-'));
    cleanup.push(dir);
    bundle(join(root, 'apps/worker'), 'src/main.ts', join(dir, 'main.js'));
    // Outside the repository: nothing to resolve npm packages from, so it must carry its own.
    const reply = await extractWith(join(dir, 'threads/scrape/extract.js'));
    expect(reply.ok && reply.extracted.markdown).toMatch(/^# How we halved our p99 latency/);
  });
});
