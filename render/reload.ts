// Shell scripts that put a new Caddy or HAProxy config in place and reload it without replacing
// the container. Pure strings: the same inner scripts run inside the containers (through the
// docker CLI) in production and directly against local processes in the end-to-end tests.
//
// Contract of every script: the new config is checked by the binary that will run it before it
// takes effect; if the check or the reload fails, the previous files are left (or put back) in
// place, the running process keeps serving the old config, and the script exits non-zero with
// the binary's own message on stderr.

/**
 * Runs inside the Caddy container (or beside a local Caddy): writes $CADDYFILE, $CA_PEM and
 * $CLIENTS_PEM under $ETC (default /etc/caddy), then `caddy reload`. Caddy provisions the new
 * config completely before switching, so a bad config never replaces the running one; the files
 * on disk are rolled back to match.
 */
export const CADDY_APPLY = `set -eu
ETC="\${ETC:-/etc/caddy}"
CADDY="\${CADDY:-caddy}"
mkdir -p "$ETC/pki"
for f in Caddyfile pki/ca.pem pki/clients.pem; do
  [ -f "$ETC/$f" ] && cp "$ETC/$f" "$ETC/$f.prev" || rm -f "$ETC/$f.prev"
done
printf '%s' "$CA_PEM" > "$ETC/pki/ca.pem.next"
printf '%s' "$CLIENTS_PEM" > "$ETC/pki/clients.pem.next"
printf '%s' "$CADDYFILE" > "$ETC/Caddyfile.next"
mv "$ETC/pki/ca.pem.next" "$ETC/pki/ca.pem"
mv "$ETC/pki/clients.pem.next" "$ETC/pki/clients.pem"
mv "$ETC/Caddyfile.next" "$ETC/Caddyfile"
if ! "$CADDY" reload --config "$ETC/Caddyfile" --adapter caddyfile \${CADDY_ADDRESS:+--address "$CADDY_ADDRESS"} --force; then
  for f in Caddyfile pki/ca.pem pki/clients.pem; do
    if [ -f "$ETC/$f.prev" ]; then mv "$ETC/$f.prev" "$ETC/$f"; else rm -f "$ETC/$f"; fi
  done
  echo "caddy reload failed: the previous configuration is still serving" >&2
  exit 1
fi
rm -f "$ETC/Caddyfile.prev" "$ETC/pki/ca.pem.prev" "$ETC/pki/clients.pem.prev"
`;

/**
 * Writes $HAPROXY_CFG to $DIR/haproxy.cfg (default /cfg) only if `haproxy -c` accepts it.
 * Production runs it in a throwaway container of the pinned HAProxy image, so the check is made
 * by the exact binary that will load it.
 */
export const HAPROXY_WRITE = `set -eu
DIR="\${DIR:-/cfg}"
HAPROXY="\${HAPROXY:-haproxy}"
printf '%s' "$HAPROXY_CFG" > "$DIR/haproxy.cfg.next"
if ! "$HAPROXY" -c -f "$DIR/haproxy.cfg.next" >&2; then
  rm -f "$DIR/haproxy.cfg.next"
  echo "haproxy rejected the new configuration: the previous one is still serving" >&2
  exit 1
fi
mv "$DIR/haproxy.cfg.next" "$DIR/haproxy.cfg"
`;

/** Host side, Caddy: feed CADDY_APPLY to `sh` inside the running container. */
export const CADDY_RELOAD_ON_HOST = `set -eu
docker exec -i -e CADDYFILE -e CA_PEM -e CLIENTS_PEM "$CONTAINER" sh -s <<'HOMELAB_CADDY_APPLY'
${CADDY_APPLY}HOMELAB_CADDY_APPLY
`;

/**
 * Host side, HAProxy: write and check the config with the pinned image in a throwaway container
 * (it works before the HAProxy container exists, and on a remote engine), then ask a running
 * HAProxy's master process for a soft reload (SIGUSR2): new workers take new connections while
 * old workers finish theirs.
 */
export const HAPROXY_RELOAD_ON_HOST = `set -eu
docker run --rm -i --user 0 -e HAPROXY_CFG -v "$CONFIG_DIR:/cfg" --entrypoint sh "$IMAGE" -s <<'HOMELAB_HAPROXY_WRITE'
${HAPROXY_WRITE}HOMELAB_HAPROXY_WRITE
if [ "$(docker inspect -f '{{.State.Running}}' "$CONTAINER" 2>/dev/null || true)" = "true" ]; then
  docker kill --signal USR2 "$CONTAINER" >/dev/null
fi
`;
