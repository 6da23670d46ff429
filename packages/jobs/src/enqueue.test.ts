import { admissionKeys, FairShare } from '@switchyard/admission';
import { JobSpecSchema, LANES, type JobSpec, type Lane } from '@switchyard/contracts';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildJob, deadlineOf, enqueueJobs, type EnqueueTarget, type NewJob } from './enqueue.ts';
import { fingerprint } from './fingerprint.ts';
import type { JobData, JobReturn } from './job-data.ts';
import { newJobId } from './job-ids.ts';
import { jobKeys } from './keys.ts';

// The shared test Redis (test/kit/global-setup.ts) under a prefix of this file's own.
const url = process.env.REDIS_URL ?? process.env.SWITCHYARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `t${randomBytes(4).toString('hex')}`;
const settings = { retentionSeconds: 3600, maxAttempts: 3, backoffMs: 50 };
let redis: Redis;
let queues: Record<Lane, Queue<JobData, JobReturn | undefined>>;
let fair: FairShare;

beforeAll(() => {
  redis = new Redis(url);
  const keys = jobKeys(prefix);
  const queue = (lane: Lane) =>
    new Queue<JobData, JobReturn | undefined>(keys.queueName(lane), { connection: redis, prefix });
  queues = { interactive: queue('interactive'), batch: queue('batch') };
  fair = new FairShare({ redis, prefix });
});
afterAll(async () => {
  await Promise.all(LANES.map((lane) => queues[lane].close()));
  redis?.disconnect();
});

const tenant = () => `ten_${randomBytes(4).toString('hex')}`;
const specOf = (value: Record<string, unknown>): JobSpec =>
  JobSpecSchema.parse({
    type: 'completion',
    request: { model: 'mock', messages: [{ role: 'user', content: 'hi' }] },
    ...value,
  });
const newJob = (spec: JobSpec, now: number, jobId = newJobId(spec.lane)): NewJob => ({
  jobId,
  spec,
  fingerprint: fingerprint(spec),
  deadline: deadlineOf(spec, now, 60_000),
});
const target = (withFair: boolean): EnqueueTarget => ({ queues, settings, ...(withFair ? { fair } : {}) });

describe('building a job', () => {
  it('takes its options from the settings: attempts for every model, priority always set; no fingerprint is stored', () => {
    const spec = specOf({ lane: 'interactive', fallbacks: ['backup', 'other'], timeout_ms: 5_000 });
    const job = { ...newJob(spec, 1_000, 'ji_x'), stream: true, trace: {} };
    const built = buildJob('t1', job, 1_000, settings, false);
    expect(built.name).toBe('completion');
    expect(built.data).toEqual({
      v: 1,
      tenantId: 't1',
      spec,
      submittedAt: 1_000,
      deadline: 6_000,
      stream: true,
    });
    expect(built.opts).toEqual({
      jobId: 'ji_x',
      priority: 5,
      attempts: 9,
      backoff: { type: 'switchyard', delay: 50 },
      removeOnComplete: { age: 3600 },
      removeOnFail: { age: 3600 },
    });
  });

  it('a held job is delayed until its deadline; a line of a batch carries its batch', () => {
    const spec = specOf({});
    const job = { ...newJob(spec, 1_000, 'jb_x'), batch: { id: 'bt_1', customId: 'c1' } };
    const built = buildJob('t1', job, 1_000, settings, true);
    expect(built.opts.delay).toBe(60_000);
    expect(built.data.batch).toEqual({ id: 'bt_1', customId: 'c1' });
    expect(deadlineOf(spec, 1_000, 60_000)).toBe(61_000);
  });
});

describe('enqueueJobs', () => {
  it('with fair share, batch-lane jobs wait delayed in their tenant’s backlog; interactive ones are ready', async () => {
    const t = tenant();
    const now = Date.now();
    const batch = [newJob(specOf({}), now), newJob(specOf({}), now)];
    const interactive = newJob(specOf({ lane: 'interactive', priority: 2 }), now);
    await enqueueJobs(target(true), t, [...batch, interactive], { now });
    for (const job of batch) expect(await queues.batch.getJobState(job.jobId)).toBe('delayed');
    expect(await queues.interactive.getJobState(interactive.jobId)).toBe('prioritized');
    const backlog = `${admissionKeys(prefix).fair.backlogPrefix}${t}`;
    expect((await redis.zrange(backlog, '0', '-1')).sort()).toEqual(batch.map((j) => j.jobId).sort());
  });

  it('without fair share, batch-lane jobs are ready at once', async () => {
    const now = Date.now();
    const job = newJob(specOf({}), now);
    await enqueueJobs(target(false), tenant(), [job], { now });
    expect(await queues.batch.getJobState(job.jobId)).toBe('prioritized');
  });

  it('enqueueing the same jobs again adds nothing twice', async () => {
    const t = tenant();
    const now = Date.now();
    const jobs = [0, 1, 2].map(() => newJob(specOf({}), now));
    await enqueueJobs(target(true), t, jobs, { now });
    const before = await queues.batch.getJobCountByTypes('delayed');
    await enqueueJobs(target(true), t, jobs, { now: now + 10 });
    expect(await queues.batch.getJobCountByTypes('delayed')).toBe(before);
    const backlog = `${admissionKeys(prefix).fair.backlogPrefix}${t}`;
    expect(await redis.zcard(backlog)).toBe(3);
  });

  it('when adding fails, onNotStored runs, nothing is held, and the error is rethrown', async () => {
    const t = tenant();
    const now = Date.now();
    let notStored = 0;
    const onNotStored = async () => {
      notStored++;
    };
    const bad = newJob(specOf({}), now, 'jb_bad:id'); // BullMQ refuses a ':' in a job id
    await expect(enqueueJobs(target(true), t, [bad], { now, onNotStored })).rejects.toThrow(/cannot contain/);
    expect(notStored).toBe(1);
    expect(await redis.exists(`${admissionKeys(prefix).fair.backlogPrefix}${t}`)).toBe(0);
  });
});

describe('enqueueing on a sharded batch lane', () => {
  it('puts each batch job on the shard its id names, without fair share ready at once; an id naming a shard without a queue stores nothing', async () => {
    const keys = jobKeys(prefix);
    const shards = [
      queues.batch,
      ...[1, 2].map(
        (s) =>
          new Queue<JobData, JobReturn | undefined>(keys.queueName('batch', s), {
            connection: redis,
            prefix,
          }),
      ),
    ];
    const now = Date.now();
    const onShard = [0, 1, 2, 2];
    const jobs = onShard.map((s) => newJob(specOf({}), now, newJobId('batch', s)));
    const sharded: EnqueueTarget = { queues, settings, batchShards: shards };
    await enqueueJobs(sharded, tenant(), jobs, { now });
    const states = await Promise.all(
      jobs.map((j, i) => (shards[onShard[i] ?? 0] ?? queues.batch).getJobState(j.jobId)),
    );
    expect(states).toEqual(['prioritized', 'prioritized', 'prioritized', 'prioritized']);
    expect(await shards[0]?.getJobState(jobs[1]?.jobId ?? '')).toBe('unknown');

    const stray = [newJob(specOf({}), now), newJob(specOf({}), now, newJobId('batch', 5))];
    await expect(enqueueJobs(sharded, tenant(), stray, { now })).rejects.toThrow(RangeError);
    expect(await queues.batch.getJobState(stray[0]?.jobId ?? '')).toBe('unknown');
    await Promise.all(shards.slice(1).map((q) => q.close()));
  });

  it('with fair share, a batch job is held in its tenant’s backlog on its own shard', async () => {
    const keys = jobKeys(prefix);
    const shard2 = new Queue<JobData, JobReturn | undefined>(keys.queueName('batch', 2), {
      connection: redis,
      prefix,
    });
    const now = Date.now();
    const t = tenant();
    const job = newJob(specOf({}), now, newJobId('batch', 2));
    await enqueueJobs(
      { queues, settings, batchShards: [queues.batch, queues.batch, shard2], fair },
      t,
      [job],
      { now },
    );
    expect(await shard2.getJobState(job.jobId)).toBe('delayed');
    const own = admissionKeys(prefix);
    expect(await redis.zrange(own.fairShard(2).backlogPrefix + t, '0', '-1')).toEqual([job.jobId]);
    expect(await redis.exists(own.fair.backlogPrefix + t)).toBe(0);
    await shard2.close();
  });
});
