// The rendered configs of three unlike stacks, checked by the binaries that will run them:
// `caddy validate` (the Caddy test build with the Cloudflare DNS module) and `haproxy -c`.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFileSync, spawnSync } from "child_process";
import { ROOT } from "./harness";
import { STACKS } from "./render.test";
import { modelFromStackFile } from "../stacks/stackFile";
import { renderCaddyfile } from "../render/caddyfile";
import { renderAll } from "../render/all";
import { haproxyAddress } from "../render/addresses";
import { DUMMY_CLOUDFLARE_TOKEN, caddyBinary, haproxyBinary } from "./support/binaries";
import versions from "../render/versions.json";

describe("real binaries", function () {
    this.timeout(20 * 60_000); // the first run builds Caddy
    let dir: string;
    let caddy: string;
    before(() => {
        caddy = caddyBinary();
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "homelab-bin-"));
        // Stand-ins at the relative paths the Caddyfile names (Caddy runs in its config directory).
        fs.mkdirSync(path.join(dir, "pki"));
        execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "pki/ca.pem", "-subj", "/CN=test", "-days", "1"], { cwd: dir, stdio: "pipe" });
        fs.copyFileSync(path.join(dir, "pki/ca.pem"), path.join(dir, "pki/clients.pem"));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("the Caddy test build is exactly the pinned version, with the Cloudflare DNS module", () => {
        assert.match(execFileSync(caddy, ["version"], { encoding: "utf8" }), new RegExp(`^v${versions.caddy.replace(/\./g, "\\.")}\\b`));
        const modules = execFileSync(caddy, ["list-modules"], { encoding: "utf8" });
        assert.match(modules, /^dns\.providers\.cloudflare$/m);
        assert.match(execFileSync(caddy, ["list-modules", "--versions"], { encoding: "utf8" }), new RegExp(`dns\\.providers\\.cloudflare ${versions.caddyDnsCloudflare}`));
    });

    for (const stack of Object.keys(STACKS)) {
        it(`${stack}: caddy validate accepts the rendered Caddyfile`, () => {
            const m = modelFromStackFile(path.join(ROOT, STACKS[stack] as string));
            const file = path.join(dir, `${stack}.Caddyfile`);
            fs.writeFileSync(file, renderCaddyfile(m, { haproxyAddress: haproxyAddress(m.docker.subnet), certificates: { kind: "acme" } }));
            const r = spawnSync(caddy, ["validate", "--config", file, "--adapter", "caddyfile"], { cwd: dir, encoding: "utf8", env: { ...process.env, CLOUDFLARE_API_TOKEN: DUMMY_CLOUDFLARE_TOKEN, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir }, timeout: 60_000 });
            assert.equal(r.status, 0, r.stdout + r.stderr);
            assert.match(r.stdout + r.stderr, /Valid configuration/);
        });

        it(`${stack}: haproxy -c accepts the rendered haproxy.cfg`, () => {
            const file = path.join(dir, `${stack}.haproxy.cfg`);
            fs.writeFileSync(file, renderAll(modelFromStackFile(path.join(ROOT, STACKS[stack] as string)))["haproxy.cfg"] as string);
            const r = spawnSync(haproxyBinary(), ["-c", "-f", file], { encoding: "utf8", timeout: 30_000 });
            assert.equal(r.status, 0, r.stdout + r.stderr);
            assert.doesNotMatch(r.stdout + r.stderr, /WARNING|ALERT/, "no warnings either");
        });
    }

    it("caddy validate rejects a broken Caddyfile (the check can fail)", () => {
        const file = path.join(dir, "broken.Caddyfile");
        fs.writeFileSync(file, "example.com {\n\treverse_proxy {\n");
        const r = spawnSync(caddy, ["validate", "--config", file, "--adapter", "caddyfile"], { encoding: "utf8", env: { ...process.env, HOME: dir } });
        assert.notEqual(r.status, 0);
    });
});
