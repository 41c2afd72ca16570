#!/bin/sh
# Runs on the machine that runs `pulumi destroy` (or removes the last public service), just before
# Pulumi deletes the Cloudflare Tunnel: asks Cloudflare to drop the tunnel's connector connections.
# The v5 provider deletes a tunnel without doing so, and Cloudflare refuses to delete a tunnel that
# still has connections ("active connections"), which a connector that was killed rather than
# stopped leaves behind for a while. cloudflared itself is stopped gracefully first (it unregisters
# at once on SIGTERM), so this is the second line: a failure here is reported, never fatal.
#
# Environment: ACCOUNT_ID, TUNNEL_ID, CLOUDFLARE_API_TOKEN (the bootstrap token, a Pulumi secret).
# The token travels to curl on its standard input, never on its command line, and only to
# Cloudflare's API: the address is fixed here, not taken from the environment `pulumi` runs in.
set -u
api=https://api.cloudflare.com/client/v4
for v in ACCOUNT_ID TUNNEL_ID CLOUDFLARE_API_TOKEN; do
  eval "value=\${$v:-}"
  if [ -z "$value" ]; then
    echo "homelab: tunnel cleanup: $v is not set; skipping (delete the tunnel's connections in the dashboard if the tunnel delete fails)" >&2
    exit 0
  fi
done
case "$ACCOUNT_ID$TUNNEL_ID" in
  *[!0-9A-Za-z-]*) echo "homelab: tunnel cleanup: unexpected account or tunnel id; skipping" >&2; exit 0 ;;
esac
if ! command -v curl >/dev/null 2>&1; then
  echo "homelab: tunnel cleanup: curl not found; if the tunnel delete fails, run: cloudflared tunnel cleanup $TUNNEL_ID" >&2
  exit 0
fi
header=$(printf 'Authorization: Bearer %s' "$CLOUDFLARE_API_TOKEN")
unset CLOUDFLARE_API_TOKEN
# -q first: curl reads no ~/.curlrc, whose `verbose` would print the header (the token) to the
# log, and whose proxy, resolve or connect-to lines would send it elsewhere; https only.
status=$(printf '%s\n' "$header" |
  curl -q --proto =https --silent --show-error --max-time 30 --request DELETE --header @- \
    --output /dev/null --write-out '%{http_code}' \
    "$api/accounts/$ACCOUNT_ID/cfd_tunnel/$TUNNEL_ID/connections") || status="none"
case "$status" in
  2??|404) echo "homelab: tunnel $TUNNEL_ID: connections cleaned up ($status)" ;;
  *) echo "homelab: tunnel cleanup: Cloudflare answered $status; if the tunnel delete fails, run: cloudflared tunnel cleanup $TUNNEL_ID" >&2 ;;
esac
exit 0
