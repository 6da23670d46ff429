import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import zlib from 'node:zlib';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatCall } from '../types.ts';
import { partialStreamText, UpstreamHttpError } from '../upstream-errors.ts';
import { messagesComplete } from './messages.ts';
import { messagesStream } from './stream.ts';

const MESSAGE = JSON.stringify({
  type: 'message',
  content: [{ type: 'text', text: 'compressed hello' }],
  stop_reason: 'end_turn',
  usage: { input_tokens: 5, cache_read_input_tokens: 3, output_tokens: 2 },
});
const event = (e: { type: string } & Record<string, unknown>) =>
  `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
const HEAD = [
  event({ type: 'message_start', message: { usage: { input_tokens: 5, output_tokens: 1 } } }),
  event({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'one ' } }),
  event({ type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'hmm' } }),
  event({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'two' } }),
];
const TAIL = [
  event({ type: 'message_delta', delta: { stop_reason: 'max_tokens' }, usage: { output_tokens: 7 } }),
  event({ type: 'message_stop' }),
];

/** A Messages API server: gzips what it answers, cuts a stream at `/cut`, overloads at `/529`. */
let server: Server;
let base = '';
const asked: IncomingHttpHeaders[] = [];
const agent = new Agent();

beforeAll(async () => {
  server = createServer((req, res) => {
    asked.push(req.headers);
    const mode = (req.url ?? '').split('/')[1];
    req.resume();
    req.on('end', () => {
      if (mode === '529') {
        res.writeHead(529, { 'content-type': 'application/json', 'retry-after': '7' });
        res.end(
          JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
        );
        return;
      }
      if (!(req.headers.accept ?? '').includes('text/event-stream')) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        res.end(zlib.gzipSync(MESSAGE));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (mode === 'cut') res.write(HEAD.join(''), () => res.destroy());
      else res.end([...HEAD, ...TAIL].join(''));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await agent.close();
  await new Promise((resolve) => server.close(resolve));
});

const call = (mode: string): ChatCall => ({
  baseUrl: `${base}/${mode}/v1`,
  apiKey: 'sk-ant',
  upstreamModel: 'claude',
  request: { model: 'c', messages: [{ role: 'user', content: 'hi' }] },
  timeoutMs: 5_000,
  signal: new AbortController().signal,
  dispatcher: agent,
});

describe('Anthropic adapter on the wire', () => {
  it('sends the key and version, and decodes a gzipped message counted at its wire size', async () => {
    const out = await messagesComplete(call('ok'));
    expect(asked.at(-1)).toMatchObject({ 'x-api-key': 'sk-ant', 'anthropic-version': '2023-06-01' });
    expect(out).toMatchObject({
      content: 'compressed hello',
      finishReason: 'stop',
      usage: { input_tokens: 8, cached_input_tokens: 3, output_tokens: 2 },
    });
    expect(out.bytes).toBeLessThan(Buffer.byteLength(MESSAGE));
  });

  it('streams text deltas only; message_delta’s counters replace message_start’s', async () => {
    const deltas: string[] = [];
    const out = await messagesStream(call('ok'), (d) => deltas.push(d));
    expect(deltas).toEqual(['one ', 'two']);
    expect(out).toMatchObject({
      content: 'one two',
      finishReason: 'length',
      usage: { input_tokens: 5, output_tokens: 7 },
    });
  });

  it('a stream cut before message_stop throws, marked with the text received', async () => {
    const err = await messagesStream(call('cut'), () => undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(partialStreamText(err)).toBe('one two');
  });

  it('a 529 overloaded_error is an HTTP error with its type and Retry-After, for the classifier', async () => {
    const err = await messagesComplete(call('529')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamHttpError);
    expect(err).toMatchObject({ status: 529, upstreamCode: 'overloaded_error', retryAfterMs: 7000 });
  });
});
