// The real binaries the rendered configs are for: the Caddy test build (scripts/build-caddy.sh,
// exactly the versions the Dockerfile pins) and HAProxy 3.x; and Pulumi's own config validation
// (tools/configcheck, scripts/build-configcheck.sh).
import * as path from "path";
import { execFileSync } from "child_process";

const ROOT = path.resolve(__dirname, "..", "..");
const built = new Map<string, string>();
/** Runs a build script once per process and returns the path it prints last (the cached binary). */
function cachedBuild(script: string, timeoutMinutes: number): string {
    let p = built.get(script);
    if (!p) {
        p = execFileSync("bash", [path.join(ROOT, script)], {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "inherit"],
            timeout: timeoutMinutes * 60_000,
        })
            .trim()
            .split("\n")
            .pop() as string;
        built.set(script, p);
    }
    return p;
}

/** Path to the cached Caddy test build; builds it on first use. Fails loudly if it cannot. */
export function caddyBinary(): string {
    return cachedBuild("scripts/build-caddy.sh", 20);
}

/** Debian bookworm's HAProxy 2.6 (on PATH): only to show which configs it refuses. */
export function haproxyBinary(): string {
    return execFileSync("sh", ["-c", "command -v haproxy"], { encoding: "utf8" }).trim();
}

/** A syntactically valid (fake) Cloudflare token: caddy-dns/cloudflare checks the shape. */
export const DUMMY_CLOUDFLARE_TOKEN = "dummy0token0for0validation0only0abcdefgh";

/** Debian trixie's HAProxy 3.x (scripts/build-haproxy3.sh): every rendered config is checked and run with it. */
export function haproxy3Binary(): string {
    return cachedBuild("scripts/build-haproxy3.sh", 10);
}

/**
 * Pulumi's own project/stack config validation (tools/configcheck, built by
 * scripts/build-configcheck.sh from the Pulumi Go SDK and cached by its sources); builds it on
 * first use. Fails loudly if it cannot.
 */
export function configcheckBinary(): string {
    return cachedBuild("scripts/build-configcheck.sh", 20);
}
