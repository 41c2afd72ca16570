#!/bin/sh
# Writes haproxy.cfg (and the files beside it) from a bundle on stdin into $DIR (default /cfg) only
# if `haproxy -c` accepts them in a staging directory, and removes the files the bundle no longer
# has; prints changed or unchanged.
# A reload is owed from before the files move in until the host says the running HAProxy took
# them (RELOADED=1: removes the mark, reads no bundle): a run that failed or was stopped in
# between says changed again the next time, even for the same files, so the reload is not lost.
# Runs in a throwaway container of the pinned HAProxy image. Needs lib.sh before it.
# shellcheck shell=sh
set -eu
umask 027
DIR="${DIR:-/cfg}"
HAPROXY="${HAPROXY:-haproxy}"
PENDING="$DIR/.reload-pending"
if [ "${RELOADED:-}" = 1 ]; then
  rm -f "$PENDING"
  exit 0
fi
STAGE="$DIR/.incoming"
rm -rf "$STAGE"
mkdir -p "$STAGE"
unpack "$STAGE"
require haproxy.cfg
if ! "$HAPROXY" -c -C "$STAGE" -f haproxy.cfg >"$STAGE/.check" 2>&1; then
  cat "$STAGE/.check" >&2
  rm -rf "$STAGE"
  echo "haproxy rejected the new configuration: the previous one is still serving" >&2
  exit 1
fi
rm -f "$STAGE/.check"
changed=no
owed=no
if [ -f "$PENDING" ]; then owed=yes; fi
: >"$PENDING"
names=" "
for f in "$STAGE"/*; do
  n=$(basename "$f")
  names="$names$n "
  cmp -s "$f" "$DIR/$n" || changed=yes
  # HAProxy runs as user haproxy: a key is its alone (0600), the rest readable by its group (0640).
  if grep -q 'PRIVATE KEY' "$f"; then
    chmod 600 "$f"
    if grep -q '^haproxy:' /etc/passwd 2>/dev/null; then chown haproxy:haproxy "$f"; fi
  elif grep -q '^haproxy:' /etc/group 2>/dev/null; then
    chgrp haproxy "$f"
  fi
  mv "$f" "$DIR/$n"
done
# Files of an earlier bundle that this one no longer has (a relay's secret after a move to Linux,
# the relay's certificate and key from before the edge's secret) do not stay behind.
remove_stale
rm -rf "$STAGE"
if [ "$changed" = yes ] || [ "$owed" = yes ]; then
  echo changed
else
  rm -f "$PENDING"
  echo unchanged
fi
