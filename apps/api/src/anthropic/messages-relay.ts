import type { JobRecord } from '@switchyard/contracts';
import { duplicateClient } from '@switchyard/jobs';
import type { FastifyReply } from 'fastify';
import type { Cluster, Redis } from 'ioredis';
import { readJobEvents } from '../openai/job-events.ts';
import { usageOfDone, type Done } from '../openai/stream-relay.ts';
import { openEventStream } from '../sse.ts';
import { anthropicError, anthropicUsage, sseEvent, stopReasonOf } from './messages-shapes.ts';

export interface MessagesRelayOptions {
  reply: FastifyReply;
  /** The API's client; the relay reads on a duplicate of it (XREAD BLOCK holds a connection). */
  redis: Redis | Cluster;
  key: string;
  job: JobRecord;
  /** The model asked for, named in `message_start` (the answering model is in the final usage). */
  model: string;
  signal: AbortSignal;
  deadline: number;
}

/** `message_start` with zero usage (the job's usage is known only at its end) and the text block. */
function head(id: string, model: string): string {
  const usage = {
    input_tokens: 0,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: 0,
  };
  const message = {
    id,
    type: 'message',
    role: 'assistant',
    model,
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage,
  };
  return (
    sseEvent({ type: 'message_start', message }) +
    sseEvent({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } })
  );
}

/** `content_block_stop`, then `message_delta` with the stop reason and the whole usage, `message_stop`. */
function tail(d: Done): string {
  return (
    sseEvent({ type: 'content_block_stop', index: 0 }) +
    sseEvent({
      type: 'message_delta',
      delta: { stop_reason: stopReasonOf(d.finishReason), stop_sequence: null },
      usage: anthropicUsage(usageOfDone(d)),
      switchyard: { cost_usd: d.costNanos / 1e9 },
    }) +
    sseEvent({ type: 'message_stop' })
  );
}

/**
 * Relays a streaming job as Messages API events: `message_start`, one `content_block_delta` per
 * delta as the worker receives it, then the tail; the whole usage (input, cache reads and writes,
 * output) comes in `message_delta`, as Anthropic's own cumulative counters do. A failure, including
 * a stream cut and restarted mid-answer, is an `error` event, which Anthropic SDKs raise.
 */
export async function relayMessages(opts: MessagesRelayOptions): Promise<void> {
  const { job } = opts;
  const res = openEventStream(opts.reply, { 'x-switchyard-job-id': job.id });
  const fail = (code: string, message: string) => res.write(sseEvent(anthropicError(code, message).body));
  const reader = duplicateClient(opts.redis, {
    enableOfflineQueue: true,
    commandTimeout: undefined,
    maxRetriesPerRequest: 1,
  });
  reader.on('error', () => undefined);
  let attempt: number | undefined;
  let finished = false;
  const start = () => res.write(head(`msg_${job.id}`, opts.model));
  try {
    for await (const ev of readJobEvents(reader, opts.key, opts.signal, opts.deadline)) {
      if (ev.type === 'retry') continue;
      finished = ev.type !== 'd';
      if (ev.type === 'd' && attempt !== undefined && ev.attempt !== attempt) {
        fail('upstream_bad_response', 'the answer was interrupted and restarted; resubmit the request');
        finished = true;
      } else if (ev.type === 'd') {
        if (attempt === undefined) start();
        attempt = ev.attempt;
        res.write(
          sseEvent({
            type: 'content_block_delta',
            index: 0,
            delta: { type: 'text_delta', text: ev.content ?? '' },
          }),
        );
      } else if (ev.type === 'done') {
        if (attempt === undefined) start();
        res.write(tail(ev.payload as Done));
      } else {
        const p = (ev.payload ?? {}) as { code?: string; message?: string };
        fail(p.code ?? 'internal_job_error', p.message ?? 'the job failed');
      }
      if (finished) break;
    }
    if (!finished && !opts.signal.aborted)
      fail('deadline_exceeded', 'the job did not finish before its deadline');
  } catch {
    if (!opts.signal.aborted) fail('redis_unavailable', 'the job store became unavailable mid-stream');
  } finally {
    reader.disconnect();
    res.end();
  }
}
