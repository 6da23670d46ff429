import { anthropic } from './anthropic/index.ts';
import { openai } from './openai/index.ts';
import type { ProviderAdapter } from './types.ts';

const ADAPTERS: Record<string, ProviderAdapter> = { openai, anthropic };

export function providerFor(kind: string): ProviderAdapter {
  const adapter = ADAPTERS[kind];
  if (!adapter) throw new Error(`no provider adapter for kind "${kind}"`);
  return adapter;
}
