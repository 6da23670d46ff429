import { SwitchyardClient } from '@switchyard/client';
import type { Command } from 'commander';
import { CliInputError } from './errors.ts';

export interface GlobalOptions {
  url?: string;
  key?: string;
  json?: boolean;
}

/** What every command uses: the client, and how to print. */
export interface Context {
  client: SwitchyardClient;
  json: boolean;
  /** A result line on stdout. */
  print(line: string): void;
  /** A status line on stderr (never mixed into `--json` output). */
  status(line: string): void;
  /** Whether stderr is a terminal (progress bars) or not (a plain line every few seconds). */
  tty: boolean;
}

/** The context from the global options, `SWITCHYARD_URL` and `SWITCHYARD_API_KEY`. */
export function contextOf(cmd: Command): Context {
  const opts = cmd.optsWithGlobals<GlobalOptions>();
  const url = opts.url ?? (process.env.SWITCHYARD_URL || 'http://127.0.0.1:8080');
  const key = opts.key ?? (process.env.SWITCHYARD_API_KEY || undefined);
  if (!key) throw new CliInputError('no API key: set SWITCHYARD_API_KEY or pass --key');
  try {
    new URL(url);
  } catch {
    throw new CliInputError(`not a URL: ${url} (SWITCHYARD_URL or --url)`);
  }
  return {
    client: new SwitchyardClient({ baseUrl: url, apiKey: key }),
    json: opts.json === true,
    print: (line) => process.stdout.write(`${line}\n`),
    status: (line) => process.stderr.write(`${line}\n`),
    tty: process.stderr.isTTY === true,
  };
}

/** Parses a whole-number option, or says which one is wrong. */
export function positiveInt(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < 1)
      throw new CliInputError(`${name} must be a whole number ≥ 1`);
    return Number(value);
  };
}
