import { SwitchyardError } from '@switchyard/contracts';
import { defineLuaScripts, loadLuaScripts, luaDir, type ScriptRunner } from '@switchyard/lua-scripts';
import type { Cluster, Redis } from 'ioredis';

export type { ScriptRunner } from '@switchyard/lua-scripts';

const LUA_DIR = luaDir('worker', import.meta.url);

/**
 * Registers every worker script under `src/lua/` on the client (EVALSHA, falling back to EVAL once
 * per connection): `attempt-start`, `retry-budget`.
 */
export function defineScripts(redis: Redis | Cluster): ScriptRunner {
  return defineLuaScripts(
    redis,
    loadLuaScripts(LUA_DIR),
    'switchyardWorker_',
    (m) => new SwitchyardError('internal_error', `worker script ${m}`),
  );
}
