/** Where and how to reach an OpenAI-compatible API. */
export function chatCompletionsUrl(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/chat/completions`;
}

export function headers(apiKey: string | undefined): Record<string, string> {
  const h: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (apiKey) h.authorization = `Bearer ${apiKey}`;
  return h;
}

/**
 * The most an answer may hold, decoded (a chat answer is kilobytes; a compression bomb from a
 * broken or hostile upstream stops here instead of filling memory).
 */
export const MAX_ANSWER_BYTES = 64 * 1024 * 1024;
