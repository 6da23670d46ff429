import { connect } from 'node:net';
import type { ProbeFn } from '@switchyard/proxy-pool';

/**
 * The default probe when no `pool.probeUrl` is configured: the proxy accepts a TCP connection.
 * Weaker than fetching through it, but needs no outside target.
 */
export const connectProbe: ProbeFn = (target, signal) =>
  new Promise<boolean>((resolve) => {
    const url = new URL(target.proxyUrl);
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    signal.addEventListener('abort', () => done(false), { once: true });
  });
