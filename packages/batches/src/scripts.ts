import { SwitchyardError } from '@switchyard/contracts';
import { defineLuaScripts, loadLuaScripts, luaDir, type ScriptRunner } from '@switchyard/lua-scripts';
import type { Cluster, Redis } from 'ioredis';

export type { ScriptRunner } from '@switchyard/lua-scripts';

const LUA_DIR = luaDir('batches', import.meta.url);

/**
 * Registers every batch script under `src/lua/` on the client (EVALSHA, falling back to EVAL once
 * per connection): `batch-finalize`, `batch-finished`.
 */
export function defineScripts(redis: Redis | Cluster): ScriptRunner {
  return defineLuaScripts(
    redis,
    loadLuaScripts(LUA_DIR),
    'switchyardBatches_',
    (m) => new SwitchyardError('internal_error', `batches script ${m}`),
  );
}
