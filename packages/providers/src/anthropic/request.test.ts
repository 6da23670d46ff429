import { SwitchyardError } from '@switchyard/contracts';
import { describe, expect, it } from 'vitest';
import { finishReasonOf, fromAnthropicUsage } from './api.ts';
import { toAnthropicRequest } from './request.ts';

describe('OpenAI-shaped request → Anthropic Messages request', () => {
  it('moves system and developer messages to system, maps limits, stops and sampling', () => {
    const out = toAnthropicRequest(
      {
        model: 'claude',
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'developer', content: [{ type: 'text', text: 'no jokes' }] },
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: 'hello' },
          { role: 'user', content: [{ type: 'text', text: 'again' }] },
        ],
        max_tokens: 50,
        max_completion_tokens: 20,
        temperature: 1.7,
        top_p: 0.9,
        stop: 'END',
        user: 'u-1',
        seed: 3,
      },
      'claude-sonnet',
      true,
    );
    expect(out).toEqual({
      model: 'claude-sonnet',
      max_tokens: 20,
      system: 'be brief\n\nno jokes',
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello' },
        { role: 'user', content: [{ type: 'text', text: 'again' }] },
      ],
      temperature: 1,
      top_p: 0.9,
      stop_sequences: ['END'],
      metadata: { user_id: 'u-1' },
      stream: true,
    });
  });

  it('gives max_tokens a default (the Messages API requires it) and refuses tools', () => {
    const base = { model: 'c', messages: [{ role: 'user' as const, content: 'x' }] };
    expect(toAnthropicRequest(base, 'c', false).max_tokens).toBe(4096);
    expect(() => toAnthropicRequest({ ...base, tools: [{ type: 'function' }] }, 'c', false)).toThrow(
      SwitchyardError,
    );
  });
});

describe('Anthropic answer → our usage and finish reason', () => {
  it('adds cache reads and writes to input (they are parts of it), thinking to reasoning', () => {
    expect(
      fromAnthropicUsage({
        input_tokens: 10,
        cache_read_input_tokens: 100,
        cache_creation_input_tokens: 20,
        output_tokens: 30,
        output_tokens_details: { thinking_tokens: 12 },
      }),
    ).toEqual({
      input_tokens: 130,
      cached_input_tokens: 100,
      cache_write_tokens: 20,
      output_tokens: 30,
      reasoning_tokens: 12,
    });
    expect(fromAnthropicUsage({ input_tokens: 4, output_tokens: 2 })).toEqual({
      input_tokens: 4,
      output_tokens: 2,
    });
  });

  it('maps stop reasons', () => {
    expect(
      ['end_turn', 'stop_sequence', 'max_tokens', 'tool_use', 'refusal', null].map(finishReasonOf),
    ).toEqual(['stop', 'stop', 'length', 'tool_calls', 'content_filter', null]);
  });
});
