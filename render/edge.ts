// The native edge on a Mac runtime: HAProxy under a launchd job in the user's login session.
// Pure renderers (haproxy.cfg, the property list) and the shell scripts that install, reload and
// remove it (run on the Mac: locally, or over the same SSH the Docker engine is reached by).
//
// Why a LaunchAgent binding the unspecified address: since macOS 10.14 an unprivileged process
// may bind ports below 1024 on 0.0.0.0/:: (not on one specific address), so the edge needs no
// root, no sudo and no LaunchDaemon. It runs in the login session, as Docker Desktop, OrbStack
// and Colima do, and refuses by destination what the stack does not serve there.
import { Model } from "../stacks/model";
import { renderEdgeCfg } from "./haproxy";
import { DATA_DIRS, RELAY_PORTS } from "../stacks/layout";
import { shellScript, withLib } from "./shell";

/**
 * The oldest HAProxy the native edge runs on: 3.0, whose server lines send a PROXY v2 TLV of their
 * own (set-proxy-v2-tlv-fmt: how the relay knows the edge). Tested with Debian trixie's 3.0.
 */
export const MIN_HAPROXY = "3.0";
/** The native edge's log is cut back at apply once it passes this size. */
export const LOG_LIMIT_MB = 50;

export function edgeDir(model: Model): string {
    return `${model.docker.dataDir}/${DATA_DIRS.edge}`;
}

/** The launchd label: reverse-DNS, from the stack's name. */
export function edgeLabel(stack: string): string {
    const safe =
        stack
            .toLowerCase()
            .replace(/[^a-z0-9.-]+/g, "-")
            .replace(/^[-.]+|[-.]+$/g, "") || "stack";
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
 * Runs on the Mac, as the user who runs Docker: the bundle into $EDGE_DIR, HAProxy found (or
 * installed with Homebrew) and checked, the LaunchAgent installed and loaded, or the edge reloaded
 * softly (shell/edge-apply.sh). Its defaults for MIN_HAPROXY and LOG_LIMIT_MB are the constants
 * above (a test keeps them equal).
 */
export const EDGE_APPLY = withLib("edge-apply");

/**
 * EDGE_APPLY's first half alone (CHECK_ONLY): HAProxy found (or installed), new enough, and the new
 * config checked; nothing written, nothing reloaded. Runs before the relay takes a new config.
 */
export const EDGE_CHECK = `CHECK_ONLY=1\n${EDGE_APPLY}`;

/** On `pulumi destroy`: unload the LaunchAgent and remove its files (shell/edge-remove.sh). */
export const EDGE_REMOVE = shellScript("edge-remove");

/** Host side: runs $SCRIPT on the Mac that runs Docker, here or over SSH (shell/run-on-mac.sh). */
export const RUN_ON_MAC = shellScript("run-on-mac");
