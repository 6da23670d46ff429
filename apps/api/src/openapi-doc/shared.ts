/** Building blocks of the OpenAPI document: references, problem responses, common parameters. */
export const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
export const json = (id: string) => ({ 'application/json': { schema: ref(id) } });
const problem = { 'application/problem+json': { schema: ref('Problem') } };
export const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [String(s), { description: 'Problem details', content: problem }]));

export const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
export const preferHeader = {
  name: 'Prefer',
  in: 'header',
  schema: { type: 'string', example: 'wait=10' },
  description: 'RFC 7240 `wait=N`: hold the response up to N seconds for the job to finish',
};

export const idempotencyKeyHeader = {
  name: 'Idempotency-Key',
  in: 'header',
  schema: { type: 'string', maxLength: 255 },
};
