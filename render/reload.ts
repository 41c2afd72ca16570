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
import { shellScript, withLib } from "./shell";
import { CONTAINERS } from "../stacks/layout";

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
        out[m[1] as string] = lines
            .slice(i + 1, i + 1 + n)
            .map((l) => `${l}\n`)
            .join("");
        i += 1 + n;
    }
    return out;
}

/**
 * Inside the Caddy container: the bundle (Caddyfile, ca.pem, clients.pem) into place and `caddy
 * reload`, rolled back if Caddy refuses it; prints `revoked` when a certificate left the leaf
 * allowlist (shell/caddy-apply.sh).
 */
export const CADDY_APPLY = withLib("caddy-apply");

/** In a throwaway container of the pinned HAProxy image: check and write the config (shell/haproxy-write.sh). */
export const HAPROXY_WRITE = withLib("haproxy-write");

/**
 * Inside the HAProxy container that connects to Caddy: hold or release new connections through
 * its admin socket, with a watchdog (shell/edge-hold.sh). Exit 3: HAProxy refused or did not
 * answer; exit 4: a hold failed half-way and could not be undone.
 */
export const EDGE_HOLD = shellScript("edge-hold");

/** In a throwaway container: cloudflared's CA folder gets exactly the certificates given (shell/public-files-write.sh). */
export const PUBLIC_FILES_WRITE = withLib("public-files-write");

/** Inside a throwaway container: a folder made to hold exactly the files of a bundle, keys 0600 (shell/files-write.sh). */
export const FILES_WRITE = withLib("files-write");
/** Host side: runs a writer (FILES_WRITE, PUBLIC_FILES_WRITE) in a throwaway container against the Docker host (shell/files-on-host.sh). */
export const FILES_ON_HOST = shellScript("files-on-host");

/** Host side, Caddy: hold at the edge, apply, release, restart on a revocation (shell/caddy-reload-on-host.sh). */
export const CADDY_RELOAD_ON_HOST = shellScript("caddy-reload-on-host");

/** Host side, the HAProxy container: write, then reload softly after any hold (shell/haproxy-reload-on-host.sh). */
export const HAPROXY_RELOAD_ON_HOST = shellScript("haproxy-reload-on-host");

/** What HAPROXY_RELOAD_ON_HOST needs to know of the hold (its defaults are these; a test keeps them equal). */
export function haproxyReloadEnvironment(): Record<string, string> {
    return { HOLD_WAIT: String(CADDY_HOLD.maxSeconds + 10), HOLD_STATE_FILE: CADDY_HOLD.stateFile };
}

/**
 * The environment CADDY_RELOAD_ON_HOST runs with (besides DOCKER_HOST): the Caddy container, and
 * the HAProxy container that connects to Caddy (the edge on Linux, the relay on a Mac runtime)
 * with the CLI lines that hold and release it. None of it is secret.
 */
export function caddyReloadEnvironment(edge: "container" | "native"): Record<string, string> {
    const { hold, release } = holdCommands(edge === "native" ? "relay" : "edge");
    return {
        CONTAINER: CONTAINERS.caddy,
        APPLY: CADDY_APPLY,
        EDGE_CONTAINER: CONTAINERS.haproxy,
        EDGE_ADMIN: CADDY_HOLD.admin,
        HOLD: EDGE_HOLD,
        HOLD_COMMANDS: hold,
        RELEASE_COMMANDS: release,
        HOLD_MAX: String(CADDY_HOLD.maxSeconds),
        SETTLE: String(CADDY_HOLD.settleSeconds),
    };
}
