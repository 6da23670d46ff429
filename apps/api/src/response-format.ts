import { SwitchyardError, type JobSpec } from '@switchyard/contracts';
import { InvalidResponseFormatError, outputGuardrail } from '@switchyard/providers';

/**
 * Admission: a `response_format.json_schema.schema` the JSON guardrail cannot compile is refused
 * here (400 `validation_failed`), before anything is queued or spent.
 */
export function checkResponseFormat(spec: JobSpec, path = 'request.response_format'): void {
  if (spec.type !== 'completion') return;
  try {
    outputGuardrail(spec.request.response_format);
  } catch (err) {
    if (!(err instanceof InvalidResponseFormatError)) throw err;
    throw new SwitchyardError('validation_failed', err.message, {
      errors: [{ path: `${path}.json_schema.schema`, message: err.message }],
    });
  }
}
