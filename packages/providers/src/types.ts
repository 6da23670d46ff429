import type { CompletionRequest, Usage } from '@switchyard/contracts';
import type { Dispatcher } from 'undici';

/** One upstream call, already resolved to a configured model. */
export interface ChatCall {
  baseUrl: string;
  apiKey: string | undefined;
  upstreamModel: string;
  request: CompletionRequest;
  timeoutMs: number;
  signal: AbortSignal;
  /** The undici dispatcher to send through: a shared Agent (direct) or a proxy's ProxyAgent. */
  dispatcher: Dispatcher;
}

export interface ChatResult {
  content: string | null;
  finishReason: string | null;
  usage: Usage;
  /** Bytes received from the upstream (for proxy byte accounting). */
  bytes: number;
}

/** A provider adapter: every kind exposes the same shape (Portkey-style). */
export interface ProviderAdapter {
  kind: string;
  chatComplete(call: ChatCall): Promise<ChatResult>;
  /** Streams content deltas to `onDelta`; resolves with the whole answer and its usage. */
  chatStream(call: ChatCall, onDelta: (text: string) => void): Promise<ChatResult>;
}
