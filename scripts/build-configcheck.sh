#!/usr/bin/env bash
# Builds tools/configcheck (Pulumi's own project/stack config validation, from the Pulumi Go SDK
# pinned in its go.mod, run without a Pulumi CLI) and caches it outside the repo, keyed by a hash
# of its go.mod, go.sum and Go sources. Needs only the Go module proxy. Prints the binary's path.
set -euo pipefail
. "$(dirname "$0")/go-check.sh"
here=$(cd "$(dirname "$0")/.." && pwd)
src="$here/tools/configcheck"
cache=${HOMELAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/homelab}
key=$(cd "$src" && LC_ALL=C && sha256sum go.mod go.sum ./*.go | sha256sum | cut -c1-16)
bin="$cache/configcheck-$key/configcheck"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
need_go
mkdir -p "$(dirname "$bin")"
# go.sum is committed and complete: -mod=readonly refuses to change go.mod/go.sum instead of
# resolving anything anew. Built to a temporary name first so a broken build leaves no binary.
( cd "$src" && go build -mod=readonly -trimpath -buildvcs=false -ldflags="-s -w" -o "$bin.tmp" . ) >&2
mv "$bin.tmp" "$bin"
echo "$bin"
