// Bundles an app entry point (and the workspace packages it imports, which ship as TypeScript
// source) into one ESM file for Node >= 22.12. npm dependencies stay external.
import { build } from 'esbuild';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { bundleBrowser, hasBrowserCode } from './browser-bundle.mjs';

const [entry, outfile] = process.argv.slice(2);
if (!entry || !outfile) {
  console.error('usage: node scripts/bundle.mjs <entry.ts> <out.js>');
  process.exit(2);
}

const externalNpm = {
  name: 'external-npm',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('@switchyard/') ? undefined : { path: args.path, external: true },
    );
  },
};

const result = await build({
  metafile: true,
  entryPoints: [entry],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  sourcemap: true,
  plugins: [externalNpm],
  logLevel: 'warning',
  banner: {
    js: [
      "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
      // Bundled packages find their Lua scripts under dist/lua/<package>/ (see luaDir() in each).
      "globalThis.__switchyardLuaRoot = new URL('./lua/', import.meta.url).href;",
      // ... and their worker-thread entries under dist/threads/<package>/ (see threadEntryUrl()).
      "globalThis.__switchyardThreadRoot = new URL('./threads/', import.meta.url).href;",
      // ... and their browser assets under dist/browser/<package>/ (see opsPageAssetsDir()).
      "globalThis.__switchyardBrowserRoot = new URL('./browser/', import.meta.url).href;",
    ].join('\n'),
  },
});

// Worker-thread entries (a package's src/threads/*.ts) are loaded by path at run time, so each is
// a bundle of its own: dist/threads/<package>/<name>.js, for every workspace package this bundle
// includes. Unlike main.js they carry their npm dependencies inside, so an app can run a package's
// threads without declaring what only the threads import.
const root = join(import.meta.dirname, '..');
const bundledPackages = new Set(
  Object.keys(result.metafile.inputs)
    .map((input) => relative(join(root, 'packages'), resolve(input)).split(sep))
    .filter((parts) => parts.length > 1 && parts[0] !== '..')
    .map((parts) => parts[0]),
);
const threadsDir = join(dirname(outfile), 'threads');
rmSync(threadsDir, { recursive: true, force: true });
for (const name of [...bundledPackages].sort()) {
  const dir = join(root, 'packages', name, 'src', 'threads');
  if (!existsSync(dir)) continue;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
    await build({
      entryPoints: [join(dir, file)],
      outfile: join(threadsDir, name, file.replace(/\.ts$/, '.js')),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      sourcemap: true,
      logLevel: 'warning',
      banner: {
        js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
      },
    });
  }
}

// Browser code (a package's src/browser/main.ts) is served as static files: dist/browser/<package>/.
const browserDir = join(dirname(outfile), 'browser');
rmSync(browserDir, { recursive: true, force: true });
for (const name of [...bundledPackages].sort()) {
  const dir = join(root, 'packages', name);
  if (hasBrowserCode(dir)) await bundleBrowser(dir, join(browserDir, name));
}

// The bundle loads npm packages from the app's own node_modules, so the app must declare every
// package its workspace dependencies import (pnpm does not hoist them).
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const declared = new Set(Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies }));
const bare = (p) => (p.startsWith('@') ? p.split('/').slice(0, 2).join('/') : p.split('/')[0]);
const missing = new Set();
for (const out of Object.values(result.metafile.outputs)) {
  for (const imp of out.imports) {
    if (imp.external && !imp.path.startsWith('node:') && !declared.has(bare(imp.path)))
      missing.add(bare(imp.path));
  }
}
if (missing.size) {
  console.error(`${pkg.name} bundles code that imports undeclared packages: ${[...missing].join(', ')}`);
  console.error(`add them to ${pkg.name}'s dependencies`);
  process.exit(1);
}

// Lua scripts are read from disk: copy every workspace package's src/lua to dist/lua/<package>/.
rmSync(join(dirname(outfile), 'lua'), { recursive: true, force: true });
for (const group of ['packages', 'apps']) {
  for (const name of readdirSync(join(root, group))) {
    const lua = join(root, group, name, 'src', 'lua');
    if (existsSync(lua)) cpSync(lua, join(dirname(outfile), 'lua', name), { recursive: true });
  }
}
