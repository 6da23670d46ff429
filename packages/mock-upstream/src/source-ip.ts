import type { IncomingMessage } from 'node:http';

/** Strips the IPv4-mapped prefix so `::ffff:127.0.0.12` and `127.0.0.12` are one client. */
export function normaliseIp(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice('::ffff:'.length) : ip;
}

/** The address the request came from, as the per-IP limits and counters see it. */
export function sourceIp(req: IncomingMessage): string {
  return normaliseIp(req.socket.remoteAddress ?? 'unknown');
}
