import { fileURLToPath } from 'node:url';

/** The files of the built page, as `assets()` names them in the page's HTML. */
export const OPS_PAGE_SCRIPT = 'main.js';
export const OPS_PAGE_STYLES = 'main.css';

/**
 * Where the ops page's built assets are: `browser/ops-page/` beside an app bundle (announced by
 * scripts/bundle.mjs through `globalThis.__switchyardBrowserRoot`), or this package's own `dist/`
 * when the app runs from source (`pnpm build`, or `buildOpsPageAssets` in tests, fills it).
 */
export function opsPageAssetsDir(): string {
  const bundled = (globalThis as { __switchyardBrowserRoot?: string }).__switchyardBrowserRoot;
  return fileURLToPath(bundled ? new URL('ops-page/', bundled) : new URL('../dist/', import.meta.url));
}
