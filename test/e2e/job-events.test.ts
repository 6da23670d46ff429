import type { JobRecord } from '@switchyard/contracts';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completion, type Api } from './support/api.ts';
import { startTestStack, type TestStack } from './support/stack.ts';
import { until } from './support/wait.ts';

let t: TestStack;
let api: Api;
let key: string;

beforeAll(async () => {
  t = await startTestStack();
  ({ api, key } = await t.tenant());
});
afterAll(async () => t?.close());

async function events(id: string, as = key): Promise<{ status: number; records: JobRecord[] }> {
  const res = await request(`${t.url}/v1/jobs/${id}/events`, { headers: { authorization: `Bearer ${as}` } });
  const text = await res.body.text();
  const records = text
    .split('\n\n')
    .filter((block) => block.startsWith('event: status'))
    .map((block) => JSON.parse(block.split('\ndata: ')[1] ?? '{}') as JobRecord);
  return { status: res.statusCode, records };
}

describe('GET /v1/jobs/{id}/events', () => {
  it('streams status changes as server-sent events until the job finishes', async () => {
    t.mock.setFaults({ error5xx: 1 });
    const calls = t.mock.stats().calls;
    const job = (await api.post<JobRecord>('/v1/jobs', completion('watch me'))).body;
    const stream = events(job.id);
    // The first attempt fails; the upstream recovers before the retry (at least 25 ms later).
    await until('the first attempt', () => t.mock.stats().calls > calls, 10_000, 2);
    t.mock.setFaults({});
    const { status, records } = await stream;
    expect(status).toBe(200);
    const statuses = records.map((r) => r.status);
    expect(statuses.at(-1)).toBe('succeeded');
    expect(statuses).toContain('running');
    expect(records.at(-1)?.attempts).toBeGreaterThan(1);
  });

  it('a finished job answers with one event; another tenant gets 404', async () => {
    const job = (await api.post<JobRecord>('/v1/jobs', completion('done already'), { prefer: 'wait=10' }))
      .body;
    const { records } = await events(job.id);
    expect(records.map((r) => r.status)).toEqual(['succeeded']);
    const other = await t.tenant();
    expect((await events(job.id, other.key)).status).toBe(404);
  });
});
