#!/bin/sh
# Host side, the HAProxy container (the edge on Linux, the relay on a Mac): write and check the
# config with the pinned image in a throwaway container (WRITE: haproxy-write.sh), then, if
# anything changed, wait for a Caddy reload's hold to end (at most HOLD_WAIT s) and reload the
# running HAProxy softly (SIGUSR2). Defaults: render/haproxy.ts CADDY_HOLD (a test keeps them equal).
# shellcheck shell=sh
set -eu
result=$(docker run --rm -i --user 0 --network none -v "$CONFIG_DIR:/cfg" --entrypoint sh "$IMAGE" -c "$WRITE")
echo "haproxy config: $result"
if [ "$result" = changed ] && [ "$(docker inspect -f '{{.State.Running}}' "$CONTAINER" 2>/dev/null || true)" = "true" ]; then
  # A Caddy reload may be holding new connections here (EDGE_HOLD); reloading now would end that
  # hold early. Wait for it, bounded by the hold's own limit.
  # shellcheck disable=SC2016 # expanded in the container, from the -e values
  docker exec -e N="${HOLD_WAIT:-40}" -e F="${HOLD_STATE_FILE:-homelab-edge-hold}" "$CONTAINER" sh -c 'n=$N; while [ -f "/tmp/$F" ] && [ "$n" -gt 0 ]; do sleep 1; n=$((n - 1)); done' || true
  docker kill --signal USR2 "$CONTAINER" >/dev/null
  echo "haproxy: reloaded softly"
fi
