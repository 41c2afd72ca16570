// shell/public-files-write.sh (with shell/lib.sh's unpack), run by /bin/sh on a folder of the
// test's own, as the throwaway container runs it on the Docker host's: cloudflared's CA folder holds
// exactly the certificates given, readable by everyone, and never a key.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import { PUBLIC_FILES_WRITE, packFiles } from "../../render/reload";

const CA = "-----BEGIN CERTIFICATE-----\nMIIBdummy\n-----END CERTIFICATE-----\n";

function write(dir: string, files: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync("/bin/sh", ["-c", PUBLIC_FILES_WRITE], {
        input: packFiles(files),
        env: { PATH: "/usr/bin:/bin", DIR: dir },
        encoding: "utf8",
        timeout: 10_000,
    });
    return { status: r.status, stdout: r.stdout.trim(), stderr: r.stderr };
}

describe("cloudflared's CA folder (shell/public-files-write.sh)", () => {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "homelab-ca-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("writes the certificates readable by everyone, says changed, then unchanged for the same set", () => {
        assert.deepEqual(write(dir, { "nas-0123456789ab.pem": CA }), { status: 0, stdout: "changed", stderr: "" });
        assert.equal(fs.readFileSync(path.join(dir, "nas-0123456789ab.pem"), "utf8"), CA);
        assert.equal(fs.statSync(path.join(dir, "nas-0123456789ab.pem")).mode & 0o777, 0o644);
        assert.equal(write(dir, { "nas-0123456789ab.pem": CA }).stdout, "unchanged");
        assert.deepEqual(fs.readdirSync(dir), ["nas-0123456789ab.pem"], "no staging folder left");
    });

    it("removes certificates no longer given (a service gone, or its new certificate under a new name)", () => {
        write(dir, { "nas-0123456789ab.pem": CA, "old-ba9876543210.pem": CA });
        assert.equal(write(dir, { "nas-0123456789ab.pem": CA }).stdout, "changed");
        assert.deepEqual(fs.readdirSync(dir), ["nas-0123456789ab.pem"]);
        assert.equal(write(dir, {}).stdout, "changed");
        assert.deepEqual(fs.readdirSync(dir), []);
    });

    it("refuses a private key or a file that is not a .pem, and leaves the folder as it was", () => {
        write(dir, { "nas-0123456789ab.pem": CA });
        const key = write(dir, {
            "nas-0123456789ab.pem": "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n",
        });
        assert.equal(key.status, 2);
        assert.match(key.stderr, /private key/);
        const other = write(dir, { "run.sh": "echo hi\n" });
        assert.equal(other.status, 2);
        assert.deepEqual(fs.readdirSync(dir), ["nas-0123456789ab.pem"]);
        assert.equal(fs.readFileSync(path.join(dir, "nas-0123456789ab.pem"), "utf8"), CA);
    });
});
