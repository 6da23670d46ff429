import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { request } from 'undici';

type Node = Record<string, unknown>;

/** A JSON pointer into the document, as a URI fragment. */
const pointer = (...parts: string[]) =>
  parts.map((p) => encodeURIComponent(p.replace(/~/g, '~0').replace(/\//g, '~1'))).join('/');

/**
 * Checks answers against the API's own OpenAPI document (`/docs/json`, generated from the zod
 * schemas): `check(method, path, status, body)` names what is wrong with a documented answer,
 * or that the status is not documented for that route; undefined when it matches.
 */
export async function openApiChecker(
  baseUrl: string,
): Promise<(method: string, path: string, status: number, body: unknown) => string | undefined> {
  const doc = (await (await request(`${baseUrl}/docs/json`)).body.json()) as { paths: Record<string, Node> };
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: false });
  ajv.addSchema({ ...doc, $id: 'openapi.json' });
  // Literal routes before templated ones: /v1/batches/{id} must not take /v1/batches/x/results.
  const routes = Object.keys(doc.paths)
    .map((tpl) => ({ tpl, re: new RegExp(`^${tpl.replace(/\{[^}]+\}/g, '[^/]+')}$`) }))
    .sort((a, b) => (a.tpl.match(/\{/g)?.length ?? 0) - (b.tpl.match(/\{/g)?.length ?? 0));
  const compiled = new Map<string, ValidateFunction>();

  return (method, path, status, body) => {
    const route = routes.find((r) => r.re.test(path.split('?')[0] ?? ''));
    if (!route) return `${method} ${path}: no such path in the OpenAPI document`;
    const m = method.toLowerCase();
    const op = doc.paths[route.tpl]?.[m] as { responses?: Record<string, Node> } | undefined;
    const code = [String(status), `${String(status)[0]}XX`].find((c) => op?.responses?.[c]);
    if (!op || !code) return `${method} ${route.tpl} → ${status}: not documented`;
    const content = op.responses?.[code]?.content as Record<string, { schema?: unknown }> | undefined;
    if (!content?.['application/json']?.schema) return undefined; // not JSON (SSE, NDJSON): unchecked
    const ref = `openapi.json#/${pointer('paths', route.tpl, m, 'responses', code, 'content', 'application/json', 'schema')}`;
    let validate = compiled.get(ref);
    if (!validate) {
      validate = ajv.compile({ $ref: ref });
      compiled.set(ref, validate);
    }
    if (validate(body)) return undefined;
    return `${method} ${route.tpl} → ${status}: ${ajv.errorsText(validate.errors)}`;
  };
}
