/**
 * Writes the generated fixtures in ../fixtures/: the two legacy-charset pages (their text is here
 * in UTF-8 and encoded on write), a small PDF and a PNG. The output is committed; run this again
 * only after changing it:
 *
 *   node packages/mock-upstream/src/make-fixtures.ts
 */
import { writeFileSync } from 'node:fs';
import { gradientPng, minimalPdf } from './binary-fixtures.ts';
import { legacyEncode } from './legacy-encode.ts';

/** A French café review, served with `charset=windows-1252` in the header (and an old http-equiv). */
const WINDOWS_1252_PAGE = `<!DOCTYPE html PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">
<html lang="fr">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">
<title>Les meilleurs cafés de Montréal – Guide 2024</title>
<meta name="description" content="Notre sélection des cafés où l’on boit le meilleur espresso, à partir de 3,50 €.">
</head>
<body>
<div id="menu"><a href="/">Accueil</a> | <a href="/guides/">Guides</a> | <a href="/contact.html">Contact</a></div>
<div id="contenu">
<h1>Les meilleurs cafés de Montréal</h1>
<p class="date">Publié le <time datetime="2024-05-02">2 mai 2024</time></p>
<p>Montréal n’a rien à envier à Paris : ses cafés torréfient sur place, et l’espresso y coûte
rarement plus de 3,50 €. Voici notre sélection, établie après trois semaines de dégustation.</p>
<h2>Nos coups de cœur</h2>
<ul>
<li><b>Café Olimpico</b> — l’institution du Mile End ; « un cappuccino parfait », selon nos lecteurs.</li>
<li><b>Pâtisserie Rhubarbe</b> — des éclairs à 4,75 € et un café filtre très doux.</li>
<li><b>Crémerie Génération</b> — idéal pour un après-midi d’été.</li>
</ul>
<p>Le prix moyen d’un “flat white” est de 4,20 € ; comptez 1 € de plus pour le lait d’avoine.</p>
</div>
<div id="pied">© 2024 Guides Gourmands — Tous droits réservés.</div>
</body>
</html>
`;

/** A Japanese tea-ceremony article, served as plain `text/html`: its <meta charset> decides. */
const SHIFT_JIS_PAGE = `<!DOCTYPE html>
<html lang="ja">
<head>
<meta charset="Shift_JIS">
<title>京都の茶室を訪ねて</title>
<meta name="description" content="京都の老舗茶室で体験した茶道の一日。">
</head>
<body>
<header><nav><a href="/">トップ</a> <a href="/travel/">旅行記</a> <a href="/about/">このサイトについて</a></nav></header>
<main>
<article>
<h1>京都の茶室を訪ねて</h1>
<p>春の京都で、創業三百年の茶室「松風庵」を訪ねました。静かな庭を抜けると、四畳半の小さな茶室があります。</p>
<h2>お点前の流れ</h2>
<ol>
<li>亭主が道具を清める。</li>
<li>抹茶を点てる。</li>
<li>客は茶碗を回してから、ゆっくりといただく。</li>
</ol>
<p>一服の抹茶に、季節の和菓子が添えられます。詳しくは<a href="/kyoto/wagashi.html">和菓子の記事</a>をご覧ください。</p>
</article>
</main>
<footer>Copyright © 2024 旅の記録</footer>
</body>
</html>
`;

const REPORT_PAGES = [
  {
    lines: [
      'Quarterly Latency Report',
      'Checkout API, first quarter.',
      'The p99 latency fell from 842 ms to 410 ms after connection reuse.',
      'New TLS sessions per second dropped from 1912 to 9.',
    ],
  },
  {
    lines: ['Appendix: method', 'One hour of production traffic was replayed against staging.'],
    link: 'https://blog.harbor.example/2025/03/connection-reuse',
  },
];

const dir = new URL('../fixtures/', import.meta.url);
const write = (name: string, bytes: Buffer) => writeFileSync(new URL(name, dir), bytes);

write('windows-1252.html', legacyEncode(WINDOWS_1252_PAGE, 'windows-1252'));
// © is not in Shift_JIS: the page writes it as a character reference, as such pages do.
write('shift_jis.html', legacyEncode(SHIFT_JIS_PAGE.replace('©', '&copy;'), 'shift_jis'));
write(
  'report.pdf',
  minimalPdf(REPORT_PAGES, { title: 'Quarterly Latency Report', creationDate: 'D:20250401120000Z' }),
);
write('logo.png', gradientPng(24));
console.log(`wrote the generated fixtures in ${dir.pathname}`);
