import { parseArgs } from 'node:util';
import { startMockLlm, type Latency } from './mock-llm.ts';

const USAGE = `usage: node packages/mock-upstream/src/cli.ts [options]
  --port <n>            port to listen on (default 4010; 0 = any free port)
  --host <addr>         address to listen on (default 127.0.0.1)
  --api-key <key>       require "Authorization: Bearer <key>"
  --latency-ms <n|a-b>  delay before each answer, fixed or a range
  --token-delay-ms <n>  delay between streamed chunks
  --answer-words <n>    words per answer (default 16)
  --models <a,b>        model ids to answer (default mock-small,mock-large)`;

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

function int(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) fail(`--${name} must be a non-negative integer`);
  return Number(value);
}

function latency(value: string | undefined): Latency | undefined {
  const range = value === undefined ? null : /^(\d+)-(\d+)$/.exec(value);
  if (!range) return int('latency-ms', value);
  const [min, max] = [Number(range[1]), Number(range[2])];
  if (min > max) fail('--latency-ms range must be low-high');
  return { min, max };
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      port: { type: 'string', default: '4010' },
      host: { type: 'string', default: '127.0.0.1' },
      'api-key': { type: 'string' },
      'latency-ms': { type: 'string' },
      'token-delay-ms': { type: 'string' },
      'answer-words': { type: 'string' },
      models: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (err) {
  fail(err instanceof Error ? err.message : String(err));
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

const mock = await startMockLlm({
  host: values.host,
  port: int('port', values.port),
  apiKey: values['api-key'],
  latencyMs: latency(values['latency-ms']),
  tokenDelayMs: int('token-delay-ms', values['token-delay-ms']),
  answerWords: int('answer-words', values['answer-words']),
  models: values.models?.split(',').filter((m) => m.length > 0),
});

// stdout carries only the URL so a parent process can read it; the notice goes to stderr.
process.stdout.write(`${mock.url}\n`);
process.stderr.write(`mock LLM (a test double, not a real model) serving ${mock.url}/v1\n`);

const stop = () => {
  void mock.close().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
