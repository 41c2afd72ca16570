# shellcheck shell=bash
# Sourced by the build scripts: fail early and clearly when Go cannot build the pinned tools.
# Go 1.21+ fetches a newer toolchain by itself when a module asks for one (GOTOOLCHAIN=auto,
# through the module proxy), so 1.21 is the floor; Debian bookworm's golang-go (1.19) is too old.
need_go() {
  if ! command -v go >/dev/null 2>&1; then
    echo "Go is not installed. Install Go 1.21 or newer (https://go.dev/dl/) and run this again." >&2
    exit 1
  fi
  local v
  v=$(go env GOVERSION | sed 's/^go//')
  if [ "$(printf '%s\n1.21\n' "${v%%[!0-9.]*}" | sort -V | sed -n 1p)" != "1.21" ]; then
    echo "Go $v is too old to build Caddy's test binary; install Go 1.21 or newer (https://go.dev/dl/)." >&2
    exit 1
  fi
}
