import type { ProviderAdapter } from '../types.ts';
import { chatComplete } from './chat-complete.ts';
import { chatStream } from './chat-stream.ts';

/** OpenAI and every OpenAI-compatible API (vLLM, Together, Groq, local mocks...). */
export const openai: ProviderAdapter = { kind: 'openai', chatComplete, chatStream };
