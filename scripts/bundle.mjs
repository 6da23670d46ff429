// Bundles an app entry point (and the workspace packages it imports, which ship as TypeScript
// source) into one ESM file for Node >= 22.12. npm dependencies stay external.
import { build } from 'esbuild';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

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
    ].join('\n'),
  },
});

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
const root = join(import.meta.dirname, '..');
rmSync(join(dirname(outfile), 'lua'), { recursive: true, force: true });
for (const group of ['packages', 'apps']) {
  for (const name of readdirSync(join(root, group))) {
    const lua = join(root, group, name, 'src', 'lua');
    if (existsSync(lua)) cpSync(lua, join(dirname(outfile), 'lua', name), { recursive: true });
  }
}
