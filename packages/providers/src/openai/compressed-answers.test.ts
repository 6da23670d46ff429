import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import zlib from 'node:zlib';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContentDecodingError } from '../content-decoding.ts';
import type { ChatCall } from '../types.ts';
import { chatComplete } from './chat-complete.ts';
import { chatStream } from './chat-stream.ts';

const ANSWER = JSON.stringify({
  choices: [{ message: { content: 'compressed hello' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 5, completion_tokens: 2 },
});
const EVENTS = [
  { choices: [{ delta: { content: 'one ' } }] },
  { choices: [{ delta: { content: 'two' }, finish_reason: 'stop' }] },
  { choices: [], usage: { prompt_tokens: 5, completion_tokens: 2 } },
]
  .map((e) => `data: ${JSON.stringify(e)}\n\n`)
  .concat('data: [DONE]\n\n');

/** An OpenAI-compatible server that compresses with the coding its path names, and records what it was asked. */
let server: Server;
let base = '';
const asked: IncomingHttpHeaders[] = [];
const agent = new Agent();

beforeAll(async () => {
  server = createServer((req, res) => {
    asked.push(req.headers);
    const coding = (req.url ?? '').split('/')[1] ?? 'identity';
    req.resume();
    req.on('end', () => {
      const streaming = (req.headers.accept ?? '').includes('text/event-stream');
      if (coding === 'broken') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        res.end('not gzip');
        return;
      }
      if (!streaming) {
        const body = coding === 'br' ? zlib.brotliCompressSync(ANSWER) : zlib.gzipSync(ANSWER);
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': coding });
        res.end(body);
        return;
      }
      // A server that compresses a stream anyway, flushing after every event.
      res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' });
      const gz = zlib.createGzip();
      gz.pipe(res);
      for (const e of EVENTS) gz.write(e, () => gz.flush());
      gz.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await agent.close();
  await new Promise((resolve) => server.close(resolve));
});

const call = (coding: string): ChatCall => ({
  baseUrl: `${base}/${coding}/v1`,
  apiKey: undefined,
  upstreamModel: 'm',
  request: { model: 'm', messages: [{ role: 'user', content: 'hi' }] },
  timeoutMs: 5_000,
  signal: new AbortController().signal,
  dispatcher: agent,
});

describe('LLM answers over the wire compressed', () => {
  it.each(['gzip', 'br'])(
    'a %s answer is asked for, decoded, and counted at its wire size',
    async (coding) => {
      const out = await chatComplete(call(coding));
      expect(asked.at(-1)?.['accept-encoding']).toBe('gzip, deflate, br, zstd');
      expect(out.content).toBe('compressed hello');
      expect(out.bytes).toBeLessThan(Buffer.byteLength(ANSWER));
    },
  );

  it('an answer that does not decode is a ContentDecodingError', async () => {
    await expect(chatComplete(call('broken'))).rejects.toBeInstanceOf(ContentDecodingError);
  });

  it('a stream asks for no compression, and one compressed anyway is decoded as events arrive', async () => {
    const deltas: string[] = [];
    const out = await chatStream(call('gzip'), (d) => deltas.push(d));
    expect(asked.at(-1)?.['accept-encoding']).toBeUndefined();
    expect(deltas).toEqual(['one ', 'two']);
    expect(out).toMatchObject({ content: 'one two', usage: { input_tokens: 5, output_tokens: 2 } });
  });
});
