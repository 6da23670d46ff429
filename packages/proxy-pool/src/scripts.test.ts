import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadScripts } from './scripts.ts';
import { openTestPool } from './test-support.ts';

const LUA_DIR = new URL('./lua/', import.meta.url);

describe('the Lua scripts', () => {
  it('one file per script, named name-<numKeys>.lua, each with a header listing KEYS, ARGV and the return value', () => {
    const files = readdirSync(LUA_DIR).filter((f) => f.endsWith('.lua'));
    expect(files.sort()).toEqual([
      'count-1.lua',
      'drain-3.lua',
      'lease-many-6.lua',
      'probe-due-1.lua',
      'reclaim-4.lua',
      'release-many-5.lua',
      'remove-5.lua',
      'renew-1.lua',
      'report-probe-2.lua',
      'upgrade-3.lua',
      'upsert-2.lua',
    ]);
    for (const file of files) {
      const source = readFileSync(new URL(file, LUA_DIR), 'utf8');
      const header = /^--\[\[([\s\S]*?)\]\]/.exec(source)?.[1] ?? '';
      const numKeys = Number(/-(\d+)\.lua$/.exec(file)?.[1]);
      for (let k = 1; k <= numKeys; k++)
        expect(header, `${file} documents KEYS[${k}]`).toContain(`KEYS[${k}]`);
      expect(header, `${file} has no KEYS[${numKeys + 1}]`).not.toContain(`KEYS[${numKeys + 1}]`);
      expect(header, `${file} documents ARGV`).toContain('ARGV[1]');
      expect(header, `${file} documents its return value`).toMatch(/Returns /);
      // every KEYS[n] the body uses is documented
      for (const m of source.matchAll(/KEYS\[(\d+)\]/g)) expect(Number(m[1])).toBeLessThanOrEqual(numKeys);
    }
  });

  it('includes are expanded once each, and every script compiles in Redis', async () => {
    const scripts = loadScripts();
    expect(scripts.size).toBe(11);
    const t = await openTestPool();
    try {
      for (const s of scripts.values()) {
        expect(s.lua).not.toMatch(/@include/);
        expect(s.lua.match(/local function setAvailability/g)?.length ?? 0).toBeLessThanOrEqual(1);
        const sha = (await t.redis.script('LOAD', s.lua)) as string;
        expect(sha).toMatch(/^[0-9a-f]{40}$/);
      }
    } finally {
      await t.close();
    }
  });
});
