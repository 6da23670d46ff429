import type { ServerResponse } from 'node:http';
import { pause, sendJson } from './http-server.ts';
import type { CallHandle } from './llm-ledger.ts';
import {
  chunkBody,
  completionBody,
  serverErrorBody,
  usageChunkBody,
  type CompletionMeta,
} from './openai-shapes.ts';
import { billOf, cutBillOf } from './token-classes.ts';
import type { CompletionPlan } from './tokens.ts';

/** How a 200 answer is delivered: whole, cut off mid-way, or as an error object. */
export type AnswerMode = 'ok' | 'cut' | 'error200';

function writeThenDestroy(res: ServerResponse, data: string): void {
  res.write(data, () => res.destroy());
}

/**
 * A non-streaming answer. Stats are settled before the last byte goes out, so a client that has
 * read the whole body always sees its call in `stats()`.
 */
export function answerJson(
  res: ServerResponse,
  call: CallHandle,
  meta: CompletionMeta,
  plan: CompletionPlan,
  mode: AnswerMode,
): void {
  if (mode === 'error200') {
    call.settle('error200');
    sendJson(res, 200, serverErrorBody());
    return;
  }
  const text = JSON.stringify(completionBody(meta, plan));
  if (mode === 'cut') {
    call.settle('cut');
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    writeThenDestroy(res, text.slice(0, Math.floor(text.length / 2)));
    return;
  }
  call.settle('ok', billOf(plan));
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const sse = (payload: unknown) =>
  `data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`;

/**
 * A server-sent-events answer: a role chunk, one chunk per word (`tokenDelayMs` apart), a chunk with
 * `finish_reason`, the usage chunk when asked for, then `[DONE]`. A cut stream stops after half the
 * words. A stream is billed when it reaches its usage chunk, or without `include_usage` its finish
 * chunk, because a real provider bills a completed stream either way.
 */
export async function answerStream(
  res: ServerResponse,
  call: CallHandle,
  meta: CompletionMeta,
  plan: CompletionPlan,
  mode: AnswerMode,
  opts: { includeUsage: boolean; tokenDelayMs: number; signal: AbortSignal },
): Promise<void> {
  let closed = false;
  res.once('close', () => (closed = true));
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  if (mode === 'error200') {
    call.settle('error200');
    res.end(sse(serverErrorBody()));
    return;
  }
  const { includeUsage } = opts;
  const cutAfter = Math.floor(plan.words.length / 2);
  const roleChunk = sse(chunkBody(meta, includeUsage, { role: 'assistant', content: '' }));
  if (mode === 'cut' && cutAfter === 0) {
    call.settle('cut', cutBillOf(plan, 0));
    writeThenDestroy(res, roleChunk);
    return;
  }
  res.write(roleChunk);
  for (const [i, word] of plan.words.entries()) {
    if (i > 0) await pause(opts.tokenDelayMs, opts.signal);
    if (closed || opts.signal.aborted) return;
    const chunk = sse(chunkBody(meta, includeUsage, { content: i === 0 ? word : ` ${word}` }));
    if (mode === 'cut' && i + 1 === cutAfter) {
      call.settle('cut', cutBillOf(plan, cutAfter));
      writeThenDestroy(res, chunk);
      return;
    }
    res.write(chunk);
  }
  call.settle('ok', billOf(plan));
  res.write(sse(chunkBody(meta, includeUsage, {}, plan.finishReason)));
  if (includeUsage) res.write(sse(usageChunkBody(meta, plan)));
  res.end(sse('[DONE]'));
}
