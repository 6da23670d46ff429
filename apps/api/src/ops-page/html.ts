import { OPS_PAGE_SCRIPT, OPS_PAGE_STYLES } from '@switchyard/ops-page';

/**
 * Headers of every /admin answer. The page runs only its own script and styles (no inline script,
 * no CDN), is never framed, and nothing it shows is cached or leaks through a Referer.
 */
export const PAGE_HEADERS: Record<string, string> = {
  'content-security-policy': [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; '),
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

const ASSETS = '/admin/assets';

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function document(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${ASSETS}/${OPS_PAGE_STYLES}">
</head>
<body>
${body}
</body>
</html>
`;
}

/** The login form; `error` says why the last attempt was refused. */
export function loginPage(error?: string): string {
  const message = error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : '';
  return document(
    'Switchyard ops: log in',
    `<form class="login" method="post" action="/admin/login">
<h1>Switchyard ops</h1>
<label for="key">Admin key</label>
<input id="key" name="key" type="password" autocomplete="current-password" required autofocus>
${message}
<button type="submit">Log in</button>
</form>`,
  );
}

/** The page itself: an empty frame that its script fills from /admin/api/overview. */
export function opsPage(): string {
  return document(
    'Switchyard ops',
    `<header>
<h1>Switchyard ops</h1>
<form method="post" action="/admin/logout"><button type="submit">Log out</button></form>
</header>
<main id="app"><noscript>The ops page needs JavaScript.</noscript></main>
<script type="module" src="${ASSETS}/${OPS_PAGE_SCRIPT}"></script>`,
  );
}
