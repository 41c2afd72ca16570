#!/bin/sh
# Host side: runs $SCRIPT (with $EDGE_DIR and $LABEL) on the Mac that runs Docker: here, or over
# SSH when $SSH_TARGET is set (the same ssh://user@host the Docker engine is reached through, with
# the same keys and agent). The bundle on stdin passes through.
set -eu
if [ -z "${SSH_TARGET:-}" ]; then
  exec sh -c "$SCRIPT"
fi
# Single-quote a value for the remote shell: ' becomes '\''.
q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
exec ssh -o BatchMode=yes ${SSH_PORT:+-p "$SSH_PORT"} "$SSH_TARGET" "EDGE_DIR=$(q "$EDGE_DIR") LABEL=$(q "$LABEL") sh -c $(q "$SCRIPT")"
