import { SwitchyardError } from '@switchyard/contracts';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStore } from './file-store.ts';
import { fileKeys } from './keys.ts';

// The shared test Redis (test/kit/global-setup.ts) under a prefix of this file's own.
const url = process.env.REDIS_URL ?? process.env.SWITCHYARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `t${randomBytes(4).toString('hex')}`;
let redis: Redis;
let files: FileStore;

beforeAll(() => {
  redis = new Redis(url);
  files = new FileStore({
    redis,
    prefix,
    maxBytes: 4 * 1024 * 1024,
    maxLines: 20_000,
    ttlSeconds: 600,
    chunkBytes: 4096,
  });
});
afterAll(() => redis?.disconnect());

const tenant = () => `ten_${randomBytes(4).toString('hex')}`;
const meta = { filename: 'in.jsonl', purpose: 'batch' as const };

async function* pieces(text: string, size: number) {
  for (let i = 0; i < text.length; i += size) yield Buffer.from(text.slice(i, i + size));
}
async function readAll(it: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const p of it) parts.push(p);
  return Buffer.concat(parts).toString('utf8');
}
async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return err instanceof SwitchyardError ? err.code : String(err);
  }
}

describe('FileStore', () => {
  it('stores a file compressed in several chunks and gives back exactly its bytes', async () => {
    const t = tenant();
    const lines = Array.from({ length: 10_000 }, (_, i) => JSON.stringify({ custom_id: `r${i}`, n: i }));
    const text = lines.join('\n') + '\n';
    const file = await files.put(t, pieces(text, 7_000), meta);
    expect(file).toMatchObject({
      object: 'file',
      bytes: Buffer.byteLength(text),
      purpose: 'batch',
      filename: 'in.jsonl',
    });
    expect(file.expires_at).toBe(file.created_at + 600);
    expect((await files.get(t, file.id))?.lines).toBe(10_000);
    const chunks = await redis.llen(fileKeys(prefix).chunks(t, file.id));
    const stored = await redis.memory('USAGE', fileKeys(prefix).chunks(t, file.id));
    expect(chunks).toBeGreaterThan(1);
    expect(Number(stored)).toBeLessThan(Buffer.byteLength(text) / 3);
    expect(await redis.ttl(fileKeys(prefix).chunks(t, file.id))).toBeGreaterThan(590);
    expect(await readAll(files.content(t, file.id))).toBe(text);
  });

  it('counts an unterminated last line and keeps an empty file', async () => {
    const t = tenant();
    const file = await files.put(t, pieces('a\nb\nc', 2), meta);
    expect((await files.get(t, file.id))?.lines).toBe(3);
    expect(await readAll(files.content(t, file.id))).toBe('a\nb\nc');
    const empty = await files.put(t, pieces('', 1), meta);
    expect(empty.bytes).toBe(0);
    expect(await readAll(files.content(t, empty.id))).toBe('');
  });

  it('refuses a file past the byte or line cap and leaves nothing behind', async () => {
    const t = tenant();
    const big = 'x'.repeat(1023) + '\n';
    expect(await codeOf(files.put(t, pieces(big.repeat(4 * 1024 + 1), 64 * 1024), meta))).toBe(
      'file_too_large',
    );
    expect(await codeOf(files.put(t, pieces('{}\n'.repeat(20_001), 4096), meta))).toBe('file_too_many_lines');
    expect(await codeOf(files.put(t, pieces('{}\n'.repeat(20_000) + '{}', 4096), meta))).toBe(
      'file_too_many_lines',
    );
    expect(await redis.keys(`${prefix}:file:{${t}}:*`)).toEqual([]);
    expect((await files.list(t, { limit: 10 })).data).toEqual([]);
  });

  it('a tenant sees only its own files; delete removes the file and its listing', async () => {
    const [a, b] = [tenant(), tenant()];
    const file = await files.put(a, pieces('{}\n', 10), meta);
    expect(await files.get(b, file.id)).toBeUndefined();
    expect(await readAll(files.content(b, file.id))).toBe('');
    expect((await files.list(b, { limit: 10 })).data).toEqual([]);
    expect(await files.delete(b, file.id)).toBe(false);
    expect(await files.delete(a, file.id)).toBe(true);
    expect(await files.get(a, file.id)).toBeUndefined();
    expect((await files.list(a, { limit: 10 })).data).toEqual([]);
  });

  it('lists newest first with an after cursor and has_more', async () => {
    const t = tenant();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await files.put(t, pieces(`${i}\n`, 10), meta)).id);
      await new Promise((r) => setTimeout(r, 2));
    }
    const first = await files.list(t, { limit: 2 });
    expect(first.data.map((f) => f.id)).toEqual([ids[4], ids[3]]);
    expect(first.has_more).toBe(true);
    const rest = await files.list(t, { after: ids[3], limit: 3 });
    expect(rest.data.map((f) => f.id)).toEqual([ids[2], ids[1], ids[0]]);
    expect(rest.has_more).toBe(false);
    await redis.del(fileKeys(prefix).meta(t, ids[2] ?? ''));
    expect((await files.list(t, { after: ids[3], limit: 3 })).data.map((f) => f.id)).toEqual([
      ids[1],
      ids[0],
    ]);
  });
});
