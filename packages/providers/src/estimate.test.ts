import { describe, expect, it } from 'vitest';
import { estimateUsage } from './estimate.ts';

describe('estimated usage of a cut stream', () => {
  it('counts the prompt with o200k_base plus chat overhead, and the text received', async () => {
    const usage = await estimateUsage(
      {
        model: 'any',
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: [{ type: 'text', text: 'hello world' }] },
        ],
      },
      'the quick brown fox',
    );
    // "be brief" = 2 tokens, "hello world" = 2; 3 per message and 3 priming the reply.
    expect(usage).toEqual({ input_tokens: 2 + 3 + 2 + 3 + 3, output_tokens: 4 });
  });

  it('a stream cut before any text still bills its prompt, and no output', async () => {
    const usage = await estimateUsage({ model: 'any', messages: [{ role: 'user', content: null }] }, '');
    expect(usage).toEqual({ input_tokens: 6, output_tokens: 0 });
  });
});
