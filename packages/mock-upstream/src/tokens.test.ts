import { describe, expect, it } from 'vitest';
import { countPromptTokens, demoAnswerWords, planCompletion, type ChatMessage } from './tokens.ts';

describe('token counting', () => {
  it.each<[string, ChatMessage[], number]>([
    ['one short message', [{ role: 'user', content: 'hello mock' }], 2 + 3],
    [
      'system and user',
      [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: '  what   is\tthe time \n' },
      ],
      2 + 3 + 4 + 3,
    ],
    [
      'empty and null content still cost 3',
      [
        { role: 'user', content: '' },
        { role: 'assistant', content: null },
      ],
      6,
    ],
    [
      'text parts count, other parts do not',
      [{ role: 'user', content: [{ type: 'text', text: 'two words' }, { type: 'image_url' }] }],
      2 + 3,
    ],
  ])('prompt tokens are words plus 3 per message: %s', (_name, messages, expected) => {
    expect(countPromptTokens(messages)).toBe(expected);
  });

  it('the answer echoes the last user message and has exactly answerWords words', () => {
    const messages = [
      { role: 'user', content: 'first question' },
      { role: 'assistant', content: 'first reply' },
      { role: 'user', content: 'one two three four five six seven eight nine ten' },
    ];
    const answer = demoAnswerWords(messages, 14);
    expect(answer).toHaveLength(14);
    expect(answer.join(' ')).toBe('demo answer to: one two three four five six seven eight this is a');
    expect(demoAnswerWords(messages, 2)).toEqual(['demo', 'answer']);
    expect(demoAnswerWords(messages, 40)).toEqual(demoAnswerWords(messages, 40));
  });

  it('max tokens caps the completion and makes finish_reason length', () => {
    const messages = [{ role: 'user', content: 'hi' }];
    const full = planCompletion(messages, 10, undefined);
    expect(full).toMatchObject({
      finishReason: 'stop',
      completionTokens: 10,
      promptTokens: 4,
      totalTokens: 14,
    });
    expect(planCompletion(messages, 10, 10).finishReason).toBe('stop');
    const capped = planCompletion(messages, 10, 3);
    expect(capped).toMatchObject({ finishReason: 'length', completionTokens: 3, totalTokens: 7 });
    expect(capped.words).toEqual(['demo', 'answer', 'to:']);
  });
});
