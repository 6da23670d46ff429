import { fixture, FIXTURES } from '@switchyard/mock-upstream';
import { describe, expect, it } from 'vitest';
import { decodeHtml, decodeText } from './decode.ts';
import { extractContent } from './extract-content.ts';

const page = (charsetMeta: string, text: string) =>
  `<!doctype html><html><head>${charsetMeta}<title>t</title></head><body><p>${text}</p></body></html>`;
const latin1 = (s: string) => Buffer.from(s, 'latin1');
const BOM_UTF8 = Buffer.from([0xef, 0xbb, 0xbf]);

describe('character sets', () => {
  it('a windows-1252 page (charset in the header) decodes accents, € and curly quotes', async () => {
    const out = await extractContent({
      body: fixture('windows-1252.html'),
      contentType: FIXTURES['windows-1252.html'],
      url: 'https://guides.example/cafes.html',
      status: 200,
      formats: ['markdown', 'metadata'],
      onlyMainContent: true,
    });
    expect(out.markdown).toContain('# Les meilleurs cafés de Montréal');
    expect(out.markdown).toContain('l’espresso y coûte rarement plus de 3,50 €');
    expect(out.markdown).toContain('Le prix moyen d’un “flat white” est de 4,20 €');
    expect(out.markdown).toContain(
      '- **Café Olimpico** — l’institution du Mile End ; « un cappuccino parfait »',
    );
    expect(out.markdown).not.toContain('\ufffd');
    expect(out.metadata?.title).toBe('Les meilleurs cafés de Montréal – Guide 2024');
    expect(out.metadata?.language).toBe('fr');
  });

  it('a Shift_JIS page whose header names no charset is decoded by its <meta charset>', async () => {
    expect(FIXTURES['shift_jis.html']).toBe('text/html');
    const out = await extractContent({
      body: fixture('shift_jis.html'),
      contentType: FIXTURES['shift_jis.html'],
      url: 'https://travel.example/kyoto/chashitsu.html',
      status: 200,
      formats: ['markdown', 'text', 'metadata', 'links'],
      onlyMainContent: true,
    });
    expect(out.markdown).toContain('# 京都の茶室を訪ねて');
    expect(out.markdown).toContain('春の京都で、創業三百年の茶室「松風庵」を訪ねました。');
    expect(out.markdown).toContain('1. 亭主が道具を清める。\n2. 抹茶を点てる。');
    expect(out.markdown).toContain('[和菓子の記事](https://travel.example/kyoto/wagashi.html)');
    expect(out.text).toContain('一服の抹茶に、季節の和菓子が添えられます。');
    expect(out.markdown).not.toContain('\ufffd');
    expect(out.metadata).toMatchObject({
      title: '京都の茶室を訪ねて',
      language: 'ja',
      content_type: 'text/html',
    });
  });

  it.each([
    [
      'a BOM beats the header and the meta',
      Buffer.concat([BOM_UTF8, Buffer.from(page('<meta charset="windows-1252">', 'café'))]),
      'windows-1252',
      'UTF-8',
      'café',
    ],
    [
      'the header beats the meta',
      latin1(page('<meta charset="utf-8">', 'caf\xe9')),
      'windows-1252',
      'windows-1252',
      'café',
    ],
    [
      'the meta decides without a header charset',
      latin1(page('<meta charset="iso-8859-1">', 'caf\xe9')),
      null,
      'windows-1252',
      'café',
    ],
    [
      'an http-equiv meta counts too',
      latin1(page('<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">', '\x80 5')),
      null,
      'windows-1252',
      '€ 5',
    ],
    [
      'an unknown header label falls through to the meta',
      latin1(page('<meta charset="windows-1252">', '\x93q\x94')),
      'no-such-charset',
      'windows-1252',
      '“q”',
    ],
    ['nothing declared: UTF-8', Buffer.from(page('', 'naïve – ok')), null, 'UTF-8', 'naïve – ok'],
  ])('%s', (_name, bytes, header, encoding, text) => {
    const decoded = decodeHtml(bytes, header);
    expect(decoded.encoding).toBe(encoding);
    expect(decoded.text).toContain(`<p>${text}</p>`);
    expect(decoded.text.startsWith('\ufeff')).toBe(false);
  });

  it('text bodies use a BOM, else the header charset, else UTF-8 (no meta sniffing)', () => {
    expect(decodeText(latin1('caf\xe9'), 'iso-8859-1')).toEqual({ text: 'café', encoding: 'windows-1252' });
    expect(decodeText(Buffer.concat([BOM_UTF8, Buffer.from('café')]), 'iso-8859-1').text).toBe('café');
    expect(decodeText(Buffer.from('<meta charset="shift_jis"> café'), null).text).toBe(
      '<meta charset="shift_jis"> café',
    );
    expect(decodeText(Buffer.from([0xff, 0xfe, 0x41, 0x00, 0xe9, 0x00]), null)).toEqual({
      text: 'Aé',
      encoding: 'UTF-16LE',
    });
  });
});
