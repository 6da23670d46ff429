import { SwitchyardError, type FileObject } from '@switchyard/contracts';
import type { Cluster, Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { fileKeys, type FileKeys } from './keys.ts';
import { newestFirst, type Page } from './newest-first.ts';

export interface FileStoreOptions {
  redis: Redis | Cluster;
  prefix: string;
  /** Largest file, in bytes before compression (`files.maxBytes`). */
  maxBytes: number;
  /** Most lines a file may hold (`files.maxLines`). */
  maxLines: number;
  /** How long a file is kept (`files.ttlSeconds`). */
  ttlSeconds: number;
  /** Compressed bytes per stored chunk (one RPUSH each). */
  chunkBytes?: number;
}

const DEFAULT_CHUNK_BYTES = 256 * 1024;
const NEWLINE = 0x0a;

export const isFileId = (id: string) => /^file-[0-9a-f]{24}$/.test(id);

/** A time-ordered id, so a tenant's files list in upload order. */
export function newFileId(): string {
  return `file-${Date.now().toString(16).padStart(12, '0')}${randomBytes(6).toString('hex')}`;
}

/** Counts bytes and lines as the upload passes, and stops it at either cap. */
async function* capped(
  body: AsyncIterable<Buffer | string>,
  limits: { maxBytes: number; maxLines: number },
  seen: { bytes: number; lines: number; last: number },
): AsyncGenerator<Buffer> {
  for await (const part of body) {
    const buf = typeof part === 'string' ? Buffer.from(part) : part;
    if (!buf.length) continue;
    seen.bytes += buf.length;
    if (seen.bytes > limits.maxBytes) {
      throw new SwitchyardError('file_too_large', `a file may hold at most ${limits.maxBytes} bytes`);
    }
    for (let i = buf.indexOf(NEWLINE); i !== -1; i = buf.indexOf(NEWLINE, i + 1)) seen.lines++;
    seen.last = buf[buf.length - 1] ?? NEWLINE;
    // An unterminated last line counts too: checked here so the cap holds mid-stream.
    if (seen.lines + (seen.last === NEWLINE ? 0 : 1) > limits.maxLines) {
      throw new SwitchyardError('file_too_many_lines', `a file may hold at most ${limits.maxLines} lines`);
    }
    yield buf;
  }
}

/**
 * Uploaded files (OpenAI's Files API), per tenant, in Redis: the bytes are gzip-compressed as they
 * arrive and stored as a list of chunks, so neither an upload nor a download is ever held whole in
 * memory. An upload lands under a key of its own and is renamed into place once complete, so a
 * file that exists is always whole. Files expire after `ttlSeconds`.
 */
export class FileStore {
  private readonly opts: FileStoreOptions;
  private readonly keys: FileKeys;

  constructor(opts: FileStoreOptions) {
    this.opts = opts;
    this.keys = fileKeys(opts.prefix);
  }

  /** Stores a file read from `body`; throws `file_too_large` / `file_too_many_lines` past the caps. */
  async put(
    tenantId: string,
    body: AsyncIterable<Buffer | string>,
    meta: { filename: string; purpose: 'batch' },
  ): Promise<FileObject> {
    const { redis, ttlSeconds } = this.opts;
    const id = newFileId();
    const upload = this.keys.upload(tenantId, id);
    const seen = { bytes: 0, lines: 0, last: NEWLINE };
    const chunkBytes = this.opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    const store = async (compressed: AsyncIterable<Buffer>) => {
      let parts: Buffer[] = [];
      let size = 0;
      const push = async () => {
        await redis.multi().rpush(upload, Buffer.concat(parts, size)).expire(upload, ttlSeconds).exec();
        [parts, size] = [[], 0];
      };
      for await (const c of compressed) {
        parts.push(c);
        size += c.length;
        if (size >= chunkBytes) await push();
      }
      if (size) await push();
    };
    try {
      await pipeline(capped(body, this.opts, seen), createGzip(), store);
    } catch (err) {
      await redis.del(upload);
      throw err;
    }
    const lines = seen.lines + (seen.last === NEWLINE ? 0 : 1);
    const createdAt = Date.now();
    const metaKey = this.keys.meta(tenantId, id);
    const fields = {
      filename: meta.filename,
      purpose: meta.purpose,
      bytes: seen.bytes,
      lines,
      created_at: createdAt,
    };
    const tx = redis.multi();
    // gzip writes a header and trailer even for an empty file, so there is always a chunk.
    tx.rename(upload, this.keys.chunks(tenantId, id)).expire(this.keys.chunks(tenantId, id), ttlSeconds);
    tx.hset(metaKey, fields).expire(metaKey, ttlSeconds);
    // The index lives as long as its newest file (every file lives ttlSeconds).
    tx.zadd(this.keys.index(tenantId), createdAt, id).expire(this.keys.index(tenantId), ttlSeconds);
    const replies = await tx.exec();
    const failed = replies?.find(([e]) => e);
    if (!replies || failed) throw failed?.[0] ?? new Error('file write was discarded');
    return this.toFile(id, { ...fields, bytes: String(seen.bytes), created_at: String(createdAt) });
  }

  /** The file, or undefined when it does not exist (or is another tenant's, or expired). */
  async get(tenantId: string, fileId: string): Promise<(FileObject & { lines: number }) | undefined> {
    if (!isFileId(fileId)) return undefined;
    const h = await this.opts.redis.hgetall(this.keys.meta(tenantId, fileId));
    if (!h.created_at) return undefined;
    return { ...this.toFile(fileId, h), lines: Number(h.lines ?? 0) };
  }

  /**
   * The file's bytes, decompressed a chunk at a time. The caller checked the file exists; a file
   * that expires mid-read ends early, which a line reader sees as a cut-off body.
   */
  async *content(tenantId: string, fileId: string): AsyncGenerator<Buffer> {
    const key = this.keys.chunks(tenantId, fileId);
    const redis = this.opts.redis;
    const head = await redis.lindexBuffer(key, 0);
    if (!head) return;
    async function* compressed() {
      yield head as Buffer;
      for (let i = 1; ; i++) {
        const chunk = await redis.lindexBuffer(key, i);
        if (!chunk) return;
        yield chunk;
      }
    }
    const gunzip = createGunzip();
    const feeding = pipeline(compressed(), gunzip).catch((err: unknown) => gunzip.destroy(err as Error));
    try {
      for await (const out of gunzip) yield out as Buffer;
    } finally {
      gunzip.destroy();
      await feeding;
    }
  }

  /** Deletes the file; false when there was none. */
  async delete(tenantId: string, fileId: string): Promise<boolean> {
    if (!isFileId(fileId)) return false;
    const k = this.keys;
    const [[, n] = [null, 0]] =
      (await this.opts.redis
        .multi()
        .del(k.meta(tenantId, fileId))
        .del(k.chunks(tenantId, fileId))
        .zrem(k.index(tenantId), fileId)
        .exec()) ?? [];
    return Number(n) === 1;
  }

  /** The tenant's files, newest first, after the file `after` (a cursor), at most `limit`. */
  async list(tenantId: string, opts: { after?: string; limit: number }): Promise<Page<FileObject>> {
    const { redis, ttlSeconds } = this.opts;
    const index = this.keys.index(tenantId);
    // Every file lives ttlSeconds: older index entries name expired files.
    await redis.zremrangebyscore(index, '-inf', `(${Date.now() - ttlSeconds * 1000}`);
    return newestFirst(redis, index, opts, async (id) => {
      const file = await this.get(tenantId, id);
      if (!file) return undefined;
      const { lines: _, ...rest } = file;
      return rest;
    });
  }

  private toFile(id: string, h: Record<string, string | number>): FileObject {
    const created = Number(h.created_at);
    return {
      id,
      object: 'file',
      bytes: Number(h.bytes ?? 0),
      created_at: Math.floor(created / 1000),
      expires_at: Math.floor(created / 1000) + this.opts.ttlSeconds,
      filename: String(h.filename ?? ''),
      purpose: 'batch',
      status: 'processed',
    };
  }
}
