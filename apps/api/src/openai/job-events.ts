import type { Cluster, Redis } from 'ioredis';

export interface JobEvent {
  type: 'd' | 'retry' | 'done' | 'fail';
  attempt: number;
  content?: string;
  /** A delta's number within its attempt, from 1 (absent from older workers' events). */
  seq?: number;
  payload?: unknown;
}

/**
 * Reads a streaming job's events (written by the worker's DeltaRelay) from the start, blocking
 * for new ones, until a final event, the signal, or the deadline. `redis` must be a connection of
 * its own: XREAD BLOCK holds it.
 */
export async function* readJobEvents(
  redis: Redis | Cluster,
  key: string,
  signal: AbortSignal,
  deadline: number,
): AsyncGenerator<JobEvent> {
  let last = '0-0';
  while (!signal.aborted && Date.now() < deadline) {
    const reply = await redis.xread('COUNT', 256, 'BLOCK', 1000, 'STREAMS', key, last);
    for (const [, entries] of reply ?? []) {
      for (const [id, flat] of entries) {
        last = id;
        const f = new Map<string, string>();
        for (let i = 0; i + 1 < flat.length; i += 2) f.set(flat[i] ?? '', flat[i + 1] ?? '');
        const p = f.get('p');
        const n = f.get('n');
        yield {
          seq: n === undefined ? undefined : Number(n),
          type: (f.get('t') ?? 'fail') as JobEvent['type'],
          attempt: Number(f.get('a') ?? 0),
          content: f.get('c'),
          payload: p ? JSON.parse(p) : undefined,
        };
      }
    }
  }
}
