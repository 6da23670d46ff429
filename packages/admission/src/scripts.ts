import { SwitchyardError } from '@switchyard/contracts';
import { defineLuaScripts, loadLuaScripts, luaDir, type ScriptRunner } from '@switchyard/lua-scripts';
import type { Cluster, Redis } from 'ioredis';

export type { ScriptRunner } from '@switchyard/lua-scripts';

const LUA_DIR = luaDir('admission', import.meta.url);

/**
 * Registers every admission script under `src/lua/` on the client (EVALSHA, falling back to EVAL
 * once per connection): `fair-hold`, `fair-take`, `tenant-load-admit`, `tenant-load-start`.
 */
export function defineScripts(redis: Redis | Cluster): ScriptRunner {
  return defineLuaScripts(
    redis,
    loadLuaScripts(LUA_DIR),
    'switchyardAdmission_',
    (m) => new SwitchyardError('internal_error', `admission script ${m}`),
  );
}
