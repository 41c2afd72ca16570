#!/bin/sh
# Host side, the HAProxy container (the edge on Linux, the relay on a Mac): write and check the
# config with the pinned image in a throwaway container (WRITE: haproxy-write.sh), then, if
# anything changed, wait for a Caddy reload's hold to end (at most HOLD_WAIT s) and reload the
# running HAProxy softly (SIGUSR2), then tell WRITE the reload is done (RELOADED=1). A container
# that is not running reads the files when it starts: nothing is owed then either. An engine that
# cannot say whether it runs fails the run (the reload stays owed).
# Defaults: render/haproxy.ts CADDY_HOLD (a test keeps them equal).
# shellcheck shell=sh
set -eu
write() {
  docker run --rm -i --user 0 --network none -v "$CONFIG_DIR:/cfg" -e RELOADED="${1:-}" --entrypoint sh "$IMAGE" -c "$WRITE"
}
result=$(write)
echo "haproxy config: $result"
[ "$result" = changed ] || exit 0
if ! state=$(docker inspect -f '{{.State.Running}}' "$CONTAINER" 2>&1); then
  case "$state" in
    *"No such object"* | *"No such container"*) state=absent ;;
    *)
      printf '%s\n' "$state" >&2
      echo "homelab: could not ask Docker whether $CONTAINER runs; the new config is in place and will be loaded on the next pulumi up" >&2
      exit 1
      ;;
  esac
fi
if [ "$state" = "true" ]; then
  # A Caddy reload may be holding new connections here (EDGE_HOLD); reloading now would end that
  # hold early. Wait for it, bounded by the hold's own limit.
  # shellcheck disable=SC2016 # expanded in the container, from the -e values
  docker exec -e N="${HOLD_WAIT:-40}" -e F="${HOLD_STATE_FILE:-homelab-edge-hold}" "$CONTAINER" sh -c 'n=$N; while [ -f "/tmp/$F" ] && [ "$n" -gt 0 ]; do sleep 1; n=$((n - 1)); done' || true
  docker kill --signal USR2 "$CONTAINER" >/dev/null
  echo "haproxy: reloaded softly"
fi
write 1 </dev/null
