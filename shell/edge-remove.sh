#!/bin/sh
# On `pulumi destroy`, on the Mac: unload the LaunchAgent and remove its files (the secret included).
# shellcheck shell=sh
set -eu
: "${EDGE_DIR:?}" "${LABEL:?}"
LAUNCHCTL="${LAUNCHCTL:-launchctl}"
AGENTS="${AGENTS_DIR:-$HOME/Library/LaunchAgents}"
"$LAUNCHCTL" bootout "gui/$(id -u)/$LABEL" >/dev/null 2>&1 || true
rm -f "$AGENTS/$LABEL.plist"
rm -rf "${EDGE_DIR:?}/bin" "$EDGE_DIR/.incoming" "$EDGE_DIR/.reload-pending"
rm -f "$EDGE_DIR/haproxy.cfg" "$EDGE_DIR/edge-secret.map" "$EDGE_DIR/edge-ca.pem" "$EDGE_DIR/edge-client.pem"
