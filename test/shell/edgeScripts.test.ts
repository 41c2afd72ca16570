// The native edge's scripts (render/edge.ts), run for real on this machine: the real HAProxy checks
// the real rendered config, and small stand-ins play launchctl, brew and ssh (which do not exist
// here), logging what they were asked. Each case is a situation a Mac user meets.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import { ROOT } from "../harness";
import { modelFromStackFile } from "../../stacks/stackFile";
import { renderAll } from "../../render/all";
import {
    EDGE_APPLY,
    EDGE_CHECK,
    EDGE_REMOVE,
    LOG_LIMIT_MB,
    MIN_HAPROXY,
    RUN_ON_MAC,
    edgeDir,
    edgeLabel,
} from "../../render/edge";
import { CADDY_RELOAD_ON_HOST, caddyReloadEnvironment, haproxyReloadEnvironment, packFiles } from "../../render/reload";
import { SHELL_DIR, shellScript } from "../../render/shell";
import { CADDY_HOLD } from "../../render/haproxy";
import { haproxy3Binary } from "../support/binaries";

const LAUNCHCTL = `#!/bin/sh
echo "launchctl $*" >> "$STUB_LOG"
# "slow-bootout" holds a count of print calls during which a booted-out job still shows (launchd
# finishes a bootout after returning); a bootstrap then fails as launchd's does. "refuse" holds a
# text: a property list containing it does not load.
pending() { [ -f "$STUB_DIR/going" ] && [ "$(cat "$STUB_DIR/going")" -gt 0 ]; }
case "$1" in
  print)
    if pending; then echo $(( $(cat "$STUB_DIR/going") - 1 )) >"$STUB_DIR/going"; exit 0; fi
    [ -f "$STUB_DIR/loaded" ] ;;
  bootstrap)
    if [ -f "$STUB_DIR/no-gui" ]; then echo "Bootstrap failed: 125: Domain does not support specified action" >&2; exit 125; fi
    if pending; then echo "Bootstrap failed: 5: Input/output error" >&2; exit 5; fi
    if [ -f "$STUB_DIR/refuse" ] && grep -qF "$(cat "$STUB_DIR/refuse")" "$3"; then echo "Bootstrap failed: 5: Input/output error" >&2; exit 5; fi
    touch "$STUB_DIR/loaded" ;;
  bootout)
    rm -f "$STUB_DIR/loaded"
    [ -f "$STUB_DIR/slow-bootout" ] && cp "$STUB_DIR/slow-bootout" "$STUB_DIR/going"
    exit 0 ;;
  kill) [ -f "$STUB_DIR/loaded" ] && [ ! -f "$STUB_DIR/kill-fails" ] ;;
esac
`;
const BREW = `#!/bin/sh
echo "brew $*" >> "$STUB_LOG"
[ "$1 $2" = "install haproxy" ] || exit 1
mkdir -p "$HOMEBREW_PREFIX/bin" && ln -sf "$REAL_HAPROXY" "$HOMEBREW_PREFIX/bin/haproxy"
`;
const OLD_HAPROXY = `#!/bin/sh
[ "$1" = "-v" ] && { echo "HAProxy version 2.8.5-aaba8d0 2023/12/07 - https://haproxy.org/"; exit 0; }
exit 0
`;
// Plays the remote side: runs the remote command line in a shell here, as sshd would on the Mac.
const SSH = `#!/bin/sh
echo "ssh $*" >> "$STUB_LOG"
while [ $# -gt 2 ]; do shift; done
target="$1"; shift
echo "target $target" >> "$STUB_LOG"
exec sh -c "$1"
`;

describe("the native edge's scripts (stand-ins for launchctl, brew and ssh)", function () {
    this.timeout(60_000);
    let dir: string;
    let stubs: string;
    let log: string;
    let files: Record<string, string>;
    const model = modelFromStackFile(path.join(ROOT, "Pulumi.home.yaml"));

    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "homelab-edge-"));
        stubs = path.join(dir, "stubs");
        fs.mkdirSync(stubs);
        for (const [name, body] of [
            ["launchctl", LAUNCHCTL],
            ["brew", BREW],
            ["ssh", SSH],
        ])
            fs.writeFileSync(path.join(stubs, name as string), body as string, { mode: 0o755 });
        fs.mkdirSync(path.join(dir, "old"));
        fs.writeFileSync(path.join(dir, "old/haproxy"), OLD_HAPROXY, { mode: 0o755 });
        const rendered = renderAll(model);
        files = {
            "haproxy.cfg": rendered["edge.haproxy.cfg"] as string,
            "edge-secret.map": "edge a-stand-in-secret\n",
            "edge.plist": rendered["edge.plist"] as string,
        };
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** A fresh "Mac": its own home, edge dir and stand-in state. */
    function mac(name: string): { env: Record<string, string>; edge: string; agents: string; state: string } {
        const home = path.join(dir, name);
        const state = path.join(home, "state");
        fs.mkdirSync(state, { recursive: true });
        log = path.join(home, "log");
        fs.writeFileSync(log, "");
        const edge = path.join(home, "selfhost/edge");
        return {
            edge,
            agents: path.join(home, "Library/LaunchAgents"),
            state,
            env: {
                // The HAProxy on PATH: a 3.x (the native edge needs 3.0; Debian's /usr/sbin one is 2.6).
                PATH: `${stubs}:${path.dirname(haproxy3Binary())}:/usr/bin:/bin`,
                HOME: home,
                EDGE_DIR: edge,
                LABEL: edgeLabel("home"),
                STUB_LOG: log,
                STUB_DIR: state,
                REAL_HAPROXY: haproxy3Binary(),
                HOMEBREW_PREFIX: path.join(home, "homebrew"),
            },
        };
    }
    const run = (script: string, env: Record<string, string>, bundle: Record<string, string> = files) =>
        spawnSync("/bin/sh", ["-c", script], { env, input: packFiles(bundle), encoding: "utf8", timeout: 30_000 });
    const calls = () => fs.readFileSync(log, "utf8").trim().split("\n").filter(Boolean);

    it("installs: checks the config with the HAProxy it finds, writes the files, links the binary, loads the LaunchAgent", () => {
        const m = mac("first");
        const r = run(EDGE_APPLY, m.env);
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(calls(), [
            `launchctl print gui/${process.getuid?.()}/dev.homelab.home.edge`,
            `launchctl bootstrap gui/${process.getuid?.()} ${m.agents}/dev.homelab.home.edge.plist`,
        ]);
        assert.equal(fs.readFileSync(path.join(m.edge, "haproxy.cfg"), "utf8"), files["haproxy.cfg"]);
        assert.equal(fs.readlinkSync(path.join(m.edge, "bin/haproxy")), haproxy3Binary());
        assert.equal(
            fs.statSync(path.join(m.edge, "edge-secret.map")).mode & 0o777,
            0o600,
            "the secret is readable by the user only",
        );
        assert.equal(fs.readFileSync(path.join(m.agents, "dev.homelab.home.edge.plist"), "utf8"), files["edge.plist"]);
        assert.equal(fs.existsSync(path.join(m.edge, ".incoming")), false);
    });

    it("reloads softly (SIGUSR2 to the master) when only the config changes, and does nothing when nothing changed", () => {
        const m = mac("reload");
        assert.equal(run(EDGE_APPLY, m.env).status, 0);
        fs.writeFileSync(log, "");
        const again = run(EDGE_APPLY, m.env);
        assert.equal(again.status, 0, again.stderr);
        assert.deepEqual(
            calls(),
            [`launchctl print gui/${process.getuid?.()}/dev.homelab.home.edge`],
            "identical files: no reload",
        );
        fs.writeFileSync(log, "");
        const changed = run(EDGE_APPLY, m.env, {
            ...files,
            "haproxy.cfg": (files["haproxy.cfg"] as string).replace("maxconn 4096", "maxconn 4000"),
        });
        assert.equal(changed.status, 0, changed.stderr);
        assert.deepEqual(calls().slice(-1), [`launchctl kill SIGUSR2 gui/${process.getuid?.()}/dev.homelab.home.edge`]);
    });

    it("a soft reload that fails is owed: the rerun with the same files sends it (found by review)", () => {
        const m = mac("owed");
        assert.equal(run(EDGE_APPLY, m.env).status, 0);
        const changed = {
            ...files,
            "haproxy.cfg": (files["haproxy.cfg"] as string).replace("maxconn 4096", "maxconn 4000"),
        };
        fs.writeFileSync(path.join(m.state, "kill-fails"), "");
        assert.notEqual(run(EDGE_APPLY, m.env, changed).status, 0, "launchctl kill failed");
        fs.rmSync(path.join(m.state, "kill-fails"));
        fs.writeFileSync(log, "");
        const again = run(EDGE_APPLY, m.env, changed);
        assert.equal(again.status, 0, again.stderr);
        assert.deepEqual(calls().slice(-1), [`launchctl kill SIGUSR2 gui/${process.getuid?.()}/dev.homelab.home.edge`]);
        fs.writeFileSync(log, "");
        assert.equal(run(EDGE_APPLY, m.env, changed).status, 0);
        assert.deepEqual(
            calls(),
            [`launchctl print gui/${process.getuid?.()}/dev.homelab.home.edge`],
            "then nothing owed",
        );
    });

    it("reloads the job (bootout, bootstrap) when the property list changes", () => {
        const m = mac("plist");
        assert.equal(run(EDGE_APPLY, m.env).status, 0);
        fs.writeFileSync(log, "");
        const r = run(EDGE_APPLY, m.env, {
            ...files,
            "edge.plist": (files["edge.plist"] as string).replace("<integer>10</integer>", "<integer>5</integer>"),
        });
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(
            calls().map((c) => c.split(" ").slice(0, 2).join(" ")),
            ["launchctl print", "launchctl bootout", "launchctl print", "launchctl print", "launchctl bootstrap"],
        );
    });

    it("waits for a bootout to finish before loading the changed job (launchd returns early)", () => {
        const m = mac("slow-bootout");
        assert.equal(run(EDGE_APPLY, m.env).status, 0);
        fs.writeFileSync(path.join(m.state, "slow-bootout"), "3");
        fs.writeFileSync(log, "");
        const r = run(EDGE_APPLY, m.env, {
            ...files,
            "edge.plist": (files["edge.plist"] as string).replace("<integer>10</integer>", "<integer>5</integer>"),
        });
        assert.equal(r.status, 0, r.stderr);
        const verbs = calls().map((c) => c.split(" ")[1]);
        assert.deepEqual(
            verbs,
            ["print", "bootout", "print", "print", "print", "print", "print", "bootstrap"],
            "polled until the old job was gone, then one bootstrap",
        );
        assert.ok(fs.existsSync(path.join(m.state, "loaded")));
    });

    it("says so when launchd has not finished stopping the previous job after 10 s (and does not blame the login session)", () => {
        const m = mac("stuck-bootout");
        assert.equal(run(EDGE_APPLY, m.env).status, 0);
        fs.writeFileSync(path.join(m.state, "slow-bootout"), "1000");
        const r = run(EDGE_APPLY, m.env, {
            ...files,
            "edge.plist": (files["edge.plist"] as string).replace("<integer>10</integer>", "<integer>5</integer>"),
        });
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /still stopping the previous edge job/);
        assert.doesNotMatch(r.stderr, /log in on the Mac/);
        assert.equal(fs.existsSync(path.join(m.edge, "edge.plist.previous")), false);
    });

    it("puts the previous job back when launchd will not load the changed one, and fails", () => {
        const m = mac("refused-plist");
        assert.equal(run(EDGE_APPLY, m.env).status, 0);
        const plist = path.join(m.agents, "dev.homelab.home.edge.plist");
        fs.writeFileSync(path.join(m.state, "refuse"), "<integer>5</integer>");
        fs.writeFileSync(log, "");
        const r = run(EDGE_APPLY, m.env, {
            ...files,
            "edge.plist": (files["edge.plist"] as string).replace("<integer>10</integer>", "<integer>5</integer>"),
        });
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /the previous one is running again/);
        assert.equal(fs.readFileSync(plist, "utf8"), files["edge.plist"], "the previous property list is back");
        assert.ok(fs.existsSync(path.join(m.state, "loaded")), "and loaded: the edge keeps serving");
        assert.equal(
            calls().filter((c) => c.includes("bootstrap")).length,
            4,
            "three tries of the new job, one of the old",
        );
        assert.equal(fs.existsSync(path.join(m.edge, "edge.plist.previous")), false);
    });

    it(`cuts the edge's log back to its last MB once it passes ${LOG_LIMIT_MB} MB, and leaves a small one alone`, () => {
        const m = mac("log");
        assert.equal(run(EDGE_APPLY, m.env).status, 0);
        const logFile = path.join(m.edge, "haproxy.log");
        fs.writeFileSync(logFile, "small\n");
        assert.equal(run(EDGE_APPLY, m.env).status, 0);
        assert.equal(fs.readFileSync(logFile, "utf8"), "small\n");
        fs.truncateSync(logFile, (LOG_LIMIT_MB + 1) * 1024 * 1024);
        fs.appendFileSync(logFile, "the last line\n");
        assert.equal(run(EDGE_APPLY, m.env).status, 0);
        assert.equal(fs.statSync(logFile).size, 0);
        assert.equal(fs.statSync(`${logFile}.1`).size, 1024 * 1024);
        assert.match(fs.readFileSync(`${logFile}.1`, "utf8"), /the last line\n$/);
    });

    it("refuses a config HAProxy rejects, with HAProxy's message, and leaves the running edge and its files alone", () => {
        const m = mac("bad");
        assert.equal(run(EDGE_APPLY, m.env).status, 0);
        fs.writeFileSync(log, "");
        const r = run(EDGE_APPLY, m.env, {
            ...files,
            "haproxy.cfg": (files["haproxy.cfg"] as string).replace("mode tcp", "mode tcpp"),
        });
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /tcpp/);
        assert.match(r.stderr, /previous one is still serving/);
        assert.equal(fs.readFileSync(path.join(m.edge, "haproxy.cfg"), "utf8"), files["haproxy.cfg"]);
        assert.deepEqual(calls(), [], "launchctl was not touched");
    });

    it("the check alone (EDGE_CHECK, before the relay changes): an old HAProxy or a rejected config stops it; a good one writes and reloads nothing", () => {
        const m = mac("check");
        assert.equal(run(EDGE_APPLY, m.env).status, 0);
        fs.writeFileSync(log, "");
        const newer = { ...files, "haproxy.cfg": `${files["haproxy.cfg"] as string}\n# a change\n` };
        const ok = run(EDGE_CHECK, m.env, newer);
        assert.equal(ok.status, 0, ok.stderr);
        assert.match(ok.stderr, /checks out/);
        assert.equal(fs.readFileSync(path.join(m.edge, "haproxy.cfg"), "utf8"), files["haproxy.cfg"], "not written");
        assert.deepEqual(calls(), [], "launchctl was not touched");
        assert.equal(fs.existsSync(path.join(m.edge, ".incoming")), false);
        const old = run(EDGE_CHECK, { ...m.env, HAPROXY: path.join(dir, "old/haproxy") }, newer);
        assert.notEqual(old.status, 0);
        assert.match(old.stderr, /the edge needs 3\.0 or newer/);
        const bad = run(EDGE_CHECK, m.env, {
            ...files,
            "haproxy.cfg": (files["haproxy.cfg"] as string).replace("mode tcp", "mode tcpp"),
        });
        assert.notEqual(bad.status, 0);
        assert.match(bad.stderr, /tcpp/);
    });

    it("installs HAProxy with Homebrew when it is missing", () => {
        const m = mac("brew");
        const r = run(EDGE_APPLY, { ...m.env, PATH: `${stubs}:/usr/bin:/bin` });
        assert.equal(r.status, 0, r.stderr);
        assert.ok(calls().includes("brew install haproxy"));
        assert.match(r.stderr, /installing HAProxy with Homebrew/);
        assert.equal(
            fs.readlinkSync(path.join(m.edge, "bin/haproxy")),
            path.join(m.env.HOMEBREW_PREFIX as string, "bin/haproxy"),
        );
    });

    it("says how to get Homebrew when neither HAProxy nor brew is there", () => {
        const m = mac("nobrew");
        fs.mkdirSync(path.join(dir, "nobrew-stubs"));
        fs.copyFileSync(path.join(stubs, "launchctl"), path.join(dir, "nobrew-stubs/launchctl"));
        const r = run(EDGE_APPLY, { ...m.env, PATH: `${path.join(dir, "nobrew-stubs")}:/usr/bin:/bin` });
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /Homebrew was not found.*https:\/\/brew\.sh/);
    });

    it("refuses an HAProxy older than the rendered config needs", () => {
        const m = mac("old");
        const r = run(EDGE_APPLY, { ...m.env, HAPROXY: path.join(dir, "old/haproxy") });
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /HAProxy 2\.8; the edge needs 3\.0 or newer \(brew upgrade haproxy\)/);
        assert.equal(fs.existsSync(path.join(m.edge, "haproxy.cfg")), false);
    });

    it("explains the login session when launchd cannot load the agent (nobody logged in)", () => {
        const m = mac("nogui");
        fs.writeFileSync(path.join(m.state, "no-gui"), "");
        const r = run(EDGE_APPLY, m.env);
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /log in on the Mac \(or turn on automatic login\)/);
    });

    it("refuses a bundle that is not one (truncated input)", () => {
        const m = mac("truncated");
        const r = spawnSync("/bin/sh", ["-c", EDGE_APPLY], {
            env: m.env,
            input: packFiles(files).slice(0, 200),
            encoding: "utf8",
        });
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /truncated input|missing from the input/);
    });

    it("removes the job and every file on pulumi destroy, the secret included", () => {
        const m = mac("remove");
        assert.equal(run(EDGE_APPLY, m.env).status, 0);
        const r = run(EDGE_REMOVE, m.env, {});
        assert.equal(r.status, 0, r.stderr);
        assert.equal(fs.existsSync(path.join(m.agents, "dev.homelab.home.edge.plist")), false);
        for (const f of ["haproxy.cfg", "edge-secret.map", "bin"])
            assert.equal(fs.existsSync(path.join(m.edge, f)), false, f);
        assert.equal(fs.existsSync(path.join(m.state, "loaded")), false, "unloaded");
    });

    it("runs on a remote Mac over ssh with the same script, quoting intact (a path with a space and a quote)", () => {
        const m = mac("remote");
        const odd = path.join(path.dirname(m.edge), "My Selfhost's edge");
        const env = { ...m.env, EDGE_DIR: odd, SSH_TARGET: "me@mac-mini.local", SSH_PORT: "2222", SCRIPT: EDGE_APPLY };
        const r = spawnSync("/bin/sh", ["-c", RUN_ON_MAC], {
            env,
            input: packFiles(files),
            encoding: "utf8",
            timeout: 30_000,
        });
        assert.equal(r.status, 0, r.stderr);
        assert.match(calls()[0] as string, /^ssh -o BatchMode=yes -p 2222 me@mac-mini\.local /);
        assert.ok(calls().includes("target me@mac-mini.local"));
        assert.equal(fs.readFileSync(path.join(odd, "haproxy.cfg"), "utf8"), files["haproxy.cfg"]);
    });

    it("the rendered paths are the stack's: the edge directory under docker.dataDir and a label from the stack", () => {
        assert.equal(edgeDir(model), "/Users/me/selfhost/edge");
        assert.equal(edgeLabel("Home Lab_2"), "dev.homelab.home-lab-2.edge");
        assert.match(files["edge.plist"] as string, /<string>\/Users\/me\/selfhost\/edge\/bin\/haproxy<\/string>/);
    });
});

describe("the Caddy reload's hold, without nc in the HAProxy image", () => {
    it("the hold fails before holding anything, and the host reloads Caddy anyway and says why", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "homelab-hold-"));
        try {
            const bin = path.join(dir, "bin");
            fs.mkdirSync(bin);
            // A docker stand-in: the HAProxy container has no nc (PATH is only this directory);
            // Caddy's apply prints nothing (a reload without revocation).
            fs.writeFileSync(
                path.join(bin, "docker"),
                `#!/bin/sh
case "$1" in
  inspect) echo true ;;
  exec)
    shift
    while [ "$1" = -i ] || [ "$1" = -e ]; do if [ "$1" = -e ]; then export "$2"; shift 2; else shift; fi; done
    name=$1; shift
    if [ "$name" = haproxy ]; then PATH="${bin}" HOLD_STATE="${dir}" /bin/sh -c "$3"; else echo "$name" >> "${dir}/applied"; fi ;;
esac
`,
                { mode: 0o755 },
            );
            const env = { ...process.env, ...caddyReloadEnvironment("container"), PATH: `${bin}:/usr/bin:/bin` };
            const r = spawnSync("/bin/sh", ["-c", CADDY_RELOAD_ON_HOST], {
                env,
                input: "",
                encoding: "utf8",
                timeout: 20_000,
            });
            assert.equal(r.status, 0, r.stderr);
            assert.match(r.stderr, /no nc here to reach HAProxy's admin socket/);
            assert.match(r.stderr, /could not hold new connections at haproxy: reloading Caddy without/);
            assert.equal(fs.readFileSync(path.join(dir, "applied"), "utf8"), "caddy\n", "Caddy's config was applied");
            assert.ok(!fs.existsSync(path.join(dir, CADDY_HOLD.stateFile)), "no hold, so no watchdog was left");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("the shell scripts' defaults are the TypeScript constants", () => {
    // The scripts live in shell/*.sh; the values they default to when a caller passes none must be
    // the ones the renderers and components use.
    const defaults = (name: string) =>
        Object.fromEntries(
            [...shellScript(name).matchAll(/\$\{([A-Z_]+):-([^}]*)\}/g)].map((m) => [m[1] as string, m[2] as string]),
        );

    it("shell/edge-hold.sh and shell/haproxy-reload-on-host.sh: the hold's state file and wait", () => {
        assert.equal(defaults("edge-hold")["HOLD_STATE_FILE"], CADDY_HOLD.stateFile);
        assert.equal(defaults("haproxy-reload-on-host")["HOLD_STATE_FILE"], CADDY_HOLD.stateFile);
        assert.equal(defaults("haproxy-reload-on-host")["HOLD_WAIT"], haproxyReloadEnvironment()["HOLD_WAIT"]);
    });

    it("shell/edge-apply.sh: the oldest HAProxy and the log's limit", () => {
        assert.equal(defaults("edge-apply")["MIN_HAPROXY"], MIN_HAPROXY);
        assert.equal(defaults("edge-apply")["LOG_LIMIT_MB"], String(LOG_LIMIT_MB));
    });

    it("no script in shell/ is built from TypeScript values: no ${...} of TS left in them", () => {
        for (const f of fs.readdirSync(SHELL_DIR).filter((x) => x.endsWith(".sh"))) {
            assert.doesNotMatch(fs.readFileSync(path.join(SHELL_DIR, f), "utf8"), /\$\{[A-Za-z_]+\.[A-Za-z_]/, f);
        }
    });
});
