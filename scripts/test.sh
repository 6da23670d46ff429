#!/usr/bin/env bash
# One command from a fresh machine to the test suite (starts its own Redis instances).
source "$(dirname "$0")/toolchain.sh"
cd "$SWITCHYARD_ROOT"
if ! command -v redis-server >/dev/null && [ -z "${REDIS_URL:-}" ]; then
  echo "the tests need redis-server on PATH (or REDIS_URL): e.g. apt-get install redis-server" >&2
  exit 1
fi
exec pnpm test "$@"
