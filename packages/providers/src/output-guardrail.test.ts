import { describe, expect, it } from 'vitest';
import { InvalidResponseFormatError, outputGuardrail } from './output-guardrail.ts';

const weather = {
  type: 'json_schema',
  json_schema: {
    name: 'weather',
    schema: {
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: { city: { type: 'string' }, temp: { type: 'number' } },
      required: ['city', 'temp'],
      additionalProperties: false,
    },
  },
} as const;

describe('the JSON guardrail of response_format', () => {
  it('text, or no response_format, checks nothing', () => {
    expect(outputGuardrail(undefined)).toBeUndefined();
    expect(outputGuardrail({ type: 'text' })).toBeUndefined();
  });

  it('json_object passes a JSON object and fails anything else', () => {
    const check = outputGuardrail({ type: 'json_object' });
    expect(check?.('{"a": 1}')).toBeUndefined();
    expect(check?.('demo answer to: hi')).toBe('the answer is not JSON');
    expect(check?.('[1, 2]')).toBe('the answer is not a JSON object');
    expect(check?.(null)).toBe('the answer is not JSON');
  });

  it('json_schema validates the answer against the schema, naming where it fails', () => {
    const check = outputGuardrail(weather);
    expect(check?.('{"city": "Oslo", "temp": -3.5}')).toBeUndefined();
    expect(check?.('{"city": "Oslo", "temp": "cold"}')).toBe(
      'the answer does not match the schema (/temp must be number)',
    );
    expect(check?.('{"city": "Oslo"}')).toMatch(
      /^the answer does not match the schema \(the answer must have required property 'temp'\)$/,
    );
    expect(check?.('{"city": "Oslo", "temp": 1, "wind": 3}')).toMatch(/additional properties/);
    expect(check?.('not json')).toBe('the answer is not JSON');
  });

  it('a schema that does not compile is refused before any call', () => {
    const bad = {
      type: 'json_schema',
      json_schema: { name: 'x', schema: { type: 'no-such-type' } },
    } as const;
    expect(() => outputGuardrail(bad)).toThrow(InvalidResponseFormatError);
  });

  it('json_schema without a schema checks that the answer is a JSON object', () => {
    const check = outputGuardrail({ type: 'json_schema', json_schema: { name: 'free' } });
    expect(check?.('{"x": 1}')).toBeUndefined();
    expect(check?.('"x"')).toBe('the answer is not a JSON object');
  });
});
