#!/bin/sh
# Runs inside the Caddy container (or beside a local Caddy): reads Caddyfile, ca.pem and
# clients.pem (and, with further hosts, hosts-ca.pem, hosts-client.crt and hosts-client.key: the
# gateways' CA and Caddy's client certificate) from a bundle on stdin into $ETC (default
# /etc/caddy; the PEMs under pki/), then
# `caddy reload`. A bad config never replaces the running one (the files roll back). The reload is
# forced only when a PEM changed. Prints `revoked` when a certificate left the leaf allowlist (the
# host then restarts Caddy to end that person's open connections), and again on every run until
# the host says the restart is done (RESTARTED=1: removes the mark, reads no bundle), so a restart
# that failed or was stopped is not lost. Needs lib.sh before it.
# shellcheck shell=sh
set -eu
umask 077
ETC="${ETC:-/etc/caddy}"
CADDY="${CADDY:-caddy}"
PENDING="$ETC/.restart-pending"
if [ "${RESTARTED:-}" = 1 ]; then
  rm -f "$PENDING"
  exit 0
fi
STAGE="$ETC/.incoming"
rm -rf "$STAGE"
mkdir -p "$STAGE" "$ETC/pki"
unpack "$STAGE"
require Caddyfile ca.pem clients.pem
# The PEMs of this bundle: the two every stack has, and the hosts' files when it brings them
# (without them, old ones are removed: no stale key stays behind).
PEMS="ca.pem clients.pem"
for f in hosts-ca.pem hosts-client.crt hosts-client.key; do
  if [ -f "$STAGE/$f" ]; then PEMS="$PEMS $f"; fi
done
force=""
for f in ca.pem clients.pem hosts-ca.pem hosts-client.crt hosts-client.key; do
  if [ -f "$STAGE/$f" ] || [ -f "$ETC/pki/$f" ]; then cmp -s "$STAGE/$f" "$ETC/pki/$f" || force="--force"; fi
done
revoked=no
if [ -f "$ETC/pki/clients.pem" ]; then
  # One line per certificate; any old line missing from the new file is a revoked certificate.
  oneline() { awk '/-----BEGIN/ { c = "" } { c = c $0 } /-----END/ { print c }' "$1"; }
  oneline "$ETC/pki/clients.pem" > "$STAGE/.old"
  oneline "$STAGE/clients.pem" > "$STAGE/.new"
  if [ -s "$STAGE/.old" ] && grep -Fxvq -f "$STAGE/.new" "$STAGE/.old"; then revoked=yes; fi
  if [ ! -s "$STAGE/.new" ] && [ -s "$STAGE/.old" ]; then revoked=yes; fi
  rm -f "$STAGE/.old" "$STAGE/.new"
fi
owed=no
if [ -f "$PENDING" ]; then owed=yes; fi
# Marked before the new allowlist moves in: from then on the restart is owed.
if [ "$revoked" = yes ]; then : >"$PENDING"; fi
FILES="Caddyfile pki/ca.pem pki/clients.pem pki/hosts-ca.pem pki/hosts-client.crt pki/hosts-client.key"
for f in $FILES; do
  if [ -f "$ETC/$f" ]; then cp -p "$ETC/$f" "$ETC/$f.prev"; else rm -f "$ETC/$f.prev"; fi
done
rm -f "$ETC/pki/hosts-ca.pem" "$ETC/pki/hosts-client.crt" "$ETC/pki/hosts-client.key"
chmod 600 "$STAGE/hosts-client.key" 2>/dev/null || true
for f in $PEMS; do mv "$STAGE/$f" "$ETC/pki/$f"; done
mv "$STAGE/Caddyfile" "$ETC/Caddyfile"
rm -rf "$STAGE"
# Caddy's messages with the DNS-01 token cut out: the Cloudflare module quotes a token it finds
# malformed, and what this script prints reaches pulumi's log. (awk reads the token from its
# environment, never from its command line.)
redact() {
  awk '{ t = ENVIRON["CLOUDFLARE_API_TOKEN"]
         if (t != "") while ((i = index($0, t)) > 0) $0 = substr($0, 1, i - 1) "[redacted]" substr($0, i + length(t))
         print }'
}
rc=0
out=$("$CADDY" reload --config "$ETC/Caddyfile" --adapter caddyfile ${CADDY_ADDRESS:+--address "$CADDY_ADDRESS"} $force 2>&1) || rc=$?
if [ -n "$out" ]; then printf '%s\n' "$out" | redact >&2; fi
if [ "$rc" -ne 0 ]; then
  for f in $FILES; do
    if [ -f "$ETC/$f.prev" ]; then mv "$ETC/$f.prev" "$ETC/$f"; else rm -f "$ETC/$f"; fi
  done
  # The previous allowlist is back: this run revoked nothing (an earlier run's restart stays owed).
  if [ "$owed" = no ]; then rm -f "$PENDING"; fi
  echo "caddy reload failed: the previous configuration is still serving" >&2
  exit 1
fi
for f in $FILES; do rm -f "$ETC/$f.prev"; done
if [ "$revoked" = yes ] || [ "$owed" = yes ]; then echo revoked; fi
