import { ProxyAgent } from 'undici';
import type { Dispatcher } from 'undici';
import { assertSupportedProxyUrl } from './validate.ts';

export interface ProxyDispatchersOptions {
  /** Default 10 s. */
  connectTimeoutMs?: number;
  /** Idle keep-alive of pooled connections; default 4 s. */
  keepAliveTimeoutMs?: number;
  /** Most connections per (proxy, target origin); default unlimited, the pool's maxConcurrency bounds it. */
  connections?: number;
  /** Extra ProxyAgent options (TLS for the proxy or target, timeouts). `uri` is always the proxy's. */
  agent?: Omit<ProxyAgent.Options, 'uri'>;
}

interface Entry {
  url: string;
  agent: ProxyAgent;
}

/**
 * One undici ProxyAgent per proxy, created on first use and reused across leases: CONNECT tunnels
 * for https targets, absolute-form requests for http ones. Nothing here retries: no retry
 * interceptor is installed and undici re-sends nothing that reached the wire, so every attempt
 * is a decision of the worker and its retry authority.
 */
export class ProxyDispatchers {
  readonly #entries = new Map<string, Entry>();
  readonly #opts: ProxyDispatchersOptions;

  constructor(opts: ProxyDispatchersOptions = {}) {
    this.#opts = opts;
  }

  /** The dispatcher for a lease's proxy; a changed URL for the same id replaces the agent. */
  get(target: { proxyId: string; proxyUrl: string }): Dispatcher {
    const entry = this.#entries.get(target.proxyId);
    if (entry?.url === target.proxyUrl) return entry.agent;
    assertSupportedProxyUrl(target.proxyUrl);
    if (entry) void entry.agent.close().catch(() => undefined);
    const agent = new ProxyAgent({
      connectTimeout: this.#opts.connectTimeoutMs ?? 10_000,
      keepAliveTimeout: this.#opts.keepAliveTimeoutMs ?? 4_000,
      ...(this.#opts.connections ? { connections: this.#opts.connections } : {}),
      ...this.#opts.agent,
      uri: target.proxyUrl,
      proxyTunnel: false,
    });
    this.#entries.set(target.proxyId, { url: target.proxyUrl, agent });
    return agent;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Closes the agent of a removed proxy (in-flight requests finish first). */
  async remove(proxyId: string): Promise<void> {
    const entry = this.#entries.get(proxyId);
    if (!entry) return;
    this.#entries.delete(proxyId);
    await entry.agent.close();
  }

  /** Closes the agents of every proxy not in `keep` (e.g. the ids of `pool.list()`). */
  async prune(keep: Iterable<string>): Promise<void> {
    const ids = new Set(keep);
    await Promise.all([...this.#entries.keys()].filter((id) => !ids.has(id)).map((id) => this.remove(id)));
  }

  async close(): Promise<void> {
    const agents = [...this.#entries.values()].map((e) => e.agent);
    this.#entries.clear();
    await Promise.all(agents.map((a) => a.close()));
  }
}
