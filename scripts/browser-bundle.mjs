// Bundles a workspace package's browser code (src/browser/main.ts and main.css, with the npm
// packages they import) into static assets: <outDir>/main.js and <outDir>/main.css, minified, no
// CDN.
// `node scripts/browser-bundle.mjs <package dir> <out dir>` is the package's own build (source
// runs serve from there); scripts/bundle.mjs calls bundleBrowser() for every bundled package that
// has browser code, into dist/browser/<package>/ beside the app bundle.
import { build } from 'esbuild';
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** True when the package has browser code to bundle. */
export function hasBrowserCode(packageDir) {
  return existsSync(join(packageDir, 'src', 'browser', 'main.ts'));
}

export async function bundleBrowser(packageDir, outDir) {
  rmSync(outDir, { recursive: true, force: true });
  await build({
    entryPoints: ['main.ts', 'main.css']
      .map((f) => join(packageDir, 'src', 'browser', f))
      .filter((f) => existsSync(f)),
    outdir: outDir,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: ['chrome120', 'firefox120', 'safari17'],
    minify: true,
    sourcemap: true,
    legalComments: 'linked',
    logLevel: 'warning',
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [packageDir, outDir] = process.argv.slice(2);
  if (!packageDir || !outDir) {
    console.error('usage: node scripts/browser-bundle.mjs <package dir> <out dir>');
    process.exit(2);
  }
  await bundleBrowser(resolve(packageDir), resolve(outDir));
}
