import { describe, expect, it } from 'vitest';
import {
  arrayLines,
  BatchIntake,
  parseBatchLine,
  splitLines,
  type RawLine,
  type SplitLimits,
} from './batch-lines.ts';

const known = (name: string) => name === 'mock' || name === 'backup';
const limits: SplitLimits = { maxBytes: 1024 * 1024, maxLineBytes: 64 };

async function collect(chunks: (string | Buffer)[], l = limits): Promise<RawLine[]> {
  async function* source() {
    yield* chunks;
  }
  const out: RawLine[] = [];
  for await (const line of splitLines(source(), l)) out.push(line);
  return out;
}

const completion = (customId: string, extra: Record<string, unknown> = {}) => ({
  custom_id: customId,
  type: 'completion',
  request: { model: 'mock', messages: [{ role: 'user', content: 'hi' }] },
  ...extra,
});
const openAi = (
  customId: string,
  body: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
) => ({
  custom_id: customId,
  method: 'POST',
  url: '/v1/chat/completions',
  body: { model: 'mock', messages: [{ role: 'user', content: 'hi' }], ...body },
  ...extra,
});

describe('splitLines (NDJSON as a stream)', () => {
  it('joins lines split across chunks, multi-byte characters included', async () => {
    const euro = Buffer.from('{"a":"€"}\n{"b":2}\n');
    const lines = await collect([euro.subarray(0, 7), euro.subarray(7, 12), euro.subarray(12)]);
    expect(lines).toEqual([
      { line: 1, text: '{"a":"€"}' },
      { line: 2, text: '{"b":2}' },
    ]);
  });

  it('numbers physical lines: blank lines are skipped but counted; CRLF, a BOM and no final newline are fine', async () => {
    const lines = await collect(['\ufeff{"a":1}\r\n\r\n', '   \n{"b":2}']);
    expect(lines).toEqual([
      { line: 1, text: '{"a":1}' },
      { line: 4, text: '{"b":2}' },
    ]);
  });

  it('a line over the per-line limit is reported on its own and the next lines still arrive', async () => {
    const long = `{"x":"${'y'.repeat(100)}"}`;
    const lines = await collect(['{"a":1}\n', long.slice(0, 50), long.slice(50), '\n{"b":2}\n']);
    expect(lines).toEqual([
      { line: 1, text: '{"a":1}' },
      { line: 2, tooLarge: true },
      { line: 3, text: '{"b":2}' },
    ]);
  });

  it('a body over the byte limit fails with payload_too_large', async () => {
    await expect(
      collect(['{"a":1}\n'.repeat(10), '{"a":1}\n'.repeat(10)], { maxBytes: 100, maxLineBytes: 64 }),
    ).rejects.toMatchObject({ code: 'payload_too_large' });
  });
});

describe('parseBatchLine', () => {
  it('a Switchyard job spec with a custom_id becomes a job on the batch lane by default', () => {
    const parsed = parseBatchLine(completion('a'), known);
    expect(parsed).toMatchObject({ ok: true, customId: 'a', spec: { type: 'completion', lane: 'batch' } });
    const scrape = parseBatchLine(
      { custom_id: 's', type: 'scrape', lane: 'interactive', request: { url: 'https://example.com/' } },
      known,
    );
    expect(scrape).toMatchObject({ ok: true, spec: { type: 'scrape', lane: 'interactive' } });
  });

  it('an OpenAI Batch API line becomes a completion job on the batch lane', () => {
    const parsed = parseBatchLine(openAi('o', { max_tokens: 5 }), known);
    expect(parsed).toEqual({
      ok: true,
      customId: 'o',
      spec: {
        type: 'completion',
        lane: 'batch',
        priority: 5,
        request: { model: 'mock', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 },
      },
    });
  });

  it('OpenAI lines for other endpoints or methods are rejected with paths as the client wrote them', () => {
    const parsed = parseBatchLine(
      openAi(
        'o',
        { messages: [{ role: 'robot', content: 'x' }] },
        { url: '/v1/embeddings', method: 'GET', x: 1 },
      ),
      known,
    );
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.code).toBe('validation_failed');
    expect(parsed.errors.map((e) => e.path).sort()).toEqual(['body.messages[0].role', 'method', 'url', 'x']);
  });

  it('unknown models are unknown_model at the model field', () => {
    expect(parseBatchLine(openAi('o', { model: 'nope' }), known)).toMatchObject({
      ok: false,
      code: 'unknown_model',
      errors: [{ path: 'body.model', message: 'unknown model "nope"' }],
    });
    expect(parseBatchLine(completion('c', { fallbacks: ['backup', 'gone'] }), known)).toMatchObject({
      ok: false,
      code: 'unknown_model',
      errors: [{ path: 'fallbacks[1]' }],
    });
  });

  it('a missing or oversized custom_id is reported together with the other field errors', () => {
    const { custom_id: _, ...noId } = completion('x', { priority: 99 });
    const parsed = parseBatchLine(noId, known);
    expect(parsed).toMatchObject({ ok: false, customId: undefined, code: 'validation_failed' });
    if (parsed.ok) return;
    expect(parsed.errors.map((e) => e.path)).toEqual(['custom_id', 'priority']);
    expect(parseBatchLine(completion('x'.repeat(257)), known)).toMatchObject({
      ok: false,
      errors: [{ path: 'custom_id' }],
    });
    expect(parseBatchLine([1, 2], known)).toMatchObject({ ok: false, errors: [{ path: '(root)' }] });
  });
});

describe('BatchIntake', () => {
  const intake = (maxLines = 100, maxRejectionsListed = 100) =>
    new BatchIntake({ knownModel: known, maxLines, maxRejectionsListed });

  it('rejects a duplicate custom_id naming its line and the line that keeps the id', () => {
    const i = intake();
    const taken = [...arrayLines([completion('a'), completion('b'), completion('a')])].map((l) => i.take(l));
    expect(taken.map((t) => t?.customId)).toEqual(['a', 'b', undefined]);
    expect(i.summary()).toMatchObject({
      total: 3,
      accepted: 2,
      rejected: 1,
      rejections: [
        {
          line: 3,
          custom_id: 'a',
          code: 'already_exists',
          errors: [{ path: 'custom_id', message: 'duplicate custom_id; line 1 already uses it' }],
        },
      ],
    });
  });

  it('reports lines that are not JSON, too large or past the line cap, and counts them all', () => {
    const i = intake(3, 2);
    i.take({ line: 1, text: '{nope' });
    i.take({ line: 2, tooLarge: true });
    i.take({ line: 3, text: JSON.stringify(completion('a')) });
    i.take({ line: 4, text: JSON.stringify(completion('b')) });
    const s = i.summary();
    expect(s).toMatchObject({ total: 4, accepted: 1, rejected: 3, truncated: true });
    expect(s.rejections.map((r) => [r.line, r.code])).toEqual([
      [1, 'invalid_json'],
      [2, 'payload_too_large'],
    ]);
  });

  it('the fingerprint depends on the lines, not on the format they came in', () => {
    const lines = [completion('a'), openAi('b'), { custom_id: 'c' }];
    const fromArray = intake();
    for (const l of arrayLines(lines)) fromArray.take(l);
    const fromText = intake();
    lines.forEach((l, n) => fromText.take({ line: n + 1, text: JSON.stringify(l, null, 0) }));
    const other = intake();
    for (const l of arrayLines([completion('a'), openAi('b', { max_tokens: 1 }), { custom_id: 'c' }]))
      other.take(l);
    expect(fromArray.summary().fingerprint).toBe(fromText.summary().fingerprint);
    expect(other.summary().fingerprint).not.toBe(fromArray.summary().fingerprint);
  });
});
