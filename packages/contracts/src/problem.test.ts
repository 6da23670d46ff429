import { describe, expect, it } from 'vitest';
import { JobSpecSchema } from './jobs.ts';
import { fieldErrorsFromZod, SwitchyardError, toProblem } from './problem.ts';

describe('problem details', () => {
  it('validation errors name the field path, including unknown fields', () => {
    const r = JobSpecSchema.safeParse({
      type: 'completion',
      request: { model: 'm', messages: [{ role: 'robot', content: 'hi' }], colour: 'red' },
    });
    expect(r.success).toBe(false);
    const paths = fieldErrorsFromZod(r.error!).map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['request.messages[0].role', 'request.colour']));
  });

  it('a problem carries type, title, status, detail and code', () => {
    const p = toProblem(new SwitchyardError('not_found', 'no job j_1'), '/v1/jobs/j_1');
    expect(p).toEqual({
      type: 'https://switchyard.dev/errors/not_found',
      title: 'No such resource',
      status: 404,
      detail: 'no job j_1',
      code: 'not_found',
      instance: '/v1/jobs/j_1',
    });
  });
});
