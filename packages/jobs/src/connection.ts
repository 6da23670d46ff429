import { Redis, type RedisOptions } from 'ioredis';

/**
 * `api`: fail fast. No offline queue and no resend after a reconnect, so a command is never
 *   executed after the client was told 503; a short command timeout so a hung Redis cannot hang
 *   a request.
 * `worker`: BullMQ workers block and must survive outages: retry forever (`maxRetriesPerRequest:
 *   null`, as BullMQ requires).
 */
export type ConnectionRole = 'api' | 'worker';

export interface ConnectionOptions {
  role: ConnectionRole;
  /** Shown in CLIENT LIST, e.g. `sy-api`. */
  name: string;
}

const backoff = (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2_000);

export function redisOptions(opts: ConnectionOptions): RedisOptions {
  const common: RedisOptions = { connectionName: opts.name, retryStrategy: backoff, connectTimeout: 2_000 };
  if (opts.role === 'api') {
    // No auto-pipelining here: a request's commands are mostly sequential, and ioredis's batching
    // cost the API more CPU per request than the socket writes it saved (round-trip bench).
    return {
      ...common,
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 1,
      commandTimeout: 2_000,
    };
  }
  return { ...common, maxRetriesPerRequest: null, enableReadyCheck: true };
}

/** Creates a client; callers own it and must `quit()` it. Errors are reported, never thrown. */
export function createRedis(url: string, opts: ConnectionOptions, onError?: (err: Error) => void): Redis {
  const redis = new Redis(url, redisOptions(opts));
  redis.on('error', onError ?? (() => undefined));
  if (opts.role === 'api') dropWhenHung(redis);
  return redis;
}

const TIMED_OUT = 'Command timed out';

/**
 * A command timeout on an open connection means the server is hung (stopped, swapped out, stuck
 * on a slow disk): TCP stays up, so without this every request would wait out a timeout of its
 * own, one per command. The first timeout drops the connection instead: commands in flight fail
 * at once, the client stops being ready (the API answers 503 without sending anything), and
 * ioredis reconnects (its retry strategy), becoming ready when the server answers its ready
 * check again.
 */
function dropWhenHung(redis: Redis): void {
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = (...args: Parameters<Redis['sendCommand']>) => {
    const sent = send(...args);
    (sent as Promise<unknown>).catch((err: unknown) => {
      // Destroyed, not ended: a hung peer never answers a FIN, so an ended socket would not close
      // (and ioredis would not reconnect) until Redis woke up or TCP gave up.
      if ((err as Error | null)?.message === TIMED_OUT && redis.status === 'ready') redis.stream.destroy();
    });
    return sent;
  };
}

/**
 * Resolves once the client can take commands; rejects after `timeoutMs` (the client goes on
 * reconnecting) with the last connection error in the message. An `api`-role client answers 503
 * until then, so servers wait for this before they listen.
 */
export async function whenReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (isReady(redis)) return;
  let lastError = '';
  const onError = (err: Error) => (lastError = err.message);
  redis.on('error', onError);
  try {
    await new Promise<void>((resolve, reject) => {
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        redis.off('ready', onReady);
        const why = lastError ? ` (${lastError})` : '';
        reject(new Error(`Redis was not ready within ${timeoutMs} ms${why}`));
      }, timeoutMs);
      redis.once('ready', onReady);
    });
  } finally {
    redis.off('error', onError);
  }
}

/** True when commands can be sent now; the API answers 503 instead of queueing them. */
export function isReady(redis: Redis): boolean {
  return redis.status === 'ready';
}

/**
 * Redis's own error code: the first word of an error reply (`OOM command not allowed…`,
 * `LOADING …`). A transaction refused because one of its commands was (`EXECABORT … because of:
 * OOM …`) is named by that command's code. Undefined for anything that is not an error reply.
 */
export function redisErrorCode(err: unknown): string | undefined {
  if (!(err instanceof Error) || err.name !== 'ReplyError') return undefined;
  return /^(?:EXECABORT .*because of: )?([A-Z]+)\b/.exec(err.message)?.[1];
}

/** Redis refused a write for memory (`maxmemory` under `noeviction`): nothing of it was written. */
export const isStoreFull = (err: unknown): boolean => redisErrorCode(err) === 'OOM';
