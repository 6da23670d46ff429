import { mulberry32 } from './prng.ts';

const VOCABULARY = (
  'switchyard queue broker proxy lane batch interactive token ledger retry upstream scrape ' +
  'request answer model budget tenant worker redis stream cost page link mock deterministic'
).split(' ');

const escapeHtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The paragraph of page `n`: 40 words drawn from a PRNG seeded with `n`, so it never changes. */
export function pageParagraph(n: number): string {
  const rng = mulberry32(n + 1);
  const out: string[] = [];
  for (let i = 0; i < 40; i++) out.push(VOCABULARY[Math.floor(rng() * VOCABULARY.length)] ?? 'mock');
  return `${out.join(' ')}.`;
}

/** `GET /page/:n`: a title, a heading, a paragraph and links to the next pages and back to 0. */
export function pageHtml(n: number): string {
  const links = [n + 1, n + 2, 0].map((k) => `<li><a href="/page/${k}">Page ${k}</a></li>`).join('');
  return (
    `<!doctype html><html><head><meta charset="utf-8"><title>Page ${n}</title></head>` +
    `<body><h1>Page ${n}</h1><p>${pageParagraph(n)}</p><ul>${links}</ul></body></html>`
  );
}

export function simpleHtml(title: string, text: string): string {
  return (
    `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
    `<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></body></html>`
  );
}

/** What a blocked IP sees: an anti-bot interstitial of the usual kind, never the content. */
export function challengeHtml(): string {
  return (
    '<!doctype html><html><head><meta charset="utf-8"><title>Just a moment...</title></head><body>' +
    '<h1>Checking your browser before accessing this site</h1>' +
    '<p>Please complete the security check to continue. Access from your network has been restricted.</p>' +
    '<form id="challenge-form" action="/__challenge" method="POST"><div class="captcha"></div>' +
    '<input type="hidden" name="token" value="mock"></form></body></html>'
  );
}

export const DEFAULT_ROBOTS_TXT = 'User-agent: *\nDisallow: /private/\n';
