import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';

describe('logger', () => {
  it('redacts keys, credentials and prompts', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const log = createLogger({ name: 't', destination: sink });
    log.info(
      {
        req: { headers: { authorization: 'Bearer sy_secret123' } },
        proxyUrl: 'http://user:pw@127.0.0.1:1',
        spec: { request: { messages: [{ role: 'user', content: 'my secret prompt' }] } },
        jobId: 'j_1',
      },
      'submitted',
    );
    const out = lines.join('');
    expect(out).toContain('j_1');
    for (const secret of ['sy_secret123', 'pw@', 'my secret prompt']) expect(out).not.toContain(secret);
  });
});
