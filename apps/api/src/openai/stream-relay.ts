import type { JobRecord, Usage } from '@switchyard/contracts';
import { duplicateClient } from '@switchyard/jobs';
import type { FastifyReply } from 'fastify';
import type { Cluster, Redis } from 'ioredis';
import { openEventStream } from '../sse.ts';
import { chunk, openAiUsage } from './chat-shapes.ts';
import { readJobEvents } from './job-events.ts';
import { openAiError } from './openai-errors.ts';

export interface RelayOptions {
  reply: FastifyReply;
  /** The API's client; the relay reads on a duplicate of it (XREAD BLOCK holds a connection). */
  redis: Redis | Cluster;
  key: string;
  job: JobRecord;
  includeUsage: boolean;
  signal: AbortSignal;
  deadline: number;
}

/** The worker's `done` event of a streaming job. */
export interface Done {
  model: string;
  finishReason: string | null;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens?: number;
  cacheWriteTokens?: number;
  reasoningTokens?: number;
  costNanos: number;
  cached?: boolean;
}

export function usageOfDone(d: Done): Usage {
  return {
    input_tokens: d.inputTokens,
    output_tokens: d.outputTokens,
    cached_input_tokens: d.cachedInputTokens ?? 0,
    cache_write_tokens: d.cacheWriteTokens ?? 0,
    reasoning_tokens: d.reasoningTokens ?? 0,
  };
}

/**
 * Relays a streaming job as OpenAI server-sent events: one chunk per delta as the worker receives
 * it, a final chunk with `finish_reason`, a usage chunk when asked for, then `[DONE]`. A failure
 * (including a stream cut mid-answer) is sent as an `error` event, which OpenAI SDKs raise.
 */
export async function relayStream(opts: RelayOptions): Promise<void> {
  const { reply, job } = opts;
  const res = openEventStream(reply, { 'x-switchyard-job-id': job.id });
  const send = (data: unknown) =>
    res.write(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
  const base = {
    id: `chatcmpl-${job.id}`,
    created: Math.floor(Date.parse(job.created_at) / 1000),
    model: job.result?.type === 'completion' ? job.result.model : '',
  };
  const fail = (code: string, message: string) => send(openAiError(code, message).body);
  const reader = duplicateClient(opts.redis, {
    enableOfflineQueue: true,
    commandTimeout: undefined,
    maxRetriesPerRequest: 1,
  });
  reader.on('error', () => undefined);
  let attempt: number | undefined;
  let finished = false;
  let relayed = 0;
  try {
    for await (const ev of readJobEvents(reader, opts.key, opts.signal, opts.deadline)) {
      if (ev.type === 'retry') continue;
      if (attempt !== undefined && ev.attempt !== attempt && ev.type === 'd') {
        fail('upstream_bad_response', 'the answer was interrupted and restarted; resubmit the request');
        finished = true;
        break;
      }
      if (ev.type === 'd') {
        // The stream keeps its last 100,000 events: a delta trimmed before it was read leaves a
        // gap in the numbers, and a gap ends the answer with an error, never a silent hole.
        if (ev.seq !== undefined && ev.seq !== relayed + 1) {
          fail(
            'upstream_bad_response',
            'part of the streamed answer was lost in relay; resubmit the request',
          );
          finished = true;
          break;
        }
        relayed++;
        if (attempt === undefined) {
          attempt = ev.attempt;
          send(chunk(base, { role: 'assistant', content: '' }));
        }
        send(chunk(base, { content: ev.content ?? '' }));
      } else if (ev.type === 'done') {
        const d = ev.payload as Done;
        const b = { ...base, model: d.model };
        if (attempt === undefined) send(chunk(b, { role: 'assistant', content: '' }));
        // A replay from the response cache says so on its last chunk, as `cached: true` does on
        // a whole answer.
        send({ ...chunk(b, {}, d.finishReason ?? 'stop'), ...(d.cached ? { cached: true } : {}) });
        if (opts.includeUsage) {
          send({
            ...chunk(b, {}),
            choices: [],
            usage: openAiUsage(usageOfDone(d)),
            switchyard: { job_id: job.id, cost_usd: d.costNanos / 1e9 },
          });
        }
        send('[DONE]');
        finished = true;
        break;
      } else {
        const p = (ev.payload ?? {}) as { code?: string; message?: string };
        fail(p.code ?? 'internal_job_error', p.message ?? 'the job failed');
        finished = true;
        break;
      }
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
