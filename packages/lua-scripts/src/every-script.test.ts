import { Redis } from 'ioredis';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLuaScripts } from './index.ts';

// Every package and app of the repo that has Lua scripts, found the way scripts/bundle.mjs finds them.
const ROOT = new URL('../../../', import.meta.url);
const LUA_DIRS = ['packages', 'apps'].flatMap((group) =>
  readdirSync(new URL(`${group}/`, ROOT))
    .map((name) => ({ name, src: new URL(`${group}/${name}/src/`, ROOT) }))
    .filter(({ src }) => existsSync(new URL('lua/', src)))
    .map(({ name, src }) => ({ name, src, lua: new URL('lua/', src) })),
);

// Every source file of the packages and apps (tests aside).
const SOURCES = ['packages', 'apps'].flatMap((group) =>
  readdirSync(new URL(`${group}/`, ROOT)).flatMap((name) => {
    const src = new URL(`${group}/${name}/src/`, ROOT);
    if (!existsSync(src)) return [];
    return readdirSync(src, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .map((f) => `${group}/${name}/src/${f}`);
  }),
);

// The shared test Redis (test/kit/global-setup.ts); SCRIPT LOAD writes no key.
const url = process.env.REDIS_URL ?? process.env.SWITCHYARD_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
let redis: Redis;

beforeAll(() => {
  redis = new Redis(url);
});
afterAll(() => {
  redis?.disconnect();
});

describe('every Lua script of the repo', () => {
  it('is found in the packages and apps that have some', () => {
    expect(LUA_DIRS.map((d) => d.name).sort()).toEqual(
      expect.arrayContaining(['admission', 'api', 'batches', 'ledger', 'worker']),
    );
  });

  it('is registered by its package’s src/scripts.ts, from the folder the bundle copies it to', () => {
    for (const { name, src } of LUA_DIRS) {
      const scripts = new URL('scripts.ts', src);
      expect(existsSync(scripts), `${name} has src/scripts.ts`).toBe(true);
      const source = readFileSync(scripts, 'utf8');
      expect(source, `${name}/src/scripts.ts`).toContain('defineLuaScripts(');
      expect(source, `${name}/src/scripts.ts`).toContain(`luaDir('${name}', import.meta.url)`);
    }
  });

  it('only a scripts.ts uses this package: there is one way to register a script', () => {
    const users = SOURCES.filter((file) =>
      readFileSync(new URL(file, ROOT), 'utf8').includes(`from '@switchyard/lua-scripts'`),
    );
    expect(users.filter((file) => !file.endsWith('/src/scripts.ts'))).toEqual([]);
  });

  it('one file per script, named name-<numKeys>.lua, each with a header listing KEYS, ARGV and the return value', () => {
    for (const { name, lua } of LUA_DIRS) {
      const files = readdirSync(lua).filter((f) => f.endsWith('.lua'));
      expect(files.length, `${name} has scripts`).toBeGreaterThan(0);
      for (const file of files) {
        const where = `${name}/src/lua/${file}`;
        expect(file, where).toMatch(/^[a-z-]+-\d+\.lua$/);
        const source = readFileSync(new URL(file, lua), 'utf8');
        const header = /^--\[\[([\s\S]*?)\]\]/.exec(source)?.[1] ?? '';
        const numKeys = Number(/-(\d+)\.lua$/.exec(file)?.[1]);
        for (let k = 1; k <= numKeys; k++)
          expect(header, `${where} documents KEYS[${k}]`).toContain(`KEYS[${k}]`);
        expect(header, `${where} has no KEYS[${numKeys + 1}]`).not.toContain(`KEYS[${numKeys + 1}]`);
        for (const m of source.matchAll(/KEYS\[(\d+)\]/g))
          expect(Number(m[1]), where).toBeLessThanOrEqual(numKeys);
        const argvUsed = Math.max(0, ...[...source.matchAll(/ARGV\[(\d+)\]/g)].map((m) => Number(m[1])));
        for (let a = 1; a <= argvUsed; a++)
          expect(header, `${where} documents ARGV[${a}]`).toContain(`ARGV[${a}]`);
        expect(header, `${where} documents its return value`).toMatch(/Returns /);
      }
    }
  });

  it('loads under its file name, includes expanded, and compiles in Redis', async () => {
    for (const { name, lua } of LUA_DIRS) {
      const scripts = loadLuaScripts(lua);
      const files = readdirSync(lua).filter((f) => f.endsWith('.lua'));
      expect([...scripts.values()].map((s) => s.file).sort(), name).toEqual(files.sort());
      for (const s of scripts.values()) {
        expect(s.lua, `${name}/${s.file}`).not.toMatch(/@include/);
        expect(await redis.script('LOAD', s.lua), `${name}/${s.file}`).toMatch(/^[0-9a-f]{40}$/);
      }
    }
  });
});
