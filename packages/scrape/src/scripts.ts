import { SwitchyardError } from '@switchyard/contracts';
import { defineLuaScripts, loadLuaScripts, luaDir, type ScriptRunner } from '@switchyard/lua-scripts';
import type { Cluster, Redis } from 'ioredis';

export type { ScriptRunner } from '@switchyard/lua-scripts';

const LUA_DIR = luaDir('scrape', import.meta.url);

/**
 * Registers every scrape script under `src/lua/` on the client (EVALSHA, falling back to EVAL once
 * per connection): `host-claim`, `host-start`, `host-release`.
 */
export function defineScripts(redis: Redis | Cluster): ScriptRunner {
  return defineLuaScripts(
    redis,
    loadLuaScripts(LUA_DIR),
    'switchyardScrape_',
    (m) => new SwitchyardError('internal_error', `scrape script ${m}`),
  );
}
