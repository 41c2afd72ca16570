// shell/tunnel-connections-cleanup.sh, run as `pulumi destroy` runs it (its environment, /bin/sh)
// with a stand-in curl that records what it was given: the request it makes, that the token travels
// on curl's standard input and never on a command line, and that a failure never fails the destroy.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import { shellScript } from "../../render/shell";

const TOKEN = "bootstrap-token-SECRET-1a2b";

function runCleanup(
    env: Record<string, string>,
    curlExit = 0,
    httpCode = "200",
): { status: number | null; stdout: string; stderr: string; argv: string; stdin: string; env: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "homelab-cleanup-"));
    try {
        const bin = path.join(dir, "bin");
        fs.mkdirSync(bin);
        // The stand-in: records its arguments and standard input, prints the status code.
        fs.writeFileSync(
            path.join(bin, "curl"),
            `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/argv"\nenv > "${dir}/env"\ncat > "${dir}/stdin"\nprintf '%s' '${httpCode}'\nexit ${curlExit}\n`,
            { mode: 0o755 },
        );
        const r = spawnSync("/bin/sh", ["-c", shellScript("tunnel-connections-cleanup")], {
            env: { PATH: `${bin}:/usr/bin:/bin`, ...env },
            encoding: "utf8",
            timeout: 10_000,
        });
        const read = (f: string) =>
            fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), "utf8") : "";
        return {
            status: r.status,
            stdout: r.stdout,
            stderr: r.stderr,
            argv: read("argv"),
            stdin: read("stdin"),
            env: read("env"),
        };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

const ENV = {
    ACCOUNT_ID: "01a7362d577a6c3019a474fd6f485823",
    TUNNEL_ID: "c0ffee00-1234-4abc-8def-0123456789ab",
    CLOUDFLARE_API_TOKEN: TOKEN,
};

describe("the tunnel's connection cleanup before the tunnel is deleted", () => {
    it("curl reads no ~/.curlrc (-q is its first argument: curl honours it only there) and speaks https only", () => {
        // A `verbose` in the user's .curlrc would print the Authorization header (the token) into
        // pulumi's log; its proxy, resolve or connect-to lines would send the token elsewhere.
        const r = runCleanup(ENV);
        assert.equal(r.status, 0, r.stderr);
        const argv = r.argv.split("\n");
        assert.equal(argv[0], "-q");
        assert.deepEqual(argv.slice(1, 3), ["--proto", "=https"]);
    });

    it("sends the token only to Cloudflare's API, whatever the environment says, and curl's own environment never holds it", () => {
        const r = runCleanup({ ...ENV, CLOUDFLARE_API: "http://attacker.example", CURL_HOME: "/nonexistent" });
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.argv, /^https:\/\/api\.cloudflare\.com\/client\/v4\/accounts\//m);
        assert.doesNotMatch(r.argv, /attacker/);
        assert.ok(r.env.length > 0 && !r.env.includes(TOKEN), "the token is not in curl's environment");
        assert.equal(r.stdin, `Authorization: Bearer ${TOKEN}\n`);
    });

    it("asks Cloudflare to delete the tunnel's connections, with the token on curl's stdin and never in its arguments", () => {
        const r = runCleanup(ENV);
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.argv, /^DELETE$/m);
        assert.match(
            r.argv,
            /^https:\/\/api\.cloudflare\.com\/client\/v4\/accounts\/01a7362d577a6c3019a474fd6f485823\/cfd_tunnel\/c0ffee00-1234-4abc-8def-0123456789ab\/connections$/m,
        );
        assert.doesNotMatch(r.argv, /SECRET/, "the token is never an argument (process listings show arguments)");
        assert.equal(r.stdin, `Authorization: Bearer ${TOKEN}\n`);
        assert.match(r.stdout, /connections cleaned up \(200\)/);
    });

    for (const [what, exit, code] of [
        ["Cloudflare refuses", 0, "403"],
        ["curl fails (no network)", 7, "000"],
    ] as const) {
        it(`${what}: says so with what to run, and does not fail the destroy`, () => {
            const r = runCleanup(ENV, exit, code);
            assert.equal(r.status, 0);
            assert.match(r.stderr, /cloudflared tunnel cleanup c0ffee00-1234-4abc-8def-0123456789ab/);
            assert.doesNotMatch(r.stderr + r.stdout, /SECRET/);
        });
    }

    it("an id that is not an id is never put in a URL", () => {
        const r = runCleanup({ ...ENV, TUNNEL_ID: "x/../../zones?" });
        assert.equal(r.status, 0);
        assert.equal(r.argv, "", "curl was not run");
        assert.match(r.stderr, /unexpected account or tunnel id/);
    });

    it("without a token it skips, and says what to do if the delete fails", () => {
        const r = runCleanup({ ACCOUNT_ID: ENV.ACCOUNT_ID, TUNNEL_ID: ENV.TUNNEL_ID });
        assert.equal(r.status, 0);
        assert.equal(r.argv, "");
        assert.match(r.stderr, /CLOUDFLARE_API_TOKEN is not set/);
    });
});
