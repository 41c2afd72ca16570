#!/usr/bin/env bash
# A current HAProxy 3.x for `haproxy -c` in the tests, next to Debian bookworm's 2.6: Debian trixie's
# package and the libraries it needs, fetched through the Debian package registry into the cache
# (a private apt list; the system's sources are not touched) and run with trixie's own loader, so
# nothing is installed. Prints the path of a wrapper that behaves like the haproxy binary.
set -euo pipefail
cache=${HOMELAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/homelab}
apt_dir="$cache/apt-trixie"
mkdir -p "$apt_dir/sources" "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/debs"; touch "$apt_dir/status"
# One run at a time: the parallel unit tests ask for the binary from two processes at once, and
# this rewrites the private apt list (a reader seeing it half-written found no candidate).
exec 9>"$cache/haproxy3.lock"
flock 9
cat > "$apt_dir/sources/trixie.sources" <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
apt_opts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$apt_dir/sources" -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o "Dir::State::status=$apt_dir/status" -o "Debug::NoLocking=1")
want=$(apt-cache "${apt_opts[@]}" policy haproxy 2>/dev/null | sed -n 's/^  Candidate: //p')
if [ -z "$want" ] || [ "$want" = "(none)" ]; then
  apt-get "${apt_opts[@]}" -qq update >&2
  want=$(apt-cache "${apt_opts[@]}" policy haproxy | sed -n 's/^  Candidate: //p')
fi
case "$want" in 3.*) ;; *) echo "Debian trixie offers haproxy $want, not 3.x" >&2; exit 1 ;; esac
root="$cache/haproxy-$want"
wrapper="$root/haproxy"
# --argv0 (below) makes a master-worker reload re-run this wrapper; older wrappers are rebuilt.
# The version is read whole before it is matched: `haproxy -v | grep -q` under pipefail fails when
# grep stops reading first (SIGPIPE), which sent a loaded machine off to rebuild a good binary.
if [ -x "$wrapper" ] && grep -q -- "--argv0" "$wrapper"; then
  version=$("$wrapper" -v 2>/dev/null || true)
  case "$version" in "HAProxy version 3."*) echo "$wrapper"; exit 0 ;; esac
fi
rm -rf "$root.tmp" && mkdir -p "$root.tmp/fs"
# The download's own chatter is filtered; a failed download shows up as a missing .deb below.
# shellcheck disable=SC2015
( cd "$apt_dir/debs" && rm -f ./*.deb && apt-get "${apt_opts[@]}" download -qq \
    haproxy libc6 libssl3t64 libpcre2-8-0 liblua5.4-0 libsystemd0 libcrypt1 zlib1g libjemalloc2 \
    libopentracing-c-wrapper0t64 libopentracing1 libstdc++6 libgcc-s1 libcap2 liblz4-1 liblzma5 \
    libzstd1 libgcrypt20 libgpg-error0 2>&1 | grep -v "unsandboxed" >&2 || true )
for d in "$apt_dir"/debs/*.deb; do dpkg-deb -x "$d" "$root.tmp/fs"; done
cat > "$root.tmp/haproxy" <<WRAP
#!/bin/sh
# Debian trixie's HAProxy $want, run with its own loader and libraries (no install). Its argv[0]
# is this wrapper, so a master-worker reload (which re-executes argv[0]) comes back through it.
exec "$root/fs/usr/lib64/ld-linux-x86-64.so.2" --library-path "$root/fs/usr/lib/x86_64-linux-gnu:$root/fs/lib/x86_64-linux-gnu" --argv0 "$wrapper" "$root/fs/usr/sbin/haproxy" "\$@"
WRAP
chmod +x "$root.tmp/haproxy"
rm -rf "$root" && mv "$root.tmp" "$root"
version=$("$wrapper" -v); echo "${version%%$'\n'*}" >&2
echo "$wrapper"
