// The native edge on a Mac runtime: HAProxy under a launchd job in the user's login session.
// Pure renderers (haproxy.cfg, the property list) and the shell scripts that install, reload and
// remove it (run on the Mac: locally, or over the same SSH the Docker engine is reached by).
//
// Why a LaunchAgent binding the unspecified address: since macOS 10.14 an unprivileged process
// may bind ports below 1024 on 0.0.0.0/:: (not on one specific address), so the edge needs no
// root, no sudo and no LaunchDaemon. It runs in the login session, as Docker Desktop, OrbStack
// and Colima do, and refuses by destination what the stack does not serve there.
import { Model } from "../stacks/model";
import { EDGE_DIR } from "../components/dockerPlan";
import { renderEdgeCfg } from "./haproxy";
import { RELAY_PORTS } from "./addresses";
import { UNPACK } from "./reload";

/** The oldest HAProxy the rendered configs are tested with (Debian bookworm's, in CI). */
export const MIN_HAPROXY = "2.6";
/** The native edge's log is cut back at apply once it passes this size. */
export const LOG_LIMIT_MB = 50;

export function edgeDir(model: Model): string {
    return `${model.docker.dataDir}/${EDGE_DIR}`;
}

/** The launchd label: reverse-DNS, from the stack's name. */
export function edgeLabel(stack: string): string {
    const safe = stack.toLowerCase().replace(/[^a-z0-9.-]+/g, "-").replace(/^[-.]+|[-.]+$/g, "") || "stack";
    return `dev.homelab.${safe}.edge`;
}

/** The native edge's haproxy.cfg: real client addresses, to the relay with a client certificate. */
export function renderNativeEdgeCfg(model: Model): string {
    const served = [model.tailnet.ipv4, ...(model.tailnet.ipv6 ? [model.tailnet.ipv6] : []), ...model.listenAddresses];
    return renderEdgeCfg(model, {
        bind: { http: ":::80 v4v6", https: ":::443 v4v6" },
        upstream: { kind: "relay", host: "127.0.0.1", ports: { ...RELAY_PORTS } },
        servedDestinations: served,
    });
}

function xml(s: string): string {
    return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/**
 * The LaunchAgent: HAProxy in master-worker mode (-W; SIGUSR2 reloads softly) in the foreground
 * (-db), kept alive, with its config directory as working directory (-C) and its log beside it.
 * The binary is the edge directory's `bin/haproxy` link, which the apply script points at the
 * HAProxy it found (Homebrew's), so the property list is the same on every Mac.
 */
export function renderLaunchdPlist(model: Model, label: string): string {
    const dir = edgeDir(model);
    const args = [`${dir}/bin/haproxy`, "-W", "-db", "-C", dir, "-f", "haproxy.cfg"];
    const limit = "\t\t<key>NumberOfFiles</key>\n\t\t<integer>16384</integer>";
    return [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
        `<!-- Rendered by homelab for ${xml(model.domain)}; do not edit: pulumi up rewrites it. -->`,
        '<plist version="1.0">',
        "<dict>",
        "\t<key>Label</key>",
        `\t<string>${xml(label)}</string>`,
        "\t<key>ProgramArguments</key>",
        "\t<array>",
        ...args.map((a) => `\t\t<string>${xml(a)}</string>`),
        "\t</array>",
        "\t<key>WorkingDirectory</key>",
        `\t<string>${xml(dir)}</string>`,
        "\t<key>RunAtLoad</key>",
        "\t<true/>",
        "\t<key>KeepAlive</key>",
        "\t<true/>",
        "\t<key>ThrottleInterval</key>",
        "\t<integer>10</integer>",
        "\t<key>ProcessType</key>",
        "\t<string>Standard</string>",
        "\t<key>SoftResourceLimits</key>",
        "\t<dict>",
        limit,
        "\t</dict>",
        "\t<key>HardResourceLimits</key>",
        "\t<dict>",
        limit,
        "\t</dict>",
        "\t<key>StandardOutPath</key>",
        `\t<string>${xml(dir)}/haproxy.log</string>`,
        "\t<key>StandardErrorPath</key>",
        `\t<string>${xml(dir)}/haproxy.log</string>`,
        "</dict>",
        "</plist>",
        "",
    ].join("\n");
}

/**
 * Runs on the Mac, as the user who runs Docker. Reads haproxy.cfg, edge-ca.pem, edge-client.pem
 * and edge.plist (a bundle on stdin) into $EDGE_DIR; finds HAProxy (PATH, then Homebrew; installs
 * it with Homebrew when missing) and refuses one older than MIN_HAPROXY; checks the config with
 * `haproxy -c` in a staging directory; then installs the LaunchAgent and loads it, or reloads the
 * running HAProxy softly (SIGUSR2 to its master) when only the config changed. Any failure leaves
 * the previous files and the running edge as they were. $LAUNCHCTL and $BREW may be overridden
 * (the tests run it on Linux with stand-ins).
 */
export const EDGE_APPLY = `set -eu
umask 077
: "\${EDGE_DIR:?}" "\${LABEL:?}"
LAUNCHCTL="\${LAUNCHCTL:-launchctl}"
AGENTS="\${AGENTS_DIR:-$HOME/Library/LaunchAgents}"
STAGE="$EDGE_DIR/.incoming"
MIN="${MIN_HAPROXY}"
${UNPACK}mkdir -p "$EDGE_DIR/bin" "$AGENTS"
rm -rf "$STAGE"
mkdir -p "$STAGE"
unpack "$STAGE"
for f in haproxy.cfg edge-ca.pem edge-client.pem edge.plist; do
  [ -f "$STAGE/$f" ] || { echo "homelab: $f is missing from the input" >&2; exit 2; }
done

find_haproxy() {
  if [ -n "\${HAPROXY:-}" ]; then echo "$HAPROXY"; return; fi
  for h in "$(command -v haproxy 2>/dev/null || true)" \${HOMEBREW_PREFIX:+"$HOMEBREW_PREFIX/bin/haproxy"} /opt/homebrew/bin/haproxy /usr/local/bin/haproxy; do
    if [ -n "$h" ] && [ -x "$h" ]; then echo "$h"; return; fi
  done
}
h=$(find_haproxy)
if [ -z "$h" ]; then
  brew="\${BREW:-$(command -v brew 2>/dev/null || true)}"
  for b in "$brew" \${HOMEBREW_PREFIX:+"$HOMEBREW_PREFIX/bin/brew"} /opt/homebrew/bin/brew /usr/local/bin/brew; do
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
v=$("$h" -v 2>/dev/null | sed -n 's/^HA-*Proxy version \\([0-9][0-9]*\\)\\.\\([0-9][0-9]*\\).*/\\1 \\2/p' | head -n 1)
[ -n "$v" ] || { echo "homelab: cannot read the version of $h" >&2; exit 1; }
set -- $v
if [ "$1" -lt \${MIN%%.*} ] || { [ "$1" -eq \${MIN%%.*} ] && [ "$2" -lt \${MIN#*.} ]; }; then
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

cfg_changed=no
for f in haproxy.cfg edge-ca.pem edge-client.pem; do
  cmp -s "$STAGE/$f" "$EDGE_DIR/$f" || cfg_changed=yes
done
plist="$AGENTS/$LABEL.plist"
plist_changed=no
cmp -s "$STAGE/edge.plist" "$plist" || plist_changed=yes
for f in haproxy.cfg edge-ca.pem edge-client.pem; do mv "$STAGE/$f" "$EDGE_DIR/$f"; done
ln -sf "$h" "$EDGE_DIR/bin/haproxy"

# The log launchd appends to: past ${LOG_LIMIT_MB} MB, its last MB is kept beside it and it starts over.
log="$EDGE_DIR/haproxy.log"
if [ -f "$log" ] && [ "$(wc -c <"$log" | tr -d ' ')" -gt ${LOG_LIMIT_MB * 1024 * 1024} ]; then
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
  rm -f "$previous"
  echo "homelab: edge started ($LABEL)" >&2
elif [ "$cfg_changed" = yes ]; then
  "$LAUNCHCTL" kill SIGUSR2 "$domain/$LABEL"
  echo "homelab: edge reloaded ($LABEL)" >&2
fi
`;

/** On `pulumi destroy`: unload the LaunchAgent and remove its files (the key included). */
export const EDGE_REMOVE = `set -eu
: "\${EDGE_DIR:?}" "\${LABEL:?}"
LAUNCHCTL="\${LAUNCHCTL:-launchctl}"
AGENTS="\${AGENTS_DIR:-$HOME/Library/LaunchAgents}"
"$LAUNCHCTL" bootout "gui/$(id -u)/$LABEL" >/dev/null 2>&1 || true
rm -f "$AGENTS/$LABEL.plist"
rm -rf "$EDGE_DIR/bin" "$EDGE_DIR/.incoming"
rm -f "$EDGE_DIR/haproxy.cfg" "$EDGE_DIR/edge-ca.pem" "$EDGE_DIR/edge-client.pem"
`;

/**
 * Host side: runs $SCRIPT (with $EDGE_DIR and $LABEL) on the Mac that runs Docker: here, or over
 * SSH when $SSH_TARGET is set (the same ssh://user@host the Docker engine is reached through, with
 * the same keys and agent). The bundle on stdin passes through.
 */
export const RUN_ON_MAC = [
    "set -eu",
    'if [ -z "${SSH_TARGET:-}" ]; then',
    '  exec sh -c "$SCRIPT"',
    "fi",
    // Single-quote a value for the remote shell: ' becomes '\''.
    `q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\\\\\''/g")"; }`,
    'exec ssh -o BatchMode=yes ${SSH_PORT:+-p "$SSH_PORT"} "$SSH_TARGET" "EDGE_DIR=$(q "$EDGE_DIR") LABEL=$(q "$LABEL") sh -c $(q "$SCRIPT")"',
    "",
].join("\n");
