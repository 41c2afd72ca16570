#!/bin/sh
# Host side, Caddy: hold new connections at the HAProxy container (EDGE_CONTAINER), let the
# connections already passed to Caddy send their requests (SETTLE s), run APPLY (caddy-apply.sh)
# in the Caddy container with the bundle on stdin, and release, also on failure or a signal.
# Restarts Caddy when a certificate was revoked (render/reload.ts CADDY_RELOAD_ON_HOST).
# shellcheck shell=sh
set -eu
held=no
token=""
settle=""
edge() {
  docker exec -e MODE="$1" -e TOKEN="$token" -e ADMIN="$EDGE_ADMIN" -e HOLD_MAX="$HOLD_MAX" \
    -e HOLD_COMMANDS="$HOLD_COMMANDS" -e RELEASE_COMMANDS="$RELEASE_COMMANDS" "$EDGE_CONTAINER" sh -c "$HOLD"
}
# held: no, maybe (a hold was being taken, or half failed: release, quietly), yes (release, or fail).
release() {
  status=$?
  if [ -n "$settle" ]; then kill "$settle" 2>/dev/null || true; fi
  if [ "$held" != no ]; then
    was=$held
    held=no
    if ! edge release >/dev/null && [ "$was" = yes ]; then
      echo "homelab: HAProxy in $EDGE_CONTAINER did not confirm the release; its watchdog releases new connections within $HOLD_MAX s. Run pulumi up again." >&2
      [ "$status" -ne 0 ] || status=3
    fi
  fi
  exit "$status"
}
trap release EXIT
# sh runs the EXIT trap on a signal only when the signal handler exits (and only once the docker
# command running at that moment returns).
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
if [ -n "${EDGE_CONTAINER:-}" ] && [ "$(docker inspect -f '{{.State.Running}}' "$EDGE_CONTAINER" 2>/dev/null || true)" = "true" ]; then
  held=maybe
  rc=0
  token=$(edge hold) || rc=$?
  if [ "$rc" -eq 0 ]; then
    held=yes
    # (sleep in the background: a signal interrupts wait, not a foreground sleep)
    sleep "${SETTLE:?}" >/dev/null 2>&1 &
    settle=$!
    wait "$settle"
    settle=""
  else
    [ "$rc" -eq 4 ] || held=no
    echo "homelab: could not hold new connections at $EDGE_CONTAINER: reloading Caddy without" >&2
  fi
fi
result=$(docker exec -i "$CONTAINER" sh -c "$APPLY")
if [ "$result" = revoked ]; then
  echo "homelab: a client certificate was revoked: restarting Caddy to end its open connections" >&2
  docker restart --time 0 "$CONTAINER" >/dev/null
  # Until this runs, every apply says revoked again (and the restart is retried).
  docker exec -e RESTARTED=1 "$CONTAINER" sh -c "$APPLY" </dev/null
fi
