#!/usr/bin/env bash
# npm run configcheck [-- Pulumi.<stack>.yaml ...]: Pulumi's own project and stack config validation
# (tools/configcheck, from Pulumi's Go SDK) and the homelab secrets policy, on the stack files named,
# or on every Pulumi.*.yaml here when none is.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(bash scripts/build-configcheck.sh)
if [ "$#" -eq 0 ]; then set -- Pulumi.*.yaml; fi
exec "$bin" Pulumi.yaml "$@"
