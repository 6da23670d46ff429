import {
  defineLuaScripts,
  loadLuaScripts,
  luaDir,
  type LuaScript,
  type ScriptRunner,
} from '@switchyard/lua-scripts';
import type { Cluster, Redis } from 'ioredis';
import { ProxyPoolError } from './errors.ts';

export type { LuaScript, ScriptArg } from '@switchyard/lua-scripts';

const LUA_DIR = luaDir('proxy-pool', import.meta.url);

/** Every pool script under `src/lua/`, read once per process. */
export function loadScripts(): Map<string, LuaScript> {
  return loadLuaScripts(LUA_DIR);
}

/** Registers every pool script on the client (EVALSHA, falling back to EVAL once per connection). */
export function defineScripts(redis: Redis | Cluster): ScriptRunner {
  return defineLuaScripts(
    redis,
    loadScripts(),
    'switchyardPool_',
    (m) => new ProxyPoolError('PROXY_POOL_SCRIPT_ERROR', m),
  );
}
