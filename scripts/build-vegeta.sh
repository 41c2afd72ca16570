#!/usr/bin/env bash
# Installs the benchmark load generator (vegeta: HTTP load with client certificates, keep-alive
# on or off, per-request latencies) at a pinned version, cached outside the repo keyed by that
# version. Prints the binary's path.
set -euo pipefail
. "$(dirname "$0")/go-check.sh"
vegeta_v=v12.13.0
cache=${HOMELAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/homelab}
dir="$cache/vegeta-${vegeta_v}"
if [ -x "$dir/vegeta" ]; then echo "$dir/vegeta"; exit 0; fi
mkdir -p "$dir"
need_go
GOBIN="$dir" go install "github.com/tsenart/vegeta/v12@${vegeta_v}" >&2
echo "$dir/vegeta"
