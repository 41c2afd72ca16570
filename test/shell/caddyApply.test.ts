// shell/caddy-apply.sh with a stand-in `caddy` that answers as the Cloudflare DNS module does to a
// token it finds malformed (it quotes the token): what the script prints reaches pulumi's log, so
// the DNS-01 token must never be in it, and a refused reload puts the previous files back.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import { CADDY_APPLY, CADDY_RELOAD_ON_HOST, packFiles } from "../../render/reload";

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

function apply(dir: string, caddy: string, caddyfile: string, extra: Record<string, string> = {}) {
    return spawnSync("/bin/sh", ["-c", CADDY_APPLY], {
        input: packFiles({ Caddyfile: caddyfile, "ca.pem": CA, "clients.pem": CA, ...extra }),
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

describe("Caddy's apply script: the further hosts' CA and Caddy's key for their gateways", () => {
    let dir: string;
    const KEY = "-----BEGIN PRIVATE KEY-----\nnot a real key\n-----END PRIVATE KEY-----\n";
    const HOSTS = { "hosts-ca.pem": CA, "hosts-client.crt": CA, "hosts-client.key": KEY };
    const pki = (f: string) => path.join(dir, "etc/pki", f);
    const ok = (d: string) => {
        const f = path.join(d, "ok-caddy");
        fs.writeFileSync(f, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
        return f;
    };
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "homelab-apply-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("puts them under pki/, the key readable by its owner only, and takes them away when a bundle has none", () => {
        assert.equal(apply(dir, ok(dir), "with hosts\n", HOSTS).status, 0);
        assert.equal(fs.readFileSync(pki("hosts-client.key"), "utf8"), KEY);
        assert.equal(fs.statSync(pki("hosts-client.key")).mode & 0o777, 0o600);
        assert.equal(apply(dir, ok(dir), "no hosts\n").status, 0);
        for (const f of Object.keys(HOSTS)) assert.equal(fs.existsSync(pki(f)), false, f);
    });

    it("a refused reload puts the previous key back, unchanged and private", () => {
        assert.equal(apply(dir, ok(dir), "with hosts\n", HOSTS).status, 0);
        const r = apply(dir, stubCaddy(dir, 1), "no hosts\n");
        assert.equal(r.status, 1);
        assert.equal(fs.readFileSync(pki("hosts-client.key"), "utf8"), KEY);
        assert.equal(fs.statSync(pki("hosts-client.key")).mode & 0o777, 0o600);
        assert.equal(fs.readFileSync(path.join(dir, "etc/Caddyfile"), "utf8"), "with hosts\n");
    });
});

describe("Caddy's apply script: a revocation's restart is owed until the host confirms it (found by review)", () => {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "homelab-revoke-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
    const cert = (n: string) => `-----BEGIN CERTIFICATE-----\nMII${n}\n-----END CERTIFICATE-----\n`;
    const withClients = (caddy: string, ...names: string[]) =>
        spawnSync("/bin/sh", ["-c", CADDY_APPLY], {
            input: packFiles({ Caddyfile: "c\n", "ca.pem": CA, "clients.pem": names.map(cert).join("") }),
            env: { PATH: "/usr/bin:/bin", ETC: path.join(dir, "etc"), CADDY: caddy },
            encoding: "utf8",
            timeout: 10_000,
        });
    const restarted = () =>
        spawnSync("/bin/sh", ["-c", CADDY_APPLY], {
            input: "",
            env: { PATH: "/usr/bin:/bin", ETC: path.join(dir, "etc"), RESTARTED: "1" },
            encoding: "utf8",
        }).status;

    it("says revoked again, for the same files, until the restart is confirmed; then nothing", () => {
        const ok = stubCaddy(dir, 0);
        assert.equal(withClients(ok, "dave", "mom").stdout, "");
        assert.equal(withClients(ok, "dave").stdout.trim(), "revoked");
        // The host's docker restart failed, or pulumi up was stopped before it: the rerun restarts.
        assert.equal(withClients(ok, "dave").stdout.trim(), "revoked", "the restart is still owed");
        assert.equal(restarted(), 0);
        assert.equal(withClients(ok, "dave").stdout, "", "nothing owed once the host has restarted Caddy");
    });

    it("a refused reload puts the old allowlist back and owes no restart for it", () => {
        assert.equal(withClients(stubCaddy(dir, 0), "dave", "mom").stdout, "");
        assert.equal(withClients(stubCaddy(dir, 1), "dave").status, 1);
        assert.equal(withClients(stubCaddy(dir, 0), "dave", "mom").stdout, "", "mom is still allowed: nothing to end");
    });
});

describe("Caddy's host script (shell/caddy-reload-on-host.sh): a revocation's restart, retried until done", () => {
    // A docker stand-in: `exec` runs APPLY here (on ./etc, with a stand-in caddy, -e values
    // exported), `restart` is logged, and refused while ./restart-fails exists.
    let dir: string;
    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "homelab-restart-"));
        fs.mkdirSync(path.join(dir, "bin"));
        stubCaddy(dir, 0);
        fs.writeFileSync(
            path.join(dir, "bin", "docker"),
            `#!/bin/sh
d="${dir}"
verb=$1; shift
case "$verb" in
  exec)
    while [ "$1" = -i ] || [ "$1" = -e ]; do if [ "$1" = -e ]; then export "$2"; shift 2; else shift; fi; done
    shift
    ETC="$d/etc" CADDY="$d/caddy" /bin/sh -c "$3" ;;
  restart)
    [ ! -f "$d/restart-fails" ] || exit 1
    echo restart >> "$d/restarts" ;;
esac
`,
            { mode: 0o755 },
        );
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
    const cert = (n: string) => `-----BEGIN CERTIFICATE-----\nMII${n}\n-----END CERTIFICATE-----\n`;
    const reload = (...users: string[]) =>
        spawnSync("/bin/sh", ["-c", CADDY_RELOAD_ON_HOST], {
            input: packFiles({ Caddyfile: "c\n", "ca.pem": CA, "clients.pem": users.map(cert).join("") }),
            env: { PATH: `${path.join(dir, "bin")}:/usr/bin:/bin`, CONTAINER: "caddy", APPLY: CADDY_APPLY },
            encoding: "utf8",
            timeout: 20_000,
        });
    const restarts = () =>
        fs.existsSync(path.join(dir, "restarts"))
            ? fs.readFileSync(path.join(dir, "restarts"), "utf8").split("\n").length - 1
            : 0;

    it("a restart that fails is sent again by the next run with the same users, then never again", () => {
        assert.equal(reload("dave", "mom").status, 0);
        fs.writeFileSync(path.join(dir, "restart-fails"), "");
        assert.notEqual(reload("dave").status, 0, "docker restart failed");
        fs.rmSync(path.join(dir, "restart-fails"));
        const again = reload("dave");
        assert.equal(again.status, 0, again.stderr);
        assert.match(again.stderr, /a client certificate was revoked: restarting Caddy/);
        assert.equal(restarts(), 1);
        assert.equal(reload("dave").status, 0);
        assert.equal(restarts(), 1, "the restart was confirmed: nothing owed");
    });
});
