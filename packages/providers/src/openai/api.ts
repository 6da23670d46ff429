/** Where and how to reach an OpenAI-compatible API. */
export function chatCompletionsUrl(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/chat/completions`;
}

export function headers(apiKey: string | undefined): Record<string, string> {
  const h: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (apiKey) h.authorization = `Bearer ${apiKey}`;
  return h;
}
