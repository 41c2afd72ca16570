#!/bin/sh
# Runs on the Mac, as the user who runs Docker: reads haproxy.cfg, edge-secret.map (the edge's
# secret, which it sends the relay in every PROXY header) and edge.plist (a bundle on stdin) into $EDGE_DIR; finds HAProxy (PATH, then Homebrew; installs
# it with Homebrew when missing) and refuses one older than MIN_HAPROXY; checks the config; then
# installs and loads the LaunchAgent, or reloads the running edge softly when only the config
# changed. A failure leaves the previous files and the running edge as they were. LAUNCHCTL and
# BREW may be overridden (the tests run it on Linux with stand-ins). Needs lib.sh before it.
# Defaults: render/edge.ts MIN_HAPROXY and LOG_LIMIT_MB (a test keeps them equal).
# shellcheck shell=sh
set -eu
umask 077
: "${EDGE_DIR:?}" "${LABEL:?}"
LAUNCHCTL="${LAUNCHCTL:-launchctl}"
AGENTS="${AGENTS_DIR:-$HOME/Library/LaunchAgents}"
STAGE="$EDGE_DIR/.incoming"
MIN="${MIN_HAPROXY:-3.0}"
LOG_LIMIT_MB="${LOG_LIMIT_MB:-50}"
mkdir -p "$EDGE_DIR/bin" "$AGENTS"
rm -rf "$STAGE"
mkdir -p "$STAGE"
unpack "$STAGE"
for f in haproxy.cfg edge-secret.map edge.plist; do
  [ -f "$STAGE/$f" ] || { echo "homelab: $f is missing from the input" >&2; exit 2; }
done

find_haproxy() {
  if [ -n "${HAPROXY:-}" ]; then echo "$HAPROXY"; return; fi
  for h in "$(command -v haproxy 2>/dev/null || true)" ${HOMEBREW_PREFIX:+"$HOMEBREW_PREFIX/bin/haproxy"} /opt/homebrew/bin/haproxy /usr/local/bin/haproxy; do
    if [ -n "$h" ] && [ -x "$h" ]; then echo "$h"; return; fi
  done
}
h=$(find_haproxy)
if [ -z "$h" ]; then
  brew="${BREW:-$(command -v brew 2>/dev/null || true)}"
  for b in "$brew" ${HOMEBREW_PREFIX:+"$HOMEBREW_PREFIX/bin/brew"} /opt/homebrew/bin/brew /usr/local/bin/brew; do
    if [ -n "$b" ] && [ -x "$b" ]; then brew="$b"; break; fi
  done
  if [ -z "$brew" ] || [ ! -x "$brew" ]; then
    echo "homelab: HAProxy is not installed and Homebrew was not found. Install Homebrew (https://brew.sh), then run pulumi up again (it runs: brew install haproxy)." >&2
    exit 1
  fi
  echo "homelab: installing HAProxy with Homebrew ($brew install haproxy)" >&2
  "$brew" install haproxy >&2
  h=$(find_haproxy)
  [ -n "$h" ] || { echo "homelab: brew install haproxy did not leave an haproxy binary in Homebrew's prefix" >&2; exit 1; }
fi
v=$("$h" -v 2>/dev/null | sed -n 's/^HA-*Proxy version \([0-9][0-9]*\)\.\([0-9][0-9]*\).*/\1 \2/p' | head -n 1)
[ -n "$v" ] || { echo "homelab: cannot read the version of $h" >&2; exit 1; }
# shellcheck disable=SC2086 # split "major minor" into $1 $2
set -- $v
if [ "$1" -lt "${MIN%%.*}" ] || { [ "$1" -eq "${MIN%%.*}" ] && [ "$2" -lt "${MIN#*.}" ]; }; then
  echo "homelab: $h is HAProxy $1.$2; the edge needs $MIN or newer (brew upgrade haproxy)" >&2
  exit 1
fi

if ! "$h" -c -C "$STAGE" -f haproxy.cfg >"$STAGE/.check" 2>&1; then
  cat "$STAGE/.check" >&2
  rm -rf "$STAGE"
  echo "haproxy rejected the new edge configuration: the previous one is still serving" >&2
  exit 1
fi
rm -f "$STAGE/.check"
# CHECK_ONLY (EDGE_CHECK): HAProxy is there, new enough, and takes the new config: nothing is
# written or reloaded. pulumi up runs this before the relay switches to the new config, so a Mac
# that cannot run it stops the update while its edge still works.
if [ -n "${CHECK_ONLY:-}" ]; then
  rm -rf "$STAGE"
  echo "homelab: the edge's new configuration checks out with $h" >&2
  exit 0
fi

# A reload is owed from before the new files move in until the running edge has them (a soft
# reload or a fresh start): a run that fails in between reloads the next time, even for the same files.
pending="$EDGE_DIR/.reload-pending"
cfg_changed=no
[ ! -f "$pending" ] || cfg_changed=yes
for f in haproxy.cfg edge-secret.map; do
  cmp -s "$STAGE/$f" "$EDGE_DIR/$f" || cfg_changed=yes
done
[ "$cfg_changed" = no ] || : >"$pending"
plist="$AGENTS/$LABEL.plist"
plist_changed=no
cmp -s "$STAGE/edge.plist" "$plist" || plist_changed=yes
for f in haproxy.cfg edge-secret.map; do mv "$STAGE/$f" "$EDGE_DIR/$f"; done
# The edge's certificate and key from before the secret (they open nothing now): not left behind.
rm -f "$EDGE_DIR/edge-ca.pem" "$EDGE_DIR/edge-client.pem"
ln -sf "$h" "$EDGE_DIR/bin/haproxy"

# The log launchd appends to: past LOG_LIMIT_MB MB, its last MB is kept beside it and it starts over.
log="$EDGE_DIR/haproxy.log"
if [ -f "$log" ] && [ "$(wc -c <"$log" | tr -d ' ')" -gt $((LOG_LIMIT_MB * 1024 * 1024)) ]; then
  tail -c 1048576 "$log" >"$log.1" && : >"$log"
fi

domain="gui/$(id -u)"
loaded=no
"$LAUNCHCTL" print "$domain/$LABEL" >/dev/null 2>&1 && loaded=yes
previous="$EDGE_DIR/edge.plist.previous"
rm -f "$previous"
if [ "$plist_changed" = yes ]; then
  [ -f "$plist" ] && cp "$plist" "$previous"
  if [ "$loaded" = yes ]; then
    "$LAUNCHCTL" bootout "$domain/$LABEL" >/dev/null 2>&1 || true
    # bootout returns before the job is gone; bootstrapping too early fails (error 5).
    i=0
    while "$LAUNCHCTL" print "$domain/$LABEL" >/dev/null 2>&1 && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
    if "$LAUNCHCTL" print "$domain/$LABEL" >/dev/null 2>&1; then
      rm -rf "$STAGE" "$previous"
      echo "homelab: launchd is still stopping the previous edge job after 10 s; run pulumi up again in a minute (the new config is in place)" >&2
      exit 1
    fi
  fi
  mv "$STAGE/edge.plist" "$plist"
  loaded=no
fi
rm -rf "$STAGE"

# launchd sometimes refuses a bootstrap right after a bootout: three tries, a second apart.
bootstrap() {
  n=0
  until "$LAUNCHCTL" bootstrap "$domain" "$1"; do
    n=$((n + 1))
    [ $n -lt 3 ] || return 1
    sleep 1
  done
}
if [ "$loaded" = no ]; then
  if ! bootstrap "$plist"; then
    if [ -f "$previous" ]; then
      mv "$previous" "$plist"
      bootstrap "$plist" && echo "homelab: the new job did not load; the previous one is running again" >&2
    fi
    echo "homelab: launchctl could not load $plist. The edge runs as a LaunchAgent in your login session: log in on the Mac (or turn on automatic login), then run pulumi up again." >&2
    exit 1
  fi
  rm -f "$previous" "$pending"
  echo "homelab: edge started ($LABEL)" >&2
elif [ "$cfg_changed" = yes ]; then
  "$LAUNCHCTL" kill SIGUSR2 "$domain/$LABEL"
  rm -f "$pending"
  echo "homelab: edge reloaded ($LABEL)" >&2
fi
