// shell/files-write.sh (with shell/lib.sh's unpack), run by /bin/sh on a folder of the test's own,
// as the throwaway container runs it on the Docker host's: the status container's and the
// dashboard's folders hold exactly the files given; a key is its owner's alone (0600) before its
// content is there; a file mounted on its own is written in place (same inode); the config goes in
// last.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import { FILES_WRITE, packFiles } from "../../render/reload";

const KEY = "-----BEGIN PRIVATE KEY-----\nMIGdummy\n-----END PRIVATE KEY-----\n";
const CERT = "-----BEGIN CERTIFICATE-----\nMIIBdummy\n-----END CERTIFICATE-----\n";
const ROOT = process.getuid?.() === 0;

function write(
    dir: string,
    files: Record<string, string>,
    env: Record<string, string> = {},
): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync("/bin/sh", ["-c", FILES_WRITE], {
        input: packFiles(files),
        env: {
            PATH: "/usr/bin:/bin",
            DIR: dir,
            OWNER: "65532:65532",
            IN_PLACE: "hosts nsswitch.conf",
            LAST: "config.yaml",
            ...env,
        },
        encoding: "utf8",
        timeout: 10_000,
    });
    return { status: r.status, stdout: r.stdout.trim(), stderr: r.stderr };
}

describe("the status container's folder (shell/files-write.sh)", () => {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "homelab-files-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("writes every file, the key 0600 and its owner's (the rest 0644), says changed, then unchanged", function () {
        const files = { "config.yaml": "a: 1\n", hosts: "10.0.0.1 a\n", "monitor.crt": CERT, "monitor.key": KEY };
        assert.deepEqual(write(dir, files), { status: 0, stdout: "changed", stderr: "" });
        for (const [n, content] of Object.entries(files)) {
            assert.equal(fs.readFileSync(path.join(dir, n), "utf8"), content, n);
            assert.equal(fs.statSync(path.join(dir, n)).mode & 0o777, n.endsWith(".key") ? 0o600 : 0o644, n);
        }
        if (ROOT) assert.equal(fs.statSync(path.join(dir, "monitor.key")).uid, 65532);
        assert.equal(write(dir, files).stdout, "unchanged");
        assert.deepEqual(fs.readdirSync(dir).sort(), Object.keys(files).sort(), "no staging folder left");
    });

    it("writes a file mounted on its own in place (the container keeps seeing it), and renames the others in", () => {
        write(dir, { hosts: "10.0.0.1 a\n", "config.yaml": "a: 1\n" });
        const before = {
            hosts: fs.statSync(path.join(dir, "hosts")).ino,
            config: fs.statSync(path.join(dir, "config.yaml")).ino,
        };
        assert.equal(write(dir, { hosts: "10.0.0.1 a b\n", "config.yaml": "a: 2\n" }).stdout, "changed");
        assert.equal(fs.statSync(path.join(dir, "hosts")).ino, before.hosts, "hosts: same inode");
        assert.equal(fs.readFileSync(path.join(dir, "hosts"), "utf8"), "10.0.0.1 a b\n");
        assert.notEqual(fs.statSync(path.join(dir, "config.yaml")).ino, before.config, "config.yaml: renamed in whole");
    });

    it("puts the config in last: after the certificate and key it names", () => {
        write(dir, { "config.yaml": "a: 1\n", "monitor.crt": CERT, "monitor.key": KEY });
        // New content for all three; the ctime order shows the order they were put in place.
        const later = {
            "config.yaml": "a: 2\n",
            "monitor.crt": CERT.replace("dummy", "dummy2"),
            "monitor.key": KEY.replace("dummy", "dummy2"),
        };
        spawnSync("sleep", ["0.02"]);
        assert.equal(write(dir, later).stdout, "changed");
        const t = (n: string) => fs.statSync(path.join(dir, n)).ctimeMs;
        assert.ok(t("config.yaml") >= t("monitor.crt") && t("config.yaml") >= t("monitor.key"), "config last");
    });

    it("removes files the bundle no longer has (the monitor's key when monitoring goes)", () => {
        write(dir, { "config.yaml": "a: 1\n", "monitor.key": KEY });
        assert.equal(write(dir, { "config.yaml": "a: 1\n" }).stdout, "changed");
        assert.deepEqual(fs.readdirSync(dir), ["config.yaml"]);
    });

    it("refuses a run without OWNER (a key must have one), writing nothing", () => {
        const r = spawnSync("/bin/sh", ["-c", FILES_WRITE], {
            input: packFiles({ "monitor.key": KEY }),
            env: { PATH: "/usr/bin:/bin", DIR: dir },
            encoding: "utf8",
            timeout: 10_000,
        });
        assert.notEqual(r.status, 0);
        assert.deepEqual(fs.readdirSync(dir), []);
    });
});
