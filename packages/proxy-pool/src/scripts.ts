import {
  defineLuaScripts,
  loadLuaScripts,
  luaDir,
  type LuaScript,
  type ScriptRunner,
} from '@switchyard/lua-scripts';
import type { Cluster, Redis } from 'ioredis';
import { ProxyPoolError } from './errors.ts';
import type { PoolKeys } from './keys.ts';

export type { LuaScript, ScriptArg, ScriptRunner } from '@switchyard/lua-scripts';

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

/**
 * `run`, with the pool's upgrade (lua/upgrade-3.lua: a pool written by an earlier version brought
 * to this layout, nothing otherwise) run once before the first script, and again before the next
 * one if it failed. `argBase` is the prefix the scripts build key names from.
 */
export function upgradeFirst(run: ScriptRunner, keys: PoolKeys, argBase: string): ScriptRunner {
  // every key of the pool, for SCAN MATCH (glob characters in the prefix escaped)
  const pattern = `${argBase.replace(/[*?[\]\\]/g, '\\$&')}*`;
  let upgraded: Promise<void> | undefined;
  let done = false;
  return (name, k, args) => {
    if (done) return run(name, k, args);
    upgraded ??= run('upgrade', [keys.meta, keys.leases, keys.ids], [argBase, pattern]).then(
      () => {
        done = true;
      },
      (err: unknown) => {
        upgraded = undefined;
        throw err;
      },
    );
    return upgraded.then(() => run(name, k, args));
  };
}
