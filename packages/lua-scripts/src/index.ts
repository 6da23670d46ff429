import { readdirSync, readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';

/**
 * Where a package's Lua scripts are: `src/lua/` beside the module in the source tree, or
 * `lua/<folder>/` beside an app bundle, which scripts/bundle.mjs announces through
 * `globalThis.__switchyardLuaRoot` and fills with every package's `src/lua`.
 */
export function luaDir(folder: string, moduleUrl: string): URL {
  const bundled = (globalThis as { __switchyardLuaRoot?: string }).__switchyardLuaRoot;
  return bundled ? new URL(`${folder}/`, bundled) : new URL('./lua/', moduleUrl);
}

/** A Lua script ready for `defineCommand`: includes expanded, key count from the file name. */
export interface LuaScript {
  name: string;
  file: string;
  numberOfKeys: number;
  lua: string;
}

const SCRIPT_FILE = /^([a-z-]+)-(\d+)\.lua$/;
const INCLUDE = /^--- @include "([a-z-]+)"[ \t]*$/gm;

function expandIncludes(dir: URL, source: string, seen: Set<string>): string {
  return source.replace(INCLUDE, (_line, name: string) => {
    if (seen.has(name)) return '';
    seen.add(name);
    return expandIncludes(dir, readFileSync(new URL(`includes/${name}.lua`, dir), 'utf8'), seen);
  });
}

/** One script file, `name-<numKeys>.lua` (BullMQ's convention), with its includes expanded. */
function loadLuaScript(dir: URL, file: string): LuaScript {
  const m = SCRIPT_FILE.exec(file);
  if (!m?.[1] || !m[2]) throw new Error(`${file} is not named name-<numKeys>.lua`);
  const lua = expandIncludes(dir, readFileSync(new URL(file, dir), 'utf8'), new Set());
  return { name: m[1], file, numberOfKeys: Number(m[2]), lua };
}

const cache = new Map<string, Map<string, LuaScript>>();

/** Every script in a directory, read once per process. */
export function loadLuaScripts(dir: URL): Map<string, LuaScript> {
  let scripts = cache.get(dir.href);
  if (scripts) return scripts;
  scripts = new Map();
  for (const file of readdirSync(dir)) {
    if (!SCRIPT_FILE.test(file)) continue;
    const script = loadLuaScript(dir, file);
    scripts.set(script.name, script);
  }
  cache.set(dir.href, scripts);
  return scripts;
}

export type ScriptArg = string | number;
export type ScriptRunner = (name: string, keys: string[], args: ScriptArg[]) => Promise<unknown>;
type ScriptCall = (...args: ScriptArg[]) => Promise<unknown>;

/** Registers one script as `command` on the client (EVALSHA, falling back to EVAL once per connection). */
function defineLuaScript(redis: Redis | Cluster, command: string, script: LuaScript): ScriptCall {
  if (!(command in redis))
    redis.defineCommand(command, { lua: script.lua, numberOfKeys: script.numberOfKeys });
  return (Reflect.get(redis, command) as ScriptCall).bind(redis);
}

/**
 * Registers every script with a command prefix and returns a runner that checks the key count,
 * raising `misuse(message)` when a script is unknown or called with the wrong number of keys.
 */
export function defineLuaScripts(
  redis: Redis | Cluster,
  scripts: Map<string, LuaScript>,
  prefix: string,
  misuse: (message: string) => Error,
): ScriptRunner {
  const calls = new Map<string, { numberOfKeys: number; call: ScriptCall }>();
  for (const s of scripts.values())
    calls.set(s.name, { numberOfKeys: s.numberOfKeys, call: defineLuaScript(redis, prefix + s.name, s) });
  return (name, keys, args) => {
    const script = calls.get(name);
    if (!script || keys.length !== script.numberOfKeys)
      throw misuse(`${name} called with ${keys.length} keys`);
    return script.call(...keys, ...args);
  };
}
