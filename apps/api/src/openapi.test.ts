import { describe, expect, it } from 'vitest';
import { openApiDocument } from './openapi.ts';

type Node = Record<string, unknown>;

const schemas = (openApiDocument().components as { schemas: Record<string, Node> }).schemas;

/** Every property under `id`, following $refs, items and unions: `path` of each without a description. */
function undescribed(id: string): string[] {
  const missing: string[] = [];
  const seen = new Set<string>();
  const walk = (node: unknown, path: string): void => {
    if (!node || typeof node !== 'object') return;
    const n = node as Node;
    if (typeof n.$ref === 'string') {
      const target = n.$ref.replace('#/components/schemas/', '');
      if (seen.has(target)) return;
      seen.add(target);
      return walk(schemas[target], target);
    }
    for (const [name, prop] of Object.entries((n.properties ?? {}) as Record<string, Node>)) {
      if (typeof prop.description !== 'string' || prop.description.trim() === '')
        missing.push(`${path}.${name}`);
      walk(prop, `${path}.${name}`);
    }
    walk(n.items, `${path}[]`);
    for (const key of ['anyOf', 'oneOf', 'allOf'] as const)
      for (const [i, branch] of ((n[key] ?? []) as Node[]).entries()) walk(branch, `${path}|${i}`);
  };
  seen.add(id);
  walk(schemas[id], id);
  return missing;
}

describe('the OpenAPI document', () => {
  it.each(['ScrapeJobSpec', 'ScrapeRequest', 'ScrapeResult'])(
    'describes every field of %s, nested ones included',
    (id) => {
      expect(schemas[id], id).toBeDefined();
      expect(undescribed(id)).toEqual([]);
    },
  );

  it('the walk finds an undescribed field (it can fail)', () => {
    schemas.ScrapeResult = {
      ...schemas.ScrapeResult,
      properties: { ...(schemas.ScrapeResult?.properties as Node), bare: { type: 'string' } },
    };
    try {
      expect(undescribed('ScrapeResult')).toEqual(['ScrapeResult.bare']);
    } finally {
      const { bare: _bare, ...rest } = schemas.ScrapeResult.properties as Node;
      schemas.ScrapeResult = { ...schemas.ScrapeResult, properties: rest };
    }
  });
});
