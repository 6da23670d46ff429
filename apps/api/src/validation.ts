import { fieldErrorsFromZod, SwitchyardError } from '@switchyard/contracts';
import type { z } from 'zod';

/** Parses a request body with a zod schema, or throws `validation_failed` naming each field path. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const errors = fieldErrorsFromZod(r.error);
  throw new SwitchyardError('validation_failed', errors.map((e) => `${e.path}: ${e.message}`).join('; '), {
    errors,
  });
}
