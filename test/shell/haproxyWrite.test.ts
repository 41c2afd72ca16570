// shell/haproxy-write.sh with a stand-in `haproxy` that accepts every config: what a bundle brings
// lands in the folder, and what an earlier bundle brought and this one does not is removed (a
// relay's files after a move to Linux, the relay's certificate and key from before the edge's
// secret), so no key outlives the config that needed it.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import { HAPROXY_RELOAD_ON_HOST, HAPROXY_WRITE, haproxyReloadEnvironment, packFiles } from "../../render/reload";

describe("HAProxy's write script (shell/haproxy-write.sh)", () => {
    let dir: string;
    let haproxy: string;
    const write = (files: Record<string, string>, extra: Record<string, string> = {}) =>
        spawnSync("/bin/sh", ["-c", HAPROXY_WRITE], {
            input: packFiles(files),
            env: { PATH: "/usr/bin:/bin", DIR: path.join(dir, "cfg"), HAPROXY: haproxy, ...extra },
            encoding: "utf8",
            timeout: 10_000,
        });
    /** What HAPROXY_RELOAD_ON_HOST runs once the running HAProxy has the new files. */
    const reloaded = () => assert.equal(write({}, { RELOADED: "1" }).status, 0);
    const files = () =>
        fs
            .readdirSync(path.join(dir, "cfg"))
            .filter((f) => !f.startsWith("."))
            .sort();
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
        reloaded();
        r = write({ "haproxy.cfg": "a\n", "edge-secret.sha256": "00\n" });
        assert.equal(r.stdout.trim(), "changed");
        assert.deepEqual(files(), ["edge-secret.sha256", "haproxy.cfg"]);
        reloaded();
        r = write({ "haproxy.cfg": "a\n", "edge-secret.sha256": "00\n" });
        assert.equal(r.stdout.trim(), "unchanged", "the same bundle again changes nothing");
    });

    it("a reload the host never confirmed is owed: the same files again say changed until it is (found by review)", () => {
        // The host writes, then its docker inspect, the hold's wait or the signal fails (or pulumi
        // up is stopped): the files are in place, the running HAProxy has the old ones.
        assert.equal(write({ "haproxy.cfg": "a\n" }).stdout.trim(), "changed");
        assert.equal(write({ "haproxy.cfg": "b\n" }).stdout.trim(), "changed");
        const again = write({ "haproxy.cfg": "b\n" });
        assert.equal(again.stdout.trim(), "changed", "the rerun reloads what the failed run did not");
        reloaded();
        assert.equal(write({ "haproxy.cfg": "b\n" }).stdout.trim(), "unchanged");
        assert.deepEqual(files(), ["haproxy.cfg"]);
    });

    it("a refused config removes nothing", () => {
        assert.equal(write({ "haproxy.cfg": "a\n", "gateway.pem": "k\n" }).status, 0);
        fs.writeFileSync(haproxy, "#!/bin/sh\necho refused >&2\nexit 1\n", { mode: 0o755 });
        reloaded();
        const r = write({ "haproxy.cfg": "b\n" });
        assert.equal(r.status, 1);
        assert.deepEqual(
            fs.readdirSync(path.join(dir, "cfg")).sort(),
            ["gateway.pem", "haproxy.cfg"],
            "no reload owed either",
        );
    });
});

describe("HAProxy's host script (shell/haproxy-reload-on-host.sh) with a docker stand-in", () => {
    // The stand-in runs WRITE here (as the throwaway container would, on ./cfg), answers inspect as
    // ./engine says (running, stopped, absent, or an engine that does not answer), and logs kills
    // (refused while ./kill-fails exists).
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "homelab-reload-"));
        const bin = path.join(dir, "bin");
        fs.mkdirSync(bin);
        fs.mkdirSync(path.join(dir, "cfg"));
        fs.writeFileSync(path.join(bin, "haproxy"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
        fs.writeFileSync(
            path.join(bin, "docker"),
            `#!/bin/sh
d="${dir}"
verb=$1; shift
case "$verb" in
  run)
    reloaded=""
    while [ $# -gt 0 ]; do
      case "$1" in
        -e) case "$2" in RELOADED=*) reloaded=\${2#RELOADED=} ;; esac; shift 2 ;;
        -c) script=$2; shift 2 ;;
        *) shift ;;
      esac
    done
    DIR="$d/cfg" HAPROXY="$d/bin/haproxy" RELOADED="$reloaded" /bin/sh -c "$script" ;;
  inspect)
    case "$(cat "$d/engine")" in
      running) echo true ;;
      stopped) echo false ;;
      absent) echo "Error: No such object: haproxy" >&2; exit 1 ;;
      *) echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock" >&2; exit 1 ;;
    esac ;;
  exec) exit 0 ;;
  kill)
    [ ! -f "$d/kill-fails" ] || exit 1
    echo "$*" >> "$d/kills" ;;
esac
`,
            { mode: 0o755 },
        );
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    const apply = (cfg: string, engine: string) => {
        fs.writeFileSync(path.join(dir, "engine"), engine);
        return spawnSync("/bin/sh", ["-c", HAPROXY_RELOAD_ON_HOST], {
            input: packFiles({ "haproxy.cfg": cfg }),
            env: {
                PATH: `${path.join(dir, "bin")}:/usr/bin:/bin`,
                CONFIG_DIR: path.join(dir, "cfg"),
                CONTAINER: "haproxy",
                IMAGE: "haproxy:stand-in",
                WRITE: HAPROXY_WRITE,
                ...haproxyReloadEnvironment(),
            },
            encoding: "utf8",
            timeout: 20_000,
        });
    };
    const kills = () =>
        fs.existsSync(path.join(dir, "kills"))
            ? fs.readFileSync(path.join(dir, "kills"), "utf8").trim().split("\n")
            : [];

    it("an engine that does not say whether HAProxy runs fails the run, and the rerun reloads (found by review)", () => {
        const first = apply("a\n", "no answer");
        assert.equal(first.status, 1);
        assert.match(first.stderr, /could not ask Docker whether haproxy runs/);
        assert.deepEqual(kills(), []);
        const again = apply("a\n", "running");
        assert.equal(again.status, 0, again.stderr);
        assert.match(again.stdout, /haproxy config: changed\nhaproxy: reloaded softly/);
        assert.deepEqual(kills(), ["--signal USR2 haproxy"]);
        assert.equal(apply("a\n", "running").stdout, "haproxy config: unchanged\n", "nothing owed any more");
        assert.equal(kills().length, 1);
    });

    it("a signal that fails leaves the reload owed: the rerun with the same files sends it", () => {
        fs.writeFileSync(path.join(dir, "kill-fails"), "");
        assert.notEqual(apply("a\n", "running").status, 0);
        fs.rmSync(path.join(dir, "kill-fails"));
        const again = apply("a\n", "running");
        assert.equal(again.status, 0, again.stderr);
        assert.deepEqual(kills(), ["--signal USR2 haproxy"]);
    });

    it("a container that is not running (or not there yet) reads the files when it starts: nothing owed, no signal", () => {
        assert.equal(apply("a\n", "absent").status, 0);
        assert.equal(apply("b\n", "stopped").status, 0);
        assert.equal(apply("b\n", "running").stdout, "haproxy config: unchanged\n");
        assert.deepEqual(kills(), []);
    });
});
