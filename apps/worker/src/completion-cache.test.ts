import type { ModelConfig } from '@switchyard/config';
import type { CompletionJobSpec } from '@switchyard/contracts';
import { describe, expect, it } from 'vitest';
import { cachePolicy, requestCacheId } from './completion-cache.ts';

const spec = (request: Partial<CompletionJobSpec['request']>, cache?: CompletionJobSpec['cache']) =>
  ({
    type: 'completion',
    lane: 'interactive',
    priority: 5,
    request: { model: 'm', messages: [{ role: 'user', content: 'hi' }], ...request },
    ...(cache ? { cache } : {}),
  }) as CompletionJobSpec;
const cachedModel = { cache: { ttlS: 300 } } as ModelConfig;
const plainModel = {} as ModelConfig;

describe('response cache policy', () => {
  it.each([
    [
      'a temperature-0 request that asks is cached for its ttl_s',
      spec({ temperature: 0 }, { ttl_s: 60 }),
      plainModel,
      { ttlS: 60 },
    ],
    [
      'a request that does not ask, on a plain model, is not',
      spec({ temperature: 0 }),
      plainModel,
      undefined,
    ],
    [
      "a model's cache covers its temperature-0 requests",
      spec({ temperature: 0 }),
      cachedModel,
      { ttlS: 300 },
    ],
    [
      "the request's ttl_s wins over the model's",
      spec({ temperature: 0 }, { ttl_s: 5 }),
      cachedModel,
      { ttlS: 5 },
    ],
    ['ttl_s 0 turns the model cache off', spec({ temperature: 0 }, { ttl_s: 0 }), cachedModel, undefined],
    ['a sampled request is not cached', spec({ temperature: 0.2 }, { ttl_s: 60 }), plainModel, undefined],
    ['no temperature samples (the default is 1)', spec({}, { ttl_s: 60 }), cachedModel, undefined],
    [
      'nondeterministic opts a sampled request in',
      spec({ temperature: 1 }, { ttl_s: 60, nondeterministic: true }),
      plainModel,
      { ttlS: 60 },
    ],
    [
      "a model's cache alone never caches a sampled request",
      spec({ temperature: 1 }),
      cachedModel,
      undefined,
    ],
  ] as const)('%s', (_name, s, model, expected) => {
    expect(cachePolicy(s, model)).toEqual(expected);
  });
});

describe('request cache id', () => {
  const base = spec({ temperature: 0, max_tokens: 10 }).request;
  it('key order does not matter; user does not count', () => {
    const reordered: CompletionJobSpec['request'] = {
      max_tokens: 10,
      temperature: 0,
      messages: [{ content: 'hi', role: 'user' }],
      model: 'm',
    };
    expect(requestCacheId(reordered)).toBe(requestCacheId(base));
    expect(requestCacheId({ ...base, user: 'someone' })).toBe(requestCacheId(base));
  });
  it('any other difference is another request', () => {
    const id = requestCacheId(base);
    expect(requestCacheId({ ...base, max_tokens: 11 })).not.toBe(id);
    expect(requestCacheId({ ...base, model: 'n' })).not.toBe(id);
    expect(requestCacheId({ ...base, messages: [{ role: 'user', content: 'hi ' }] })).not.toBe(id);
    expect(requestCacheId({ ...base, response_format: { type: 'json_object' } })).not.toBe(id);
  });
});
