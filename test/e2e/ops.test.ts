import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completion } from './support/api.ts';
import { startTestStack, type TestStack } from './support/stack.ts';

let t: TestStack;

beforeAll(async () => {
  t = await startTestStack({ worker: false });
});
afterAll(async () => t?.close());

async function metrics(): Promise<string> {
  const res = await request(`${t.url}/metrics`);
  expect(res.statusCode).toBe(200);
  return res.body.text();
}

const gauge = (text: string, lane: string, state: string) =>
  Number(
    new RegExp(`^switchyard_queue_jobs\\{lane="${lane}",state="${state}"[^}]*\\} (\\d+)$`, 'm').exec(
      text,
    )?.[1],
  );

describe('operations endpoints', () => {
  it('/healthz and /readyz answer when Redis is up', async () => {
    expect((await request(`${t.url}/healthz`)).statusCode).toBe(200);
    expect((await request(`${t.url}/readyz`)).statusCode).toBe(200);
  });

  it('/metrics shows queue depth per lane and state, for autoscaling workers', async () => {
    const { api } = await t.tenant();
    const before = await metrics();
    expect(gauge(before, 'interactive', 'prioritized')).toBe(0);
    for (let i = 0; i < 3; i++) expect((await api.post('/v1/jobs', completion(`q${i}`))).status).toBe(202);
    const batch = { ...completion('b'), lane: 'batch' };
    expect((await api.post('/v1/jobs', batch)).status).toBe(202);
    const after = await metrics();
    // No worker runs: interactive jobs wait (BullMQ keeps prioritized jobs apart from `waiting`);
    // batch jobs are held by the fair share (delayed) until a worker's mover releases them.
    expect(gauge(after, 'interactive', 'prioritized')).toBe(3);
    expect(gauge(after, 'interactive', 'active')).toBe(0);
    expect(gauge(after, 'batch', 'delayed')).toBe(1);
    expect(after).toContain('# HELP switchyard_queue_jobs');
  });
});
