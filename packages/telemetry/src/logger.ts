import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino removes from every log line. Prompts, scraped bodies, keys and proxy credentials
 * must never reach logs; log ids and sizes instead.
 */
export const REDACT_PATHS = [
  'authorization',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["proxy-authorization"]',
  'apiKey',
  'key',
  'adminKey',
  'proxyUrl',
  'proxy.url',
  'password',
  'secret',
  'webhook_secret',
  'webhookSecret',
  'messages',
  'request.messages',
  'spec.request.messages',
  'spec.request.headers',
  'body',
  'content',
  'prompt',
] as const;

export interface LoggerOptions {
  level?: string;
  name: string;
  /** Defaults to stdout. Tests pass a stream to inspect what would be logged. */
  destination?: DestinationStream;
}

/** JSON logs to stdout, with the fixed redaction list; object first, message second. */
export function createLogger(opts: LoggerOptions): Logger {
  return pino(
    {
      name: opts.name,
      level: opts.level ?? 'info',
      redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    opts.destination,
  );
}
