// The rendered configs of three unlike stacks, checked by the binaries that will run them:
// `caddy validate` (the Caddy test build with the Cloudflare DNS module) and `haproxy -c`.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFileSync, spawnSync } from "child_process";
import { ROOT } from "../harness";
import { STACKS } from "../support/goldenStacks";
import { selfSigned } from "../support/openssl";
import { CASES_DIR, caseFiles, loadCase, parseCase } from "../support/cases";
import { modelFromStackFile } from "../../stacks/stackFile";
import { renderAll } from "../../render/all";
import { DUMMY_CLOUDFLARE_TOKEN, caddyBinary, haproxy3Binary, haproxyBinary } from "../support/binaries";
import { MIN_HAPROXY } from "../../render/edge";
import versions from "../../render/versions.json";

describe("real binaries", function () {
    this.timeout(20 * 60_000); // the first run builds Caddy
    let dir: string;
    let caddy: string;

    /** `caddy validate` on this Caddyfile text, from the folder with the stand-in PKI, as Caddy runs it. */
    const caddyValidate = (name: string, text: string, token = DUMMY_CLOUDFLARE_TOKEN) => {
        const file = path.join(dir, `${name}.Caddyfile`);
        fs.writeFileSync(file, text);
        const r = spawnSync(caddy, ["validate", "--config", file, "--adapter", "caddyfile"], {
            cwd: dir,
            encoding: "utf8",
            env: { ...process.env, CLOUDFLARE_API_TOKEN: token, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
            timeout: 60_000,
        });
        return { status: r.status, out: r.stdout + r.stderr };
    };

    /**
     * Every haproxy.cfg among the rendered files (a further host's gateway's too) is accepted,
     * without a warning, by HAProxy 3.x: the containers run the pinned 3.2 image, and the native
     * edge needs 3.0 or newer (render/edge.ts MIN_HAPROXY; the edge's secret rides in a TLV).
     */
    const haproxyAccepts = (name: string, files: Record<string, string>) => {
        const configs = Object.keys(files).filter((f) => f.endsWith("haproxy.cfg"));
        assert.ok(configs.length >= 1, `${name}: no HAProxy config rendered`);
        for (const binary of [haproxy3Binary()]) {
            const version = execFileSync(binary, ["-v"], { encoding: "utf8" }).split("\n")[0];
            for (const cfg of configs) {
                const file = path.join(dir, `${name}.${cfg.replace(/\//g, "_")}`);
                fs.writeFileSync(file, files[cfg] as string);
                // As in production: -C makes every file the config names relative to its directory.
                const r = spawnSync(binary, ["-c", "-C", dir, "-f", file], { encoding: "utf8", timeout: 30_000 });
                assert.equal(r.status, 0, `${version}, ${cfg}: ${r.stdout}${r.stderr}`);
                assert.doesNotMatch(r.stdout + r.stderr, /WARNING|ALERT/, `${version}, ${cfg}: no warnings either`);
            }
        }
    };
    before(() => {
        caddy = caddyBinary();
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "homelab-bin-"));
        // Stand-ins at the relative paths the Caddyfile names (Caddy runs in its config directory).
        fs.mkdirSync(path.join(dir, "pki"));
        const ca = selfSigned(path.join(dir, "pki"), "ca", "/CN=test", 1);
        fs.copyFileSync(path.join(dir, "pki/ca.pem"), path.join(dir, "pki/clients.pem"));
        // Stand-ins for the edge's secret (the native edge's map) and its hash (the relay's list).
        fs.writeFileSync(path.join(dir, "edge-secret.map"), "edge stand-in\n");
        fs.writeFileSync(path.join(dir, "edge-secret.sha256"), "00\n");
        const certAndKey = fs.readFileSync(ca.cert, "utf8") + fs.readFileSync(ca.key, "utf8");
        // And for a further host's: Caddy's client certificate and the hosts CA, the gateway's.
        fs.copyFileSync(ca.cert, path.join(dir, "pki/hosts-ca.pem"));
        fs.copyFileSync(ca.cert, path.join(dir, "pki/hosts-client.crt"));
        fs.copyFileSync(ca.key, path.join(dir, "pki/hosts-client.key"));
        fs.copyFileSync(ca.cert, path.join(dir, "hosts-ca.pem"));
        fs.writeFileSync(path.join(dir, "gateway.pem"), certAndKey);
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("the Caddy test build is exactly the pinned version, with the Cloudflare DNS module", () => {
        assert.match(
            execFileSync(caddy, ["version"], { encoding: "utf8" }),
            new RegExp(`^v${versions.caddy.replace(/\./g, "\\.")}\\b`),
        );
        const modules = execFileSync(caddy, ["list-modules"], { encoding: "utf8" });
        assert.match(modules, /^dns\.providers\.cloudflare$/m);
        assert.match(
            execFileSync(caddy, ["list-modules", "--versions"], { encoding: "utf8" }),
            new RegExp(`dns\\.providers\\.cloudflare ${versions.caddyDnsCloudflare}`),
        );
    });

    for (const stack of Object.keys(STACKS)) {
        it(`${stack}: caddy validate accepts the rendered Caddyfile`, () => {
            const m = modelFromStackFile(path.join(ROOT, STACKS[stack] as string));
            const r = caddyValidate(stack, renderAll(m)["Caddyfile"] as string);
            assert.equal(r.status, 0, r.out);
            assert.match(r.out, /Valid configuration/);
        });

        it(`${stack}: haproxy -c accepts every rendered HAProxy config (the container's, and the native edge's on a Mac runtime), with HAProxy 3.x`, () => {
            haproxyAccepts(stack, renderAll(modelFromStackFile(path.join(ROOT, STACKS[stack] as string))));
        });

        const edgePlist = renderAll(modelFromStackFile(path.join(ROOT, STACKS[stack] as string)))["edge.plist"];
        if (edgePlist)
            it(`${stack}: the launchd property list parses as a plist (Python's plistlib)`, () => {
                const file = path.join(dir, `${stack}.plist`);
                fs.writeFileSync(file, edgePlist);
                const r = spawnSync(
                    "python3",
                    [
                        "-c",
                        "import plistlib,sys,json; d=plistlib.load(open(sys.argv[1],'rb')); print(json.dumps(d))",
                        file,
                    ],
                    { encoding: "utf8" },
                );
                assert.equal(r.status, 0, r.stderr);
                const plist = JSON.parse(r.stdout);
                assert.equal(plist.KeepAlive, true);
                assert.deepEqual(plist.ProgramArguments.slice(1, 3), ["-W", "-db"]);
            });
    }

    for (const stack of Object.keys(STACKS)) {
        it(`${stack}: caddy adapt shows the server options applied to both listeners (PROXY from HAProxy only, h1/h2, bound to Caddy's edge address)`, () => {
            const m = modelFromStackFile(path.join(ROOT, STACKS[stack] as string));
            const file = path.join(dir, `${stack}.adapt.Caddyfile`);
            fs.writeFileSync(file, renderAll(m)["Caddyfile"] as string);
            const r = spawnSync(caddy, ["adapt", "--config", file, "--adapter", "caddyfile"], {
                cwd: dir,
                encoding: "utf8",
                env: { ...process.env, HOME: dir },
                timeout: 60_000,
            });
            assert.equal(r.status, 0, r.stderr);
            const servers = JSON.parse(r.stdout).apps.http.servers as Record<string, any>;
            const byName = Object.fromEntries(Object.values(servers).map((srv: any) => [srv.listen.join(","), srv]));
            assert.deepEqual(Object.keys(byName).sort(), [`${m.addresses.caddy}:8443`, `${m.addresses.caddy}:9443`]);
            for (const srv of Object.values(byName) as any[]) {
                assert.deepEqual(srv.listener_wrappers, [
                    {
                        wrapper: "proxy_protocol",
                        timeout: 5_000_000_000,
                        allow: [`${m.addresses.haproxy}/32`],
                        fallback_policy: "REJECT",
                    },
                    { wrapper: "tls" },
                ]);
                assert.deepEqual(srv.protocols, ["h1", "h2"], "no HTTP/3 (no UDP listener)");
                assert.equal(srv.timeouts?.read_header ?? srv.read_header_timeout, 10_000_000_000);
            }
        });
    }

    it("the second HAProxy is a 3.x release, and it rejects a broken config (the check can fail)", () => {
        assert.match(execFileSync(haproxy3Binary(), ["-v"], { encoding: "utf8" }), /^HAProxy version 3\./);
        const file = path.join(dir, "broken.haproxy.cfg");
        fs.writeFileSync(file, "defaults\n    mode tcpp\n");
        assert.notEqual(spawnSync(haproxy3Binary(), ["-c", "-f", file]).status, 0);
    });

    it("the Mac configs need HAProxy 3.0 (the secret's TLV, client-hs): the pinned image and MIN_HAPROXY have it, Debian's 2.6 refuses them", () => {
        const atLeast3 = (v: string) => Number(/^(\d+)\./.exec(v)?.[1]) >= 3;
        assert.ok(atLeast3(versions.haproxyImage.replace(/^haproxy:/, "")), versions.haproxyImage);
        assert.ok(atLeast3(MIN_HAPROXY), MIN_HAPROXY);
        const files = renderAll(modelFromStackFile(path.join(ROOT, STACKS["home"] as string)));
        for (const [name, needs] of [
            ["haproxy.cfg", /client-hs|fc_pp_tlv/],
            ["edge.haproxy.cfg", /set-proxy-v2-tlv-fmt/],
        ] as const) {
            const file = path.join(dir, `old-${name}`);
            fs.writeFileSync(file, files[name] as string);
            const r = spawnSync(haproxyBinary(), ["-c", "-C", dir, "-f", file], { encoding: "utf8", timeout: 30_000 });
            assert.notEqual(r.status, 0, `Debian's 2.6 accepts ${name}: check the Mac configs with it again`);
            assert.match(r.stdout + r.stderr, needs);
        }
    });

    it("caddy validate rejects a broken Caddyfile (the check can fail)", () => {
        const file = path.join(dir, "broken.Caddyfile");
        fs.writeFileSync(file, "example.com {\n\treverse_proxy {\n");
        const r = spawnSync(caddy, ["validate", "--config", file, "--adapter", "caddyfile"], {
            encoding: "utf8",
            env: { ...process.env, HOME: dir },
        });
        assert.notEqual(r.status, 0);
    });

    it("the pinned Cloudflare DNS module takes Cloudflare's current token format (cfut_, 53 characters) and never prints it", () => {
        const token = "cfut_" + "Zq7".repeat(16);
        const r = caddyValidate(
            "token",
            renderAll(modelFromStackFile(path.join(ROOT, STACKS["home"] as string)))["Caddyfile"] as string,
            token,
        );
        assert.equal(r.status, 0, r.out.replaceAll(token, "[token]"));
        assert.match(r.out, /Valid configuration/);
        assert.ok(!r.out.includes(token));
    });

    // The one-case fixtures too: each shows one feature, and each must be a config Caddy and HAProxy accept.
    for (const file of caseFiles("render")) {
        it(`case ${file}: caddy validate and haproxy -c (3.x) accept its rendered configs`, () => {
            const c = parseCase(fs.readFileSync(path.join(CASES_DIR, "render", file), "utf8"), "render");
            const { model, problems } = loadCase(c.config);
            assert.ok(model, problems.map((p) => `${p.key}: ${p.message}`).join("\n"));
            const files = renderAll(model);
            const r = caddyValidate(`case-${file}`, files["Caddyfile"] as string);
            assert.equal(r.status, 0, r.out);
            assert.match(r.out, /Valid configuration/);
            haproxyAccepts(`case-${file}`, files);
        });
    }
});

describe("the Caddy test build script", function () {
    this.timeout(20 * 60_000);
    it("finds a cached build again without rebuilding it (no SIGPIPE from grep -q under pipefail)", () => {
        caddyBinary(); // built or found once
        for (let i = 0; i < 5; i++) {
            const r = spawnSync("bash", [path.join(ROOT, "scripts/build-caddy.sh")], {
                encoding: "utf8",
                timeout: 60_000,
            });
            assert.equal(r.status, 0, r.stderr);
            assert.equal(r.stderr, "", `run ${i}: nothing rebuilt (stderr: ${r.stderr.slice(0, 200)})`);
        }
    });
});
