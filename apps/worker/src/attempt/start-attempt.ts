import type { AttemptStart } from '../attempt-state.ts';
import { decideStart } from '../retry-authority.ts';
import type { EgressGrant } from '../egress.ts';
import { Attempt, ledgerEntry, type AttemptSlot } from './attempt.ts';
import type { JobRun } from './job-run.ts';

/**
 * Numbers the next attempt of `run` (in Redis, so every worker and every re-run agrees). The
 * tenant-load start note goes out with it (one write, no wait for the number): a job stops
 * counting as queued against its tenant's limits when its first attempt starts; on a later run
 * the note is a no-op.
 */
export function numberAttempt(run: JobRun): Promise<AttemptStart> {
  const { deps, jobId, tenantId } = run;
  const numbering = deps.attempts.start(jobId);
  void deps.load
    ?.started(tenantId, jobId)
    .catch((err: unknown) => deps.logger.warn({ err, jobId }, 'tenant load update failed'));
  return numbering;
}

/**
 * A re-run after a crash: the attempt the dead worker was on left no entry, so it is noted as
 * interrupted, and every earlier one too (a worker killed between numbering its attempt and
 * writing this note left a gap). Idempotent: a recorded attempt is not overwritten, and a late
 * real outcome replaces a note (ADR 0022).
 */
export async function recordInterrupted(run: JobRun, slot: AttemptSlot): Promise<void> {
  const note = { outcome: 'upstream_fault', interrupted: true, proxyId: null } as const;
  await Promise.all(
    Array.from({ length: slot.n - 1 }, (_, i) =>
      run.deps.ledger.record(ledgerEntry(run, slot, { ...note, attempt: i + 1 })),
    ),
  );
}

/**
 * Step 3: numbers the attempt (`numberAttempt`, or the numbering the processor sent early), does
 * the first attempt's bookkeeping, writes the ledger entry a crashed predecessor could not, and
 * stops a re-run past the last allowed attempt.
 */
export async function startAttempt(
  run: JobRun,
  grant: EgressGrant,
  signal: AbortSignal | undefined,
  numbering: Promise<AttemptStart> = numberAttempt(run),
): Promise<Attempt> {
  const { deps } = run;
  const started = Date.now();
  const numbered = await numbering;
  const { n } = numbered;
  const slot: AttemptSlot = {
    ...numbered,
    model: run.modelAt(numbered.modelIndex),
    proxyId: grant.proxyId ?? null,
    started,
  };
  // A job's first attempt on an upstream (a fallback model's included) earns its retry budget.
  if (numbered.modelAttempt === 1) deps.budget.countFirst(run.budgetScope(slot.model));
  if (n > 1) await recordInterrupted(run, slot);
  const { maxAttempts } = deps.policy;
  const decision = decideStart({ attempt: n, maxAttempts, modelCount: run.models.length });
  if (decision.action === 'fail') {
    await grant.release({ outcome: 'canceled', bytes: 0 });
    throw await run.fail(decision, n);
  }
  return new Attempt(run, grant, slot, signal);
}
