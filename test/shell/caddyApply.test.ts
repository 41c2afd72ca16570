// shell/caddy-apply.sh with a stand-in `caddy` that answers as the Cloudflare DNS module does to a
// token it finds malformed (it quotes the token): what the script prints reaches pulumi's log, so
// the DNS-01 token must never be in it, and a refused reload puts the previous files back.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import { CADDY_APPLY, packFiles } from "../../render/reload";

const TOKEN = "cfut_" + "Zq7".repeat(16);
const CA = "-----BEGIN CERTIFICATE-----\nMIIBdummy\n-----END CERTIFICATE-----\n";

function stubCaddy(dir: string, exitCode: number): string {
    const file = path.join(dir, "caddy");
    fs.writeFileSync(
        file,
        `#!/bin/sh\necho "Error: loading new config: API token '$CLOUDFLARE_API_TOKEN' appears invalid; x $CLOUDFLARE_API_TOKEN" >&2\nexit ${exitCode}\n`,
        { mode: 0o755 },
    );
    return file;
}

function apply(dir: string, caddy: string, caddyfile: string) {
    return spawnSync("/bin/sh", ["-c", CADDY_APPLY], {
        input: packFiles({ Caddyfile: caddyfile, "ca.pem": CA, "clients.pem": CA }),
        env: { PATH: "/usr/bin:/bin", ETC: path.join(dir, "etc"), CADDY: caddy, CLOUDFLARE_API_TOKEN: TOKEN },
        encoding: "utf8",
        timeout: 10_000,
    });
}

describe("Caddy's apply script (shell/caddy-apply.sh): the DNS-01 token never reaches the log", () => {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "homelab-apply-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("a refused reload: Caddy's message is passed on with the token cut out, and the old Caddyfile is back", () => {
        assert.equal(apply(dir, stubCaddy(dir, 0), "old\n").status, 0);
        const r = apply(dir, stubCaddy(dir, 1), "new\n");
        assert.equal(r.status, 1);
        assert.ok(!r.stdout.includes(TOKEN) && !r.stderr.includes(TOKEN), r.stderr);
        assert.match(r.stderr, /API token '\[redacted\]' appears invalid; x \[redacted\]/);
        assert.match(r.stderr, /the previous configuration is still serving/);
        assert.equal(fs.readFileSync(path.join(dir, "etc/Caddyfile"), "utf8"), "old\n");
    });

    it("a reload that succeeds but says something: passed on, redacted too", () => {
        const r = apply(dir, stubCaddy(dir, 0), "new\n");
        assert.equal(r.status, 0);
        assert.ok(!r.stderr.includes(TOKEN));
        assert.match(r.stderr, /\[redacted\]/);
        assert.equal(fs.readFileSync(path.join(dir, "etc/Caddyfile"), "utf8"), "new\n");
    });
});
