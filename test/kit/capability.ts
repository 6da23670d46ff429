import { describe, expect, it } from 'vitest';

/**
 * A suite that needs something the machine may lack (a network namespace, a browser, promtool).
 * `name` is what `SWITCHYARD_ALLOW_SKIP` (comma-separated) names to let it skip under CI.
 */
export interface Capability {
  name: string;
  available: boolean;
  /** What provides it, for the failure message: "apt-get install chromium". */
  hint: string;
}

export type CapabilityDecision = 'run' | 'skip' | 'fail';

/** The names `SWITCHYARD_ALLOW_SKIP` allows to skip (`netns,promtool`). */
export function allowedSkips(env: NodeJS.ProcessEnv = process.env): Set<string> {
  const list = env.SWITCHYARD_ALLOW_SKIP ?? '';
  return new Set(
    list
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
}

/**
 * Runs when the capability is there. Missing, it skips on a developer's machine; under
 * `CI=true` it fails, unless `SWITCHYARD_ALLOW_SKIP` names it: a CI run never hides a suite.
 */
export function decideCapability(cap: Capability, env: NodeJS.ProcessEnv = process.env): CapabilityDecision {
  if (cap.available) return 'run';
  if (env.CI !== 'true' || allowedSkips(env).has(cap.name)) return 'skip';
  return 'fail';
}

/**
 * `describe(title, body)` for a suite that needs `cap`: run, skipped, or (missing under CI with no
 * allowance) one failing test that says what is missing and how to allow the skip.
 */
export function describeWith(cap: Capability, title: string, body: () => void): void {
  const decision = decideCapability(cap);
  if (decision === 'run') {
    describe(title, body);
    return;
  }
  if (decision === 'skip') {
    console.warn(`${title}: skipped, no ${cap.name} (${cap.hint})`);
    describe.skip(title, body);
    return;
  }
  describe(title, () => {
    it(`needs ${cap.name} under CI`, () => {
      expect.fail(
        `${cap.name} is missing (${cap.hint}); under CI=true this fails instead of skipping ` +
          `unless SWITCHYARD_ALLOW_SKIP=${cap.name} names the machine as one without it`,
      );
    });
  });
}
