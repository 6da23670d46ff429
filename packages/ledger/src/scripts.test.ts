import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadScripts } from './scripts.ts';
import { openTestLedger } from './test-support.ts';

const LUA_DIR = new URL('./lua/', import.meta.url);

describe('the Lua scripts', () => {
  it('one file per script, named name-<numKeys>.lua, each with a header listing KEYS, ARGV and the return value', () => {
    const files = readdirSync(LUA_DIR).filter((f) => f.endsWith('.lua'));
    expect(files.sort()).toEqual(['record-2.lua', 'upgrade-3.lua']);
    for (const file of files) {
      const source = readFileSync(new URL(file, LUA_DIR), 'utf8');
      const header = /^--\[\[([\s\S]*?)\]\]/.exec(source)?.[1] ?? '';
      const numKeys = Number(/-(\d+)\.lua$/.exec(file)?.[1]);
      for (let k = 1; k <= numKeys; k++)
        expect(header, `${file} documents KEYS[${k}]`).toContain(`KEYS[${k}]`);
      expect(header, `${file} has no KEYS[${numKeys + 1}]`).not.toContain(`KEYS[${numKeys + 1}]`);
      for (const m of source.matchAll(/KEYS\[(\d+)\]/g)) expect(Number(m[1])).toBeLessThanOrEqual(numKeys);
      const argvUsed = Math.max(...[...source.matchAll(/ARGV\[(\d+)\]/g)].map((m) => Number(m[1])));
      for (let a = 1; a <= argvUsed; a++)
        expect(header, `${file} documents ARGV[${a}]`).toContain(`ARGV[${a}]`);
      expect(header, `${file} documents its return value`).toMatch(/Returns /);
    }
  });

  it('every script compiles in Redis', async () => {
    const scripts = loadScripts();
    expect([...scripts.keys()].sort()).toEqual(['record', 'upgrade']);
    const t = await openTestLedger();
    try {
      for (const s of scripts.values()) {
        expect(await t.redis.script('LOAD', s.lua)).toMatch(/^[0-9a-f]{40}$/);
      }
    } finally {
      await t.close();
    }
  });
});
