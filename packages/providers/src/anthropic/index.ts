import type { ProviderAdapter } from '../types.ts';
import { messagesComplete } from './messages.ts';
import { messagesStream } from './stream.ts';

/** Anthropic's native Messages API (`POST /v1/messages`), for an OpenAI-shaped job. */
export const anthropic: ProviderAdapter = {
  kind: 'anthropic',
  chatComplete: messagesComplete,
  chatStream: messagesStream,
};
