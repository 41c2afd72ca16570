#!/usr/bin/env bash
# Builds the Caddy test binary at exactly the versions the rendered caddy.Dockerfile pins
# (render/versions.json), with the Cloudflare DNS module, and caches it outside the repo,
# keyed by those versions. Prints the binary's path.
set -euo pipefail
. "$(dirname "$0")/go-check.sh"
here=$(cd "$(dirname "$0")/.." && pwd)
v() { node -p "require('$here/render/versions.json').$1"; }
caddy_v=$(v caddy); dns_v=$(v caddyDnsCloudflare); xcaddy_v=$(v xcaddy)
cache=${HOMELAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/homelab}
bin="$cache/caddy-v${caddy_v}-cloudflare-${dns_v}/caddy"
# grep reads all of list-modules' output (no -q): with -q it exits at the first match, caddy gets
# SIGPIPE, and under pipefail the cached binary would look broken and be rebuilt.
if [ -x "$bin" ] && "$bin" list-modules 2>/dev/null | grep -x 'dns.providers.cloudflare' >/dev/null; then
  echo "$bin"; exit 0
fi
mkdir -p "$(dirname "$bin")" "$cache/bin"
need_go
GOBIN="$cache/bin" go install "github.com/caddyserver/xcaddy/cmd/xcaddy@${xcaddy_v}" >&2
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
( cd "$work" && GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}github.com/caddy-dns/cloudflare,github.com/libdns/cloudflare" "$cache/bin/xcaddy" build "v${caddy_v}" \
    --with "github.com/caddy-dns/cloudflare@${dns_v}" --output "$work/caddy" ) >&2
"$work/caddy" version >&2
mv "$work/caddy" "$bin"
echo "$bin"
