// Shell scripts that put rendered configs in place and reload them without replacing a
// container. Pure strings: the same inner scripts run inside the containers (through the docker
// CLI) in production, on the Mac for the native edge, and directly against local processes in
// the end-to-end and engine tests.
//
// Every file travels on the script's standard input as one bundle (packFiles): never on a
// command line or in an environment variable, so there is no size limit (Linux refuses a single
// variable over 128 KiB) and keys never appear in a process listing.
//
// Contract of every script: the new config is checked by the binary that will run it before it
// takes effect; if the check or the reload fails, the previous files are left (or put back) in
// place, the running process keeps serving the old config, and the script exits non-zero with
// the binary's own message on stderr. Files identical to what is in place cause no reload.

import { CADDY_HOLD, holdCommands } from "./haproxy";

const FILE_NAME_RE = /^[A-Za-z0-9._-]+$/;

/**
 * The bundle format: for each file (in name order) a line `#homelab-file <name> <lines>`, then
 * exactly that many lines. Every file ends with a newline (one is added if missing).
 */
export function packFiles(files: Record<string, string>): string {
    return Object.keys(files)
        .sort()
        .map((name) => {
            if (!FILE_NAME_RE.test(name)) throw new Error(`internal: bad bundle file name ${name}`);
            const body = files[name] as string;
            if (body.includes("\u0000")) throw new Error(`internal: ${name} contains NUL`);
            const text = body === "" || body.endsWith("\n") ? body : `${body}\n`;
            const lines = text === "" ? 0 : text.split("\n").length - 1;
            return `#homelab-file ${name} ${lines}\n${text}`;
        })
        .join("");
}

/** The inverse of packFiles, for tests. */
export function unpackFiles(bundle: string): Record<string, string> {
    const out: Record<string, string> = {};
    const lines = bundle.split("\n");
    let i = 0;
    while (i < lines.length && !(i === lines.length - 1 && lines[i] === "")) {
        const m = /^#homelab-file (\S+) (\d+)$/.exec(lines[i] as string);
        if (!m) throw new Error(`malformed bundle at line ${i + 1}`);
        const n = Number(m[2]);
        out[m[1] as string] = lines.slice(i + 1, i + 1 + n).map((l) => `${l}\n`).join("");
        i += 1 + n;
    }
    return out;
}

/** POSIX sh function `unpack DIR`: reads a bundle on stdin into DIR (awk: busybox, mawk, BSD awk). */
export const UNPACK = `unpack() {
  awk -v dir="$1" '
    n == 0 {
      if ($1 != "#homelab-file" || NF != 3 || $2 !~ /^[A-Za-z0-9._-]+$/ || $3 !~ /^[0-9]+$/) { bad = 1; exit }
      f = dir "/" $2; n = $3 + 0; printf "" > f
      if (n == 0) close(f)
      next
    }
    { print > f; n--; if (n == 0) close(f) }
    END {
      if (bad) { print "homelab: malformed input (not a homelab file bundle)" > "/dev/stderr"; exit 2 }
      if (n != 0) { print "homelab: truncated input" > "/dev/stderr"; exit 2 }
    }'
}
`;

/** sh: fail unless each named file arrived. */
const REQUIRE = `require() {
  for f in "$@"; do
    [ -f "$STAGE/$f" ] || { echo "homelab: $f is missing from the input" >&2; exit 2; }
  done
}
`;

/**
 * Runs inside the Caddy container (or beside a local Caddy). Reads Caddyfile, ca.pem and
 * clients.pem on stdin into $ETC (default /etc/caddy; the PEMs under pki/), then `caddy reload`.
 * Caddy provisions the new config completely before switching, so a bad config never replaces the
 * running one; the files on disk are rolled back to match. The reload is forced only when a PEM
 * changed (Caddy cannot see that in its config); otherwise Caddy itself skips a config that did
 * not change, so nothing is interrupted.
 *
 * Prints `revoked` when a certificate that was on the leaf allowlist is no longer on it. A reload
 * refuses that certificate's new handshakes at once, but Caddy lets requests already running on
 * the old config finish however long they take (its grace period bounds only the wait, it does
 * not end them), so the host side then restarts Caddy to end that person's open connections.
 */
export const CADDY_APPLY = `set -eu
umask 022
ETC="\${ETC:-/etc/caddy}"
CADDY="\${CADDY:-caddy}"
STAGE="$ETC/.incoming"
${UNPACK}${REQUIRE}rm -rf "$STAGE"
mkdir -p "$STAGE" "$ETC/pki"
unpack "$STAGE"
require Caddyfile ca.pem clients.pem
force=""
cmp -s "$STAGE/ca.pem" "$ETC/pki/ca.pem" || force="--force"
cmp -s "$STAGE/clients.pem" "$ETC/pki/clients.pem" || force="--force"
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
for f in Caddyfile pki/ca.pem pki/clients.pem; do
  if [ -f "$ETC/$f" ]; then cp "$ETC/$f" "$ETC/$f.prev"; else rm -f "$ETC/$f.prev"; fi
done
mv "$STAGE/ca.pem" "$ETC/pki/ca.pem"
mv "$STAGE/clients.pem" "$ETC/pki/clients.pem"
mv "$STAGE/Caddyfile" "$ETC/Caddyfile"
rm -rf "$STAGE"
if ! "$CADDY" reload --config "$ETC/Caddyfile" --adapter caddyfile \${CADDY_ADDRESS:+--address "$CADDY_ADDRESS"} $force; then
  for f in Caddyfile pki/ca.pem pki/clients.pem; do
    if [ -f "$ETC/$f.prev" ]; then mv "$ETC/$f.prev" "$ETC/$f"; else rm -f "$ETC/$f"; fi
  done
  echo "caddy reload failed: the previous configuration is still serving" >&2
  exit 1
fi
rm -f "$ETC/Caddyfile.prev" "$ETC/pki/ca.pem.prev" "$ETC/pki/clients.pem.prev"
if [ "$revoked" = yes ]; then echo revoked; fi
`;

/**
 * Writes haproxy.cfg (and any certificate files beside it) from stdin into $DIR (default /cfg)
 * only if `haproxy -c` accepts them, checked in a staging directory with the same layout
 * (HAProxy runs with -C, so every file name in the config is relative). Prints `changed` or
 * `unchanged` on stdout. Production runs it in a throwaway container of the pinned HAProxy image,
 * so the check is made by the exact binary that will load it; keys are readable by the haproxy
 * group only.
 */
export const HAPROXY_WRITE = `set -eu
umask 027
DIR="\${DIR:-/cfg}"
HAPROXY="\${HAPROXY:-haproxy}"
STAGE="$DIR/.incoming"
${UNPACK}${REQUIRE}rm -rf "$STAGE"
mkdir -p "$STAGE"
unpack "$STAGE"
require haproxy.cfg
if ! "$HAPROXY" -c -C "$STAGE" -f haproxy.cfg >"$STAGE/.check" 2>&1; then
  cat "$STAGE/.check" >&2
  rm -rf "$STAGE"
  echo "haproxy rejected the new configuration: the previous one is still serving" >&2
  exit 1
fi
rm -f "$STAGE/.check"
changed=no
for f in "$STAGE"/*; do
  n=$(basename "$f")
  cmp -s "$f" "$DIR/$n" || changed=yes
  # HAProxy runs as user haproxy: a key is its alone (0600), the rest readable by its group (0640).
  if grep -q 'PRIVATE KEY' "$f"; then
    chmod 600 "$f"
    if grep -q '^haproxy:' /etc/passwd 2>/dev/null; then chown haproxy:haproxy "$f"; fi
  elif grep -q '^haproxy:' /etc/group 2>/dev/null; then
    chgrp haproxy "$f"
  fi
  mv "$f" "$DIR/$n"
done
rm -rf "$STAGE"
if [ "$changed" = yes ]; then echo changed; else echo unchanged; fi
`;

/**
 * Runs inside the HAProxy container that connects to Caddy (or beside a local HAProxy): holds or
 * releases new connections (render/haproxy.ts CADDY_HOLD) through HAProxy's admin socket on the
 * container's loopback. Every change is read back from HAProxy (`show stat`: the frontend's limit)
 * before it counts as done.
 *
 * MODE=hold first leaves a watchdog, then sends HOLD_COMMANDS: a hold that is never released (the
 * host died, the release failed) is released by the watchdog after HOLD_MAX seconds, retrying
 * until HAProxy confirms. A hold that fails half-way is released at once. MODE=release sends
 * RELEASE_COMMANDS and retires the watchdog only once HAProxy confirms; if it cannot, the watchdog
 * stays. A hold prints its token on stdout; a release retires the watchdog only when TOKEN matches.
 * Fails (exit 3) with HAProxy's own words when the socket does not answer, HAProxy refuses a
 * command, or the limit read back is not the one asked for; exit 4 means a hold failed half-way and
 * could not be undone (its watchdog keeps trying).
 */
export const EDGE_HOLD = `set -eu
STATE="\${HOLD_STATE:-/tmp}/${CADDY_HOLD.stateFile}"
host=\${ADMIN%:*}
port=\${ADMIN##*:}
command -v nc >/dev/null 2>&1 || { echo "homelab: no nc here to reach HAProxy's admin socket" >&2; exit 3; }
cli() { printf '%s\\n' "$1" | nc -w 2 "$host" "$port" 2>&1; }
# send LINES: each line is "set maxconn frontend NAME N"; sent one by one, then read back.
send() {
  printf '%s\\n' "$1" | while IFS= read -r line; do
    [ -n "$line" ] || continue
    out=$(cli "$line") || { echo "homelab: HAProxy's admin socket at $ADMIN did not answer: $out" >&2; exit 3; }
    if [ -n "$(printf '%s' "$out" | tr -d ' \\r\\n')" ]; then echo "homelab: HAProxy refused '$line': $out" >&2; exit 3; fi
  done || return 3
  stat=$(cli "show stat") || { echo "homelab: HAProxy's admin socket at $ADMIN did not answer: $stat" >&2; return 3; }
  printf '%s\\n' "$1" | while read -r _ _ _ name want; do
    [ -n "\${name:-}" ] || continue
    got=$(printf '%s\\n' "$stat" | awk -F, -v fe="$name" '$1 == fe && $2 == "FRONTEND" { print $7 }')
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
    if [ "$(cat "$STATE" 2>/dev/null || true)" = "\${TOKEN:-}" ]; then rm -f "$STATE"; fi
    ;;
  *) echo "homelab: MODE must be hold or release" >&2; exit 2 ;;
esac
`;

/**
 * Host side, Caddy: hold new connections at the HAProxy container (EDGE_CONTAINER, when it is
 * running), give the connections already passed to Caddy SETTLE seconds to send their requests,
 * run CADDY_APPLY inside the Caddy container with the bundle on stdin, and release, also when the
 * apply fails or the script is interrupted. Without the hold a reload can drop a brand-new
 * connection (CADDY_HOLD says why); with it a client waits a moment instead. When the hold cannot
 * be taken the reload goes ahead without it, and says so. A release HAProxy does not confirm fails
 * the command (the hold's watchdog still releases it). When a user's certificate was revoked,
 * restart the container at once (same container; Caddy resumes the config it was just given):
 * that person's open connections end now, everyone else's reconnect, and the edge retries while
 * Caddy starts.
 */
export const CADDY_RELOAD_ON_HOST = `set -eu
held=no
token=""
settle=""
edge() {
  docker exec -e MODE="$1" -e TOKEN="$token" -e ADMIN="$EDGE_ADMIN" -e HOLD_MAX="$HOLD_MAX" \\
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
if [ -n "\${EDGE_CONTAINER:-}" ] && [ "$(docker inspect -f '{{.State.Running}}' "$EDGE_CONTAINER" 2>/dev/null || true)" = "true" ]; then
  held=maybe
  rc=0
  token=$(edge hold) || rc=$?
  if [ "$rc" -eq 0 ]; then
    held=yes
    # (sleep in the background: a signal interrupts wait, not a foreground sleep)
    sleep "$SETTLE" </dev/null >/dev/null 2>&1 &
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
fi
`;

/**
 * Host side, HAProxy container (the edge on Linux, the relay on a Mac): write and check with the
 * pinned image in a throwaway container (it works before the HAProxy container exists, and on a
 * remote engine), then, if anything changed, ask a running HAProxy's master process for a soft
 * reload (SIGUSR2): new workers take new connections while old workers finish theirs.
 */
export const HAPROXY_RELOAD_ON_HOST = `set -eu
result=$(docker run --rm -i --user 0 --network none -v "$CONFIG_DIR:/cfg" --entrypoint sh "$IMAGE" -c "$WRITE")
echo "haproxy config: $result"
if [ "$result" = changed ] && [ "$(docker inspect -f '{{.State.Running}}' "$CONTAINER" 2>/dev/null || true)" = "true" ]; then
  # A Caddy reload may be holding new connections here (EDGE_HOLD); reloading now would end that
  # hold early. Wait for it, bounded by the hold's own limit.
  docker exec "$CONTAINER" sh -c 'n=${CADDY_HOLD.maxSeconds + 10}; while [ -f /tmp/${CADDY_HOLD.stateFile} ] && [ "$n" -gt 0 ]; do sleep 1; n=$((n - 1)); done' || true
  docker kill --signal USR2 "$CONTAINER" >/dev/null
  echo "haproxy: reloaded softly"
fi
`;

/**
 * The environment CADDY_RELOAD_ON_HOST runs with (besides DOCKER_HOST): the Caddy container, and
 * the HAProxy container that connects to Caddy (the edge on Linux, the relay on a Mac runtime)
 * with the CLI lines that hold and release it. None of it is secret.
 */
export function caddyReloadEnvironment(edge: "container" | "native"): Record<string, string> {
    const { hold, release } = holdCommands(edge === "native" ? "relay" : "edge");
    return {
        CONTAINER: "caddy",
        APPLY: CADDY_APPLY,
        EDGE_CONTAINER: "haproxy",
        EDGE_ADMIN: CADDY_HOLD.admin,
        HOLD: EDGE_HOLD,
        HOLD_COMMANDS: hold,
        RELEASE_COMMANDS: release,
        HOLD_MAX: String(CADDY_HOLD.maxSeconds),
        SETTLE: String(CADDY_HOLD.settleSeconds),
    };
}
