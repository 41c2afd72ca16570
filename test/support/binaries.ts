// The real binaries the rendered configs are for: the Caddy test build (scripts/build-caddy.sh,
// exactly the versions the Dockerfile pins) and Debian's HAProxy; and Pulumi's own config validation
// (tools/configcheck, scripts/build-configcheck.sh).
import * as path from "path";
import { execFileSync } from "child_process";

const ROOT = path.resolve(__dirname, "..", "..");
let caddyPath: string | undefined;

/** Path to the cached Caddy test build; builds it on first use. Fails loudly if it cannot. */
export function caddyBinary(): string {
    if (!caddyPath) {
        caddyPath = execFileSync("bash", [path.join(ROOT, "scripts/build-caddy.sh")], {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "inherit"],
            timeout: 20 * 60_000,
        })
            .trim()
            .split("\n")
            .pop() as string;
    }
    return caddyPath;
}

export function haproxyBinary(): string {
    return execFileSync("sh", ["-c", "command -v haproxy"], { encoding: "utf8" }).trim();
}

/** A syntactically valid (fake) Cloudflare token: caddy-dns/cloudflare checks the shape. */
export const DUMMY_CLOUDFLARE_TOKEN = "dummy0token0for0validation0only0abcdefgh";

let haproxy3Path: string | undefined;
/** Debian trixie's HAProxy 3.x (scripts/build-haproxy3.sh), for checking configs with a current release too. */
export function haproxy3Binary(): string {
    if (!haproxy3Path) {
        haproxy3Path = execFileSync("bash", [path.join(ROOT, "scripts/build-haproxy3.sh")], {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "inherit"],
            timeout: 10 * 60_000,
        })
            .trim()
            .split("\n")
            .pop() as string;
    }
    return haproxy3Path;
}

let configcheckPath: string | undefined;
/**
 * Pulumi's own project/stack config validation (tools/configcheck, built by
 * scripts/build-configcheck.sh from the Pulumi Go SDK and cached by its sources); builds it on
 * first use. Fails loudly if it cannot.
 */
export function configcheckBinary(): string {
    if (!configcheckPath) {
        configcheckPath = execFileSync("bash", [path.join(ROOT, "scripts/build-configcheck.sh")], {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "inherit"],
            timeout: 20 * 60_000,
        })
            .trim()
            .split("\n")
            .pop() as string;
    }
    return configcheckPath;
}
