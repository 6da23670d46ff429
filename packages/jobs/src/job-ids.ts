import { createHash, randomBytes } from 'node:crypto';
import type { Lane } from '@switchyard/contracts';

/**
 * Job ids carry their lane (`ji_` interactive, `jb_` batch) so a lookup goes straight to the
 * right queue. Random ids are time-ordered (hex ms timestamp first) for readable listings.
 */
const LANE_TAG: Record<Lane, string> = { interactive: 'ji_', batch: 'jb_' };

export function newJobId(lane: Lane): string {
  return `${LANE_TAG[lane]}${Date.now().toString(16).padStart(12, '0')}${randomBytes(8).toString('hex')}`;
}

/** The job id an Idempotency-Key maps to: the same tenant and key always name the same job. */
export function idempotentJobId(lane: Lane, tenantId: string, key: string): string {
  const digest = createHash('sha256').update(`${tenantId}\0${key}`).digest('hex').slice(0, 40);
  return `${LANE_TAG[lane]}k${digest}`;
}

export function laneOfJobId(id: string): Lane | undefined {
  if (id.startsWith(LANE_TAG.interactive)) return 'interactive';
  if (id.startsWith(LANE_TAG.batch)) return 'batch';
  return undefined;
}

const JOB_ID = /^j[ib]_[0-9a-fk]{20,48}$/;
export function isJobId(id: string): boolean {
  return JOB_ID.test(id);
}
