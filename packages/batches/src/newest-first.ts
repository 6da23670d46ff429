import type { Cluster, Redis } from 'ioredis';

/** A page of a listing, newest first, as OpenAI's list endpoints answer. */
export interface Page<T> {
  data: T[];
  has_more: boolean;
}

/**
 * Reads a page of a sorted-set index (scored by creation time) newest first: the entries after
 * `after` (a member used as cursor), at most `limit`, each loaded by `load`. Entries whose item is
 * gone (expired) are skipped. The cursor is looked up on every call, so entries added meanwhile
 * (always newer) never shift a page; an unknown cursor answers an empty page.
 */
export async function newestFirst<T>(
  redis: Redis | Cluster,
  index: string,
  opts: { after?: string; limit: number },
  load: (id: string) => Promise<T | undefined>,
): Promise<Page<T>> {
  let start = 0;
  if (opts.after !== undefined) {
    const rank = await redis.zrevrank(index, opts.after);
    if (rank === null) return { data: [], has_more: false };
    start = rank + 1;
  }
  const data: T[] = [];
  for (;;) {
    const ids = await redis.zrevrange(index, start, start + opts.limit);
    const loaded = await Promise.all(ids.map(load));
    for (const item of loaded) {
      if (data.length === opts.limit) return { data, has_more: true };
      if (item !== undefined) data.push(item);
    }
    if (ids.length <= opts.limit) return { data, has_more: false };
    start += ids.length;
  }
}
