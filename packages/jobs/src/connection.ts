import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

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

/** Where Redis is: one server (`url`) or the seed nodes of a Redis Cluster (`cluster`, `host:port`). */
export interface RedisTarget {
  url: string;
  cluster?: string[] | undefined;
}

/** Either kind of client; every store takes this. */
export type RedisClient = Redis | Cluster;

/**
 * Cluster options for a role: the role's per-connection options go to every node; the API's
 * fail-fast rule (no offline queue) holds for the cluster client too. Reads go to masters only, so
 * a job is never read from a replica that has not seen its latest write.
 */
export function clusterOptions(opts: ConnectionOptions, extra: RedisOptions = {}): ClusterOptions {
  const { enableOfflineQueue, enableAutoPipelining, ...perNode } = { ...redisOptions(opts), ...extra };
  return {
    redisOptions: perNode,
    scaleReads: 'master',
    clusterRetryStrategy: backoff,
    // A failover moves slots: ask the cluster again soon and retry a command redirected mid-move.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    retryDelayOnTryAgain: 200,
    slotsRefreshTimeout: 2_000,
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    ...(enableAutoPipelining === undefined ? {} : { enableAutoPipelining }),
  };
}

/**
 * The one factory of Redis clients: a `Cluster` when `target.cluster` names seed nodes, else a
 * `Redis` for `target.url` (or a bare URL). Callers own the client and must `quit()` it. Errors
 * are reported, never thrown.
 */
export function createRedis(
  target: RedisTarget | string,
  opts: ConnectionOptions,
  onError?: (err: Error) => void,
  extra: RedisOptions = {},
): RedisClient {
  const t = typeof target === 'string' ? { url: target } : target;
  const redis = t.cluster?.length
    ? new Cluster(t.cluster.map(seedNode), clusterOptions(opts, extra))
    : new Redis(t.url, { ...redisOptions(opts), ...extra });
  redis.on('error', onError ?? (() => undefined));
  // A cluster client's per-node connections are its own; the hung-server drop is single-node only.
  if (opts.role === 'api' && redis instanceof Redis) dropWhenHung(redis);
  return redis;
}

function seedNode(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at), port: Number(address.slice(at + 1)) };
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
export async function whenReady(redis: RedisClient, timeoutMs: number): Promise<void> {
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
export function isReady(redis: RedisClient): boolean {
  return redis.status === 'ready';
}

/**
 * A new connection like `redis` with some per-connection options changed (for blocking reads,
 * which must not share the client's socket). A cluster duplicate keeps the cluster's options.
 */
export function duplicateClient(redis: RedisClient, override: RedisOptions): RedisClient {
  if (redis instanceof Cluster) {
    const { enableOfflineQueue, ...perNode } = override;
    return redis.duplicate([], {
      ...redis.options,
      redisOptions: { ...redis.options.redisOptions, ...perNode },
      ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    });
  }
  return redis.duplicate(override);
}

/**
 * `WAIT replicas timeoutMs` on the node that holds `key`, over the connection that wrote to it:
 * how many replicas have every write this client sent that node so far. On a cluster WAIT has
 * no key, so it rides in a pipeline with a read of `key`, which routes it to that node.
 */
export async function waitForReplicas(
  redis: RedisClient,
  key: string,
  replicas: number,
  timeoutMs: number,
): Promise<number> {
  if (!(redis instanceof Cluster)) return redis.wait(replicas, timeoutMs);
  const replies = (await redis.pipeline().exists(key).wait(replicas, timeoutMs).exec()) ?? [];
  const [err, acked] = replies[1] ?? [new Error('WAIT got no reply')];
  if (err) throw err;
  return Number(acked);
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
