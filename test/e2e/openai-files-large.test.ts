import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import OpenAI from 'openai';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOCK_MODEL, startTestStack, type TestStack } from './support/stack.ts';

// API only (no worker): these tests measure the upload and the batch creation, not the run.
let t: TestStack;
let key: string;

beforeAll(async () => {
  t = await startTestStack({ worker: false });
  key = (await t.tenant()).key;
});
afterAll(async () => t?.close());

// A collector to call: what the process still holds after a collection is what it retains.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
const line = (i: number, pad: string) =>
  JSON.stringify({
    custom_id: `doc-${i}`,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model: MOCK_MODEL, messages: [{ role: 'user', content: `document ${i} ${pad}` }] },
  }) + '\n';

/** A multipart body generated as it is sent: the test never holds the file either. */
async function* multipart(boundary: string, lines: number, pad: (i: number) => string) {
  yield `--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n`;
  yield `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.jsonl"\r\n`;
  yield 'Content-Type: application/jsonl\r\n\r\n';
  for (let i = 0; i < lines; i += 500) {
    let chunk = '';
    for (let j = i; j < Math.min(lines, i + 500); j++) chunk += line(j, pad(j));
    yield chunk;
  }
  yield `\r\n--${boundary}--\r\n`;
}

async function upload(lines: number, pad: (i: number) => string) {
  const boundary = `sy${randomBytes(8).toString('hex')}`;
  const res = await request(`${t.url}/v1/files`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
    body: Readable.from(multipart(boundary, lines, pad)),
  });
  return { status: res.statusCode, body: (await res.body.json()) as { id: string; bytes: number } };
}

describe('large OpenAI batch files', () => {
  it('a 100 MB upload is streamed into Redis compressed, never held whole', async () => {
    // Varied text so gzip has work to do: a 2 KB line of words from a small vocabulary.
    const words = Array.from({ length: 64 }, () => randomBytes(4).toString('hex'));
    const pad = (i: number) => {
      let s = '';
      for (let k = 0; s.length < 1_950; k++) s += `${words[(i * 7 + k * 13) % words.length]} `;
      return s;
    };
    const retained = () => {
      gc();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const before = retained();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, retained())), 300);
    const started = performance.now();
    const res = await upload(50_000, pad);
    const ms = performance.now() - started;
    clearInterval(sampler);
    expect(res.status).toBe(200);
    const bytes = res.body.bytes;
    const redis = new Redis(t.redis.url);
    let stored = 0;
    try {
      for (const k of await redis.keys(`${t.config.redis.prefix}:file:*:${res.body.id}:chunks`)) {
        stored += Number(await redis.memory('USAGE', k));
      }
    } finally {
      redis.disconnect();
    }
    console.log(
      `${mb(bytes)} file (50,000 lines) uploaded in ${(ms / 1000).toFixed(2)} s (a forced GC every 300 ms); stored ${mb(stored)} in Redis; ` +
        `API+test process retained heap+buffers ${mb(before)} -> peak ${mb(peak)} (+${mb(peak - before)})`,
    );
    expect(bytes).toBeGreaterThan(100_000_000);
    expect(stored).toBeGreaterThan(0);
    expect(stored).toBeLessThan(bytes / 4);
    // Holding the file whole would retain at least its size.
    expect(peak - before).toBeLessThan(bytes / 4);
    const sdk = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: key, maxRetries: 0 });
    const content = await sdk.files.content(res.body.id);
    let read = 0;
    for await (const chunk of content.body as unknown as AsyncIterable<Uint8Array>) read += chunk.byteLength;
    expect(read).toBe(bytes);
  }, 120_000);

  it('a 50,000-line file becomes a batch: validated and enqueued before the answer', async () => {
    const uploadStarted = performance.now();
    const res = await upload(50_000, () => '');
    expect(res.status).toBe(200);
    const uploadMs = performance.now() - uploadStarted;
    const sdk = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: key, maxRetries: 0, timeout: 170_000 });
    const started = performance.now();
    const batch = await sdk.batches.create({
      input_file_id: res.body.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const ms = performance.now() - started;
    console.log(
      `50,000-line file (${mb(res.body.bytes)}) uploaded in ${(uploadMs / 1000).toFixed(2)} s, ` +
        `validated and enqueued as a batch in ${(ms / 1000).toFixed(2)} s`,
    );
    expect(batch.status).toBe('in_progress');
    expect(batch.request_counts).toEqual({ total: 50_000, completed: 0, failed: 0 });
    const sy = batch as unknown as { counts: Record<string, number> };
    expect(sy.counts).toMatchObject({ accepted: 50_000, queued_or_running: 50_000 });
  }, 180_000);
});
