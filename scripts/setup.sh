#!/usr/bin/env bash
# One-time set-up for development: Node dependencies from the lockfile, the Debian tools
# the tests run (HAProxy, OpenSSL, curl; Docker Engine, busybox-static, iproute2 and util-linux
# for the engine tier), and the Caddy test binary built at the versions the rendered
# caddy.Dockerfile pins and the benchmark load generator (both cached outside the repo).
set -euo pipefail
cd "$(dirname "$0")/.."

npm ci --no-audit --no-fund

need=()
for tool in haproxy openssl curl shellcheck; do command -v "$tool" >/dev/null 2>&1 || need+=("$tool"); done
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v unshare >/dev/null 2>&1 || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "Missing tools: ${need[*]}. Install them (Debian/Ubuntu: sudo apt-get install ${need[*]}) and run this again." >&2
    exit 1
  fi
fi

caddy=$(bash scripts/build-caddy.sh)
echo "Caddy test build: $caddy"
haproxy3=$(bash scripts/build-haproxy3.sh)
echo "HAProxy 3.x for config checks: $haproxy3"
vegeta=$(bash scripts/build-vegeta.sh)
echo "Benchmark load generator: $vegeta"
configcheck=$(bash scripts/build-configcheck.sh)
echo "Pulumi's config validation (Pulumi Go SDK): $configcheck"
echo "Set-up done. Run the tests with: npm test"
