import { describe, expect, it } from 'vitest';
import { isFinal, type JobRecord } from './jobs.ts';

describe('isFinal', () => {
  const at = '2026-12-04T00:00:00.000Z';
  it.each<[JobRecord['status'], string | null, boolean]>([
    ['queued', null, false],
    ['running', null, false],
    ['succeeded', at, true],
    ['failed', at, true],
    // cancel asked while a worker still holds the job: it is stopping, not stopped
    ['canceled', null, false],
    ['canceled', at, true],
  ])('a %s job with finished_at %s is final: %s', (status, finished_at, final) => {
    expect(isFinal({ status, finished_at })).toBe(final);
  });
});
