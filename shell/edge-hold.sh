#!/bin/sh
# Runs inside the HAProxy container that connects to Caddy: MODE=hold or MODE=release of new
# connections through HAProxy's admin socket ($ADMIN) on the container's loopback, each change read
# back from HAProxy. A hold leaves a watchdog that releases it after $HOLD_MAX s; it prints a token,
# and only the release with that TOKEN retires the watchdog. Exit 3: HAProxy refused or did not
# answer; exit 4: a hold failed half-way and could not be undone (render/reload.ts EDGE_HOLD).
# HOLD_STATE_FILE's default is render/haproxy.ts CADDY_HOLD.stateFile (a test keeps them equal).
# shellcheck shell=sh
set -eu
STATE="${HOLD_STATE:-/tmp}/${HOLD_STATE_FILE:-homelab-edge-hold}"
host=${ADMIN%:*}
port=${ADMIN##*:}
command -v nc >/dev/null 2>&1 || { echo "homelab: no nc here to reach HAProxy's admin socket" >&2; exit 3; }
cli() { printf '%s\n' "$1" | nc -w 2 "$host" "$port" 2>&1; }
# send LINES: each line is "set maxconn frontend NAME N"; sent one by one, then read back.
send() {
  printf '%s\n' "$1" | while IFS= read -r line; do
    [ -n "$line" ] || continue
    out=$(cli "$line") || { echo "homelab: HAProxy's admin socket at $ADMIN did not answer: $out" >&2; exit 3; }
    if [ -n "$(printf '%s' "$out" | tr -d ' \r\n')" ]; then echo "homelab: HAProxy refused '$line': $out" >&2; exit 3; fi
  done || return 3
  stat=$(cli "show stat") || { echo "homelab: HAProxy's admin socket at $ADMIN did not answer: $stat" >&2; return 3; }
  printf '%s\n' "$1" | while read -r _ _ _ name want; do
    [ -n "${name:-}" ] || continue
    got=$(printf '%s\n' "$stat" | awk -F, -v fe="$name" '$1 == fe && $2 == "FRONTEND" { print $7 }')
    [ "$got" = "$want" ] || { echo "homelab: HAProxy reports frontend $name limited to '$got', not $want" >&2; exit 3; }
  done || return 3
}
case "$MODE" in
  hold)
    token="$$.$(date +%s)"
    echo "$token" > "$STATE"
    (
      ours() { [ "$(cat "$STATE" 2>/dev/null || true)" = "$token" ]; }
      n=$HOLD_MAX
      while [ "$n" -gt 0 ] && ours; do sleep 1; n=$((n - 1)); done
      # Past the limit and still ours: release, retrying each second (for up to ten minutes)
      # until HAProxy confirms.
      tries=600
      while [ "$tries" -gt 0 ] && ours; do
        if send "$RELEASE_COMMANDS" 2>/dev/null; then
          if ours; then rm -f "$STATE"; fi
          break
        fi
        sleep 1
        tries=$((tries - 1))
      done
    ) </dev/null >/dev/null 2>&1 &
    # Never leave a hold half taken: undo it and fail (3); if even that fails, say so (4): the
    # watchdog keeps trying.
    if ! send "$HOLD_COMMANDS"; then
      if send "$RELEASE_COMMANDS"; then rm -f "$STATE"; exit 3; fi
      echo "homelab: a partial hold may remain; its watchdog releases it within $HOLD_MAX s" >&2
      exit 4
    fi
    echo "$token"
    ;;
  release)
    send "$RELEASE_COMMANDS"
    # Retire the watchdog only if the hold is the one this release is for (TOKEN, from the hold).
    if [ "$(cat "$STATE" 2>/dev/null || true)" = "${TOKEN:-}" ]; then rm -f "$STATE"; fi
    ;;
  *) echo "homelab: MODE must be hold or release" >&2; exit 2 ;;
esac
