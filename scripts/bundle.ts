// npm run bundle -- <user> [dir] [--force] [--stdin]
// Writes <dir>/<user>.p12 (mode 0600) from the stack's clientBundles output and prints its
// password and how to import it. Reads `pulumi stack output --show-secrets --json clientBundles`,
// or that JSON on stdin (offline, or piped from another machine).
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";

export interface Bundle {
    p12: string;
    password: string;
    notAfter: string;
}

export class BundleError extends Error {}

export function parseBundles(json: string): Record<string, Bundle> {
    let value: unknown;
    try {
        value = JSON.parse(json);
    } catch {
        throw new BundleError(
            "the clientBundles JSON does not parse; expected the output of: pulumi stack output --show-secrets --json clientBundles",
        );
    }
    if (typeof value !== "object" || value === null || Array.isArray(value))
        throw new BundleError("clientBundles must be an object of user → { p12, password, notAfter }");
    for (const [user, b] of Object.entries(value as Record<string, any>)) {
        if (typeof b?.p12 !== "string" || typeof b?.password !== "string") {
            throw new BundleError(
                `the bundle for ${user} has no p12/password: was the output read with --show-secrets?`,
            );
        }
    }
    return value as Record<string, Bundle>;
}

/** Writes the bundle with mode 0600 from the first byte; refuses to overwrite unless `force`. */
export function writeBundle(bundles: Record<string, Bundle>, user: string, dir: string, force = false): string {
    const b = bundles[user];
    if (!b) {
        const known = Object.keys(bundles).sort();
        throw new BundleError(
            `no bundle for "${user}"; users in this stack: ${known.length ? known.join(", ") : "(none: add them to homelab:users)"}`,
        );
    }
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${user}.p12`);
    if (fs.existsSync(file) && !force) throw new BundleError(`${file} exists; pass --force to overwrite it`);
    if (force) fs.rmSync(file, { force: true });
    const fd = fs.openSync(file, "wx", 0o600);
    try {
        fs.writeSync(fd, Buffer.from(b.p12, "base64"));
    } finally {
        fs.closeSync(fd);
    }
    fs.chmodSync(file, 0o600);
    return file;
}

export function instructions(user: string, file: string, b: Bundle): string {
    return [
        `Wrote ${file} (certificate for "${user}", valid until ${b.notAfter}).`,
        `Password: ${b.password}`,
        "",
        "macOS: double-click the file, choose the login keychain, enter the password.",
        `       Or: security import ${JSON.stringify(file)} -k ~/Library/Keychains/login.keychain-db   (it asks for the password)`,
        "iOS/iPadOS: AirDrop the file (or open it from Files/Mail), then Settings → Profile Downloaded → Install,",
        "       and enter the password. Safari offers the certificate when a site asks for it.",
        "Android: copy the file to the device, then Settings → Security → Encryption & credentials →",
        '       Install a certificate → "VPN & app user certificate", pick the file, enter the password.',
        "",
        "Delete the file once it is imported, and send the password by another channel than the file.",
    ].join("\n");
}

function readStdin(): string {
    return fs.readFileSync(0, "utf8");
}

function readFromPulumi(): string {
    try {
        return execFileSync("pulumi", ["stack", "output", "--show-secrets", "--json", "clientBundles"], {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "inherit"],
        });
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT")
            throw new BundleError(
                "the pulumi CLI is not installed; install it, or pipe the clientBundles JSON in with --stdin",
            );
        throw new BundleError(
            "pulumi stack output failed (see above); run it from the project folder with the stack selected",
        );
    }
}

export function main(
    argv: string[],
    io = { stdinIsTty: process.stdin.isTTY === true, readStdin, readFromPulumi },
): number {
    const flags = argv.filter((a) => a.startsWith("--"));
    const args = argv.filter((a) => !a.startsWith("--"));
    const [user, dir = "."] = args;
    if (!user) {
        process.stderr.write("usage: npm run bundle -- <user> [dir] [--force] [--stdin]\n");
        return 2;
    }
    try {
        const json = flags.includes("--stdin") || !io.stdinIsTty ? io.readStdin() : io.readFromPulumi();
        const bundles = parseBundles(json);
        const file = writeBundle(bundles, user, dir, flags.includes("--force"));
        process.stdout.write(instructions(user, file, bundles[user] as Bundle) + "\n");
        return 0;
    } catch (e) {
        if (e instanceof BundleError) {
            process.stderr.write(`bundle: ${e.message}\n`);
            return 1;
        }
        throw e;
    }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
