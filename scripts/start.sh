#!/usr/bin/env bash
# One command from a fresh machine to a running Switchyard (API + worker + demo model + Redis).
source "$(dirname "$0")/toolchain.sh"
cd "$SWITCHYARD_ROOT"
exec pnpm start "$@"
