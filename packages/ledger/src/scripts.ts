import {
  defineLuaScripts,
  loadLuaScripts,
  luaDir,
  type LuaScript,
  type ScriptRunner,
} from '@switchyard/lua-scripts';
import type { Cluster, Redis } from 'ioredis';
import { LedgerError } from './errors.ts';

export type { LuaScript, ScriptArg, ScriptRunner } from '@switchyard/lua-scripts';

const LUA_DIR = luaDir('ledger', import.meta.url);

/** Every ledger script under `src/lua/`, read once per process. */
export function loadScripts(): Map<string, LuaScript> {
  return loadLuaScripts(LUA_DIR);
}

/** Registers every ledger script on the client (EVALSHA, falling back to EVAL once per connection). */
export function defineScripts(redis: Redis | Cluster): ScriptRunner {
  return defineLuaScripts(
    redis,
    loadScripts(),
    'switchyardLedger_',
    (m) => new LedgerError('LEDGER_SCRIPT_ERROR', m),
  );
}
