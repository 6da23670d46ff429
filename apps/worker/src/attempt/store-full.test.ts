import { ReplyError } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { backoffStrategy, RetryableAttemptError, STORE_FULL_RETRY_MS } from './errors.ts';
import type { JobRun } from './job-run.ts';
import { whileStoreFull } from './store-full.ts';

const oom = () =>
  new ReplyError(
    "OOM command not allowed when used memory > 'maxmemory'. script: 5e59, on @user_script:12.",
  ) as Error;
const runUntil = (deadline: number) =>
  ({
    deadline,
    jobId: 'j1',
    spec: { lane: 'batch' },
    deps: { logger: { warn: () => undefined } },
  }) as unknown as JobRun;

describe('a full Redis (OOM) holds a job instead of failing it', () => {
  it('repeats a step Redis refused for memory until it is taken', async () => {
    let calls = 0;
    const got = await whileStoreFull(runUntil(Date.now() + 10_000), async () => {
      if (++calls < 3) throw oom();
      return 'written';
    });
    expect([got, calls]).toEqual(['written', 3]);
  });

  it('passes any other error on at once, and the refusal itself at the deadline', async () => {
    let calls = 0;
    const other = whileStoreFull(runUntil(Date.now() + 10_000), async () => {
      calls++;
      throw new ReplyError('NOSCRIPT no such script') as Error;
    });
    await expect(other).rejects.toThrow(/NOSCRIPT/);
    expect(calls).toBe(1);
    await expect(whileStoreFull(runUntil(Date.now() + 100), () => Promise.reject(oom()))).rejects.toThrow(
      /^OOM/,
    );
  });

  it('a job whose finish Redis refused for memory runs again later; other unknown errors are final', () => {
    expect(backoffStrategy(1, 'custom', oom())).toBe(STORE_FULL_RETRY_MS);
    const execAbort = new ReplyError(
      'EXECABORT Transaction discarded because of: OOM command not allowed',
    ) as Error;
    expect(backoffStrategy(1, 'custom', execAbort)).toBe(STORE_FULL_RETRY_MS);
    expect(backoffStrategy(1, 'custom', new Error('OOM but not from Redis'))).toBe(-1);
    expect(backoffStrategy(1, 'custom', new RetryableAttemptError('5xx', 750))).toBe(750);
  });
});
