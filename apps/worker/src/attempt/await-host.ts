import { TargetLookupError, type HostLease, type RobotsFetch } from '@switchyard/scrape';
import { DelayedError } from 'bullmq';
import { classify, poolOutcome } from '../classify.ts';
import type { EgressGrant } from '../egress.ts';
import type { ScrapePoliteness } from '../politeness.ts';
import { decideHostWait, decideRobots, type DelayDecision, type FailDecision } from '../retry-authority.ts';
import type { JobRun } from './job-run.ts';

/**
 * Step 2 of a scrape, before (and around) its egress: robots.txt and the host's politeness. A
 * disallowed URL fails the job (`robots_disallowed`) without a request; a host that must not be
 * asked yet (interval, concurrency, a Retry-After pause, an unreachable robots.txt) delays the job
 * until its ticket, with no attempt spent and no proxy or worker slot held. The first job of an
 * origin fetches robots.txt for the fleet, in a slot of its own. The grant returned gives the host
 * slot back when the attempt releases its egress. Completions (and a fleet with both off) just
 * acquire their egress.
 */
export async function awaitHost(
  run: JobRun,
  token: string | undefined,
  acquire: () => Promise<EgressGrant>,
): Promise<EgressGrant> {
  const p = run.deps.politeness;
  if (!p || p.off || run.spec.type !== 'scrape') return acquire();
  const url = new URL(run.spec.request.url);
  // Two rounds at most: after the first job fetched robots.txt, the fleet knows it.
  for (let resume = false; ; resume = true) {
    const answer = await p.robots(url, run.tenantId);
    const verdict = answer.kind === 'exempt' ? 'allowed' : answer.kind;
    const until = answer.kind === 'unreachable' ? answer.until : undefined;
    const robots = decideRobots({ verdict, until, token: p.token, now: Date.now(), deadline: run.deadline });
    if (robots.action !== 'run') await stop(run, token, robots, 'robots_unreachable');
    const lease = await takeSlot(run, token, p, url.hostname, { intervalMs: p.intervalMs(answer), resume });
    if (answer.kind === 'unknown' && !(await robotsFetchTurn(run, token, { p, url, lease }))) continue;
    let grant: EgressGrant;
    try {
      grant = await acquire();
    } catch (err) {
      if (lease) await p.release(lease);
      throw err;
    }
    const ready =
      answer.kind !== 'unknown' || (await fetchRobots(run, token, { p, origin: url.origin, grant, lease }));
    if (ready) return lease ? holdingSlot(grant, p, lease) : grant;
  }
}

/**
 * Whether this job is the one to fetch the origin's unknown robots.txt. robots.txt is stored
 * before its slot is given back, so a job granted after it finds it (false: go round again); a job
 * granted while another fetches it gives its slot back unsent and waits an interval.
 */
async function robotsFetchTurn(
  run: JobRun,
  token: string | undefined,
  at: { p: ScrapePoliteness; url: URL; lease: HostLease | undefined },
): Promise<boolean> {
  const { p, url, lease } = at;
  if ((await p.robots(url, run.tenantId)).kind !== 'unknown') {
    if (lease) await p.release(lease);
    return false;
  }
  if (await p.claimRobotsFetch(url.origin, run.jobId)) return true;
  if (lease) await p.release(lease);
  const reason = 'robots_fetching';
  const waitMs = Math.max(p.intervalMs({ kind: 'unknown' }), 250);
  const input = { waitMs, beforeDeadline: true, reason, now: Date.now(), deadline: run.deadline };
  return stop(run, token, decideHostWait(input), reason);
}

/** Fails the job, or delays it without spending an attempt, counting why. */
async function stop(
  run: JobRun,
  token: string | undefined,
  decision: DelayDecision | FailDecision,
  reason: string,
): Promise<never> {
  if (decision.action === 'fail') throw await run.fail(decision);
  const { deps, jobId, spec } = run;
  deps.metrics?.delayedForHost.inc({ lane: spec.lane, reason });
  if (spec.type === 'scrape')
    deps.politeness?.noteDelay(new URL(spec.request.url).hostname, { jobId, reason, until: decision.until });
  await run.job.moveToDelayed(decision.until, token);
  await deps.delays?.note(spec.lane, 'host', jobId, decision.until);
  throw new DelayedError();
}

/** A slot at the host now (undefined when per-host politeness is off), or the job waits for its ticket. */
async function takeSlot(
  run: JobRun,
  token: string | undefined,
  p: ScrapePoliteness,
  host: string,
  opts: { intervalMs: number; resume: boolean },
): Promise<HostLease | undefined> {
  const claim = await p.claim(host, run.jobId, { ...opts, deadline: run.deadline });
  if (!claim || claim.granted) return claim?.lease;
  const { waitMs, beforeDeadline, reason } = claim;
  const decision = decideHostWait({
    waitMs,
    beforeDeadline,
    reason,
    now: Date.now(),
    deadline: run.deadline,
  });
  return stop(run, token, decision, reason);
}

/** The grant, with the host slot given back when the attempt releases it (a Retry-After pauses the host). */
function holdingSlot(grant: EgressGrant, p: ScrapePoliteness, lease: HostLease): EgressGrant {
  return {
    ...grant,
    beforeSend: () => void p.started(lease),
    async release(report) {
      await grant.release(report);
      const hostSaidWait = report.outcome === 'rate_limited' || report.outcome === 'upstream_fault';
      await p.release(lease, hostSaidWait ? report.retryAfterMs : undefined);
    },
  };
}

interface RobotsFetchSlot {
  p: ScrapePoliteness;
  origin: string;
  grant: EgressGrant;
  lease: HostLease | undefined;
}

/**
 * The origin's robots.txt, fetched in this job's slot through its egress and stored for the fleet.
 * True when nothing was sent (the host name did not resolve): the page attempt goes on with the
 * same slot and egress, and fails or retries as any attempt to an unresolvable host does.
 */
async function fetchRobots(run: JobRun, token: string | undefined, at: RobotsFetchSlot): Promise<boolean> {
  const { p, origin, grant, lease } = at;
  let fetched: RobotsFetch;
  try {
    fetched = await p.fetchRobots(origin, grant.dispatcher, lease && (() => void p.started(lease)));
  } catch (err) {
    if (err instanceof TargetLookupError) {
      await p.endRobotsFetch(origin);
      return true;
    }
    await robotsFailed(run, token, at, err);
    return false;
  }
  const retryAfterMs = fetched.kind === 'unreachable' ? fetched.retryAfterMs : undefined;
  const bytes = fetched.kind === 'unreachable' ? 0 : fetched.bytes;
  const limited = fetched.kind === 'unreachable' && fetched.status === 429;
  const outcome = fetched.kind !== 'unreachable' ? 'ok' : limited ? 'rate_limited' : 'upstream_fault';
  await p.store(origin, fetched);
  await grant.release({ outcome, bytes, retryAfterMs });
  // The page comes next from this job: an interval after robots.txt ended, however late it left.
  if (lease) await p.release(lease, retryAfterMs, true);
  run.deps.metrics?.robotsFetches.inc({ result: fetched.kind });
  return false;
}

/**
 * A robots.txt fetch that got no answer. A proxy fault stores nothing (the proxy is to blame) and
 * the job tries again shortly through another; a timeout or refused connection stores
 * "unreachable", so every job of the origin waits for the next try.
 */
async function robotsFailed(run: JobRun, token: string | undefined, at: RobotsFetchSlot, err: unknown) {
  const { p, origin, grant, lease } = at;
  const failure = classify(err, { canceled: false, viaProxy: grant.viaProxy });
  if (failure.outcome !== 'proxy_fault') await p.store(origin, { kind: 'unreachable' });
  await grant.release({ outcome: poolOutcome(failure.outcome), bytes: 0 });
  if (lease) await p.release(lease);
  run.deps.metrics?.robotsFetches.inc({ result: failure.outcome });
  if (failure.outcome === 'proxy_fault') {
    await p.endRobotsFetch(origin);
    const reason = 'robots_proxy_fault';
    const input = { waitMs: run.deps.policy.backoffMs, beforeDeadline: true, reason };
    await stop(run, token, decideHostWait({ ...input, now: Date.now(), deadline: run.deadline }), reason);
  }
}
