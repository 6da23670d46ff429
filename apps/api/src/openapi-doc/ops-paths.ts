import { errors } from './shared.ts';

/** Usage and operations. */
export const opsPaths = {
  '/v1/usage': {
    get: {
      summary: "The caller's costs grouped by model, day or outcome, with the share spent on retries",
      parameters: [
        { name: 'group_by', in: 'query', schema: { type: 'string', enum: ['model', 'day', 'outcome'] } },
        { name: 'from', in: 'query', schema: { type: 'string', format: 'date' } },
        { name: 'to', in: 'query', schema: { type: 'string', format: 'date' } },
      ],
      responses: { '200': { description: 'Usage report' }, ...errors(400, 401, 403, 503) },
    },
  },
  '/healthz': {
    get: { summary: 'Liveness', security: [], responses: { '200': { description: 'Alive' } } },
  },
  '/readyz': {
    get: {
      summary: 'Readiness (Redis reachable)',
      security: [],
      responses: { '200': { description: 'Ready' }, ...errors(503) },
    },
  },
};
