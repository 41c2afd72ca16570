// shell/haproxy-write.sh with a stand-in `haproxy` that accepts every config: what a bundle brings
// lands in the folder, and what an earlier bundle brought and this one does not is removed (a
// relay's files after a move to Linux, the relay's certificate and key from before the edge's
// secret), so no key outlives the config that needed it.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import { HAPROXY_WRITE, packFiles } from "../../render/reload";

describe("HAProxy's write script (shell/haproxy-write.sh)", () => {
    let dir: string;
    let haproxy: string;
    const write = (files: Record<string, string>) =>
        spawnSync("/bin/sh", ["-c", HAPROXY_WRITE], {
            input: packFiles(files),
            env: { PATH: "/usr/bin:/bin", DIR: path.join(dir, "cfg"), HAPROXY: haproxy },
            encoding: "utf8",
            timeout: 10_000,
        });
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "homelab-write-"));
        haproxy = path.join(dir, "haproxy");
        fs.writeFileSync(haproxy, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
        fs.mkdirSync(path.join(dir, "cfg"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("removes the files the new bundle no longer has, and says changed", () => {
        const key = "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n";
        let r = write({ "haproxy.cfg": "a\n", "relay.pem": key, "edge-ca.pem": "ca\n" });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout.trim(), "changed");
        r = write({ "haproxy.cfg": "a\n", "edge-secret.sha256": "00\n" });
        assert.equal(r.stdout.trim(), "changed");
        assert.deepEqual(fs.readdirSync(path.join(dir, "cfg")).sort(), ["edge-secret.sha256", "haproxy.cfg"]);
        r = write({ "haproxy.cfg": "a\n", "edge-secret.sha256": "00\n" });
        assert.equal(r.stdout.trim(), "unchanged", "the same bundle again changes nothing");
    });

    it("a refused config removes nothing", () => {
        assert.equal(write({ "haproxy.cfg": "a\n", "gateway.pem": "k\n" }).status, 0);
        fs.writeFileSync(haproxy, "#!/bin/sh\necho refused >&2\nexit 1\n", { mode: 0o755 });
        const r = write({ "haproxy.cfg": "b\n" });
        assert.equal(r.status, 1);
        assert.deepEqual(fs.readdirSync(path.join(dir, "cfg")).sort(), ["gateway.pem", "haproxy.cfg"]);
    });
});
