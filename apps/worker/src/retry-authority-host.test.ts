import type { ErrorCode } from '@switchyard/contracts';
import { describe, expect, it } from 'vitest';
import {
  decideHostWait,
  decideRobots,
  type FailDecision,
  type FailReason,
  type HostWaitInput,
  type RobotsInput,
} from './retry-authority.ts';

const fail = (reason: FailReason, code: ErrorCode, message: string): FailDecision => ({
  action: 'fail',
  reason,
  code,
  message,
});

const hostWait: [string, HostWaitInput, ReturnType<typeof decideHostWait>][] = [
  [
    'a host that must not be asked yet delays the job until its ticket (no attempt spent)',
    { waitMs: 500, beforeDeadline: true, reason: 'interval', now: 1_000, deadline: 10_000 },
    { action: 'delay', until: 1_500 },
  ],
  [
    'a paused host (Retry-After) delays the job until the pause ends',
    { waitMs: 3_000, beforeDeadline: true, reason: 'paused', now: 1_000, deadline: 10_000 },
    { action: 'delay', until: 4_000 },
  ],
  [
    'a host with no slot before the deadline fails the job, naming why',
    { waitMs: 20_000, beforeDeadline: false, reason: 'concurrency', now: 1_000, deadline: 10_000 },
    fail('deadline', 'deadline_exceeded', 'the host had no free slot before the deadline (concurrency)'),
  ],
  [
    'a ticket at the deadline is too late',
    { waitMs: 9_000, beforeDeadline: true, reason: 'interval', now: 1_000, deadline: 10_000 },
    fail('deadline', 'deadline_exceeded', 'the host had no free slot before the deadline (interval)'),
  ],
];

describe('retry authority: waiting for a host (per-host politeness)', () => {
  it.each(hostWait)('%s', (_name, input, expected) => {
    expect(decideHostWait(input)).toEqual(expected);
  });
});

const base = { token: 'Switchyard', now: 1_000, deadline: 10_000 } as const;
const robots: [string, RobotsInput, ReturnType<typeof decideRobots>][] = [
  ['an allowed URL runs', { ...base, verdict: 'allowed' }, { action: 'run' }],
  ['an unknown robots.txt runs on (it is fetched next)', { ...base, verdict: 'unknown' }, { action: 'run' }],
  [
    'a disallowed URL fails the job with robots_disallowed, never retried',
    { ...base, verdict: 'disallowed' },
    fail('robots', 'robots_disallowed', 'the site\'s robots.txt disallows this URL for "Switchyard"'),
  ],
  [
    'an unreachable robots.txt delays the job until the next try, without spending an attempt',
    { ...base, verdict: 'unreachable', until: 4_000 },
    { action: 'delay', until: 4_000 },
  ],
  [
    'an unreachable robots.txt past the deadline fails the job',
    { ...base, verdict: 'unreachable', until: 10_000 },
    fail('deadline', 'deadline_exceeded', "the site's robots.txt stayed unreachable until the deadline"),
  ],
];

describe('retry authority: robots.txt', () => {
  it.each(robots)('%s', (_name, input, expected) => {
    expect(decideRobots(input)).toEqual(expected);
  });
});
