/**
 * Where a worker-thread entry of this package is: `src/threads/<name>.ts` in the source tree (Node
 * runs it as TypeScript, as it runs the apps), or `threads/scrape/<name>.js` beside an app bundle.
 * scripts/bundle.mjs writes the thread entries there and announces the folder through
 * `globalThis.__switchyardThreadRoot`, as it does for Lua scripts (see `luaDir`).
 */
export function threadEntryUrl(name: string): URL {
  const bundled = (globalThis as { __switchyardThreadRoot?: string }).__switchyardThreadRoot;
  return bundled ? new URL(`scrape/${name}.js`, bundled) : new URL(`../threads/${name}.ts`, import.meta.url);
}
