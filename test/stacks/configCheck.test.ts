// Pulumi's own config validation, the code the Pulumi CLI runs before it starts the program
// (workspace.ValidateStackConfigAndApplyProjectConfig in Pulumi's Go SDK, run by tools/configcheck
// without a CLI), on Pulumi.yaml with every stack file this repository ships, including
// test/stacks/minimal.yaml, which sets only the keys the configuration reference (docs/configuration.md) calls required. Also the checker's
// second, separate check (the homelab policy: the bootstrap token and homelab:secrets are
// `secure:`), and that the program itself accepts the minimal stack.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawnSync } from "child_process";
import * as YAML from "yaml";
import { ROOT, readStackFile, runProgram } from "../harness";
import { configcheckBinary } from "../support/binaries";
import { REQUIRED_KEYS } from "../../stacks/validate";
import { modelFromStackFile } from "../../stacks/stackFile";

const MINIMAL = "test/stacks/minimal.yaml";
const STACK_FILES = [
    "Pulumi.home.yaml",
    ...fs
        .readdirSync(path.join(ROOT, "test/stacks"))
        .filter((f) => f.endsWith(".yaml"))
        .sort()
        .map((f) => `test/stacks/${f}`),
];

interface ProjectKey {
    type?: string;
    default?: unknown;
}
const PROJECT_CONFIG = (
    YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { config: Record<string, ProjectKey> }
).config;

function goOnPath(): boolean {
    return spawnSync("sh", ["-c", "command -v go"], { encoding: "utf8" }).status === 0;
}

describe("Pulumi's own config validation (tools/configcheck, Pulumi's Go SDK)", function () {
    this.timeout(20 * 60_000); // the first run builds the checker
    let bin: string;
    let dir: string;

    before(function () {
        try {
            bin = configcheckBinary();
        } catch (e) {
            // Only a machine without Go may go without the checker, and never CI.
            if (process.env.CI === "true" || goOnPath()) throw e;
            console.warn(`    configcheck not built (no Go on PATH): ${(e as Error).message.split("\n")[0]}`);
            this.skip();
        }
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "homelab-configcheck-"));
    });
    after(() => {
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    function check(...files: string[]): { status: number | null; lines: string[]; out: string } {
        const r = spawnSync(bin, ["Pulumi.yaml", ...files], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
        assert.equal(r.error, undefined, String(r.error));
        const out = r.stdout + r.stderr;
        return { status: r.status, lines: r.stdout.split("\n").filter((l) => l !== ""), out };
    }

    /** The minimal stack's config with `change` applied, written as <dir>/<name>.yaml (a stack called <name>). */
    function variant(name: string, change: (config: Record<string, unknown>) => void): string {
        const doc = YAML.parse(fs.readFileSync(path.join(ROOT, MINIMAL), "utf8")) as {
            config: Record<string, unknown>;
        };
        change(doc.config);
        const file = path.join(dir, `${name}.yaml`);
        fs.writeFileSync(file, YAML.stringify(doc));
        return file;
    }

    it("accepts Pulumi.home.yaml and every stack under test/stacks, the minimal one included", () => {
        assert.ok(STACK_FILES.includes(MINIMAL) && STACK_FILES.length >= 5, STACK_FILES.join(", "));
        const r = check(...STACK_FILES);
        assert.equal(r.status, 0, r.out);
        assert.deepEqual(
            r.lines,
            STACK_FILES.map((f) => `ok ${f}`),
            r.out,
        );
    });

    it("the minimal stack sets exactly the reference's required keys: cloudflare:apiToken (secure), domain, zoneId, accountId, tailnet.ipv4, acme.email, docker.dataDir", () => {
        const config = readStackFile(path.join(ROOT, MINIMAL));
        // The reference's rows marked required, outside the per-service and per-user keys (which
        // are required only inside an entry the stack chooses to have).
        const reference = [
            ...fs
                .readFileSync(path.join(ROOT, "docs/configuration.md"), "utf8")
                .matchAll(/^\| `([a-z]+:[A-Za-z0-9.]+)` \|[^|]*\| required \|/gm),
        ].map((m) => m[1] as string);
        const leaves = (key: string) =>
            reference.filter((k) => k.startsWith(`${key}.`)).map((k) => k.slice(key.length + 1));
        const topLevel = reference.filter((k) => !k.slice(k.indexOf(":") + 1).includes("."));
        assert.deepEqual(Object.keys(config).sort(), topLevel.sort());
        assert.deepEqual(
            topLevel.filter((k) => k.startsWith("homelab:")).sort(),
            REQUIRED_KEYS.map((k) => `homelab:${k}`).sort(),
        );
        for (const key of ["homelab:tailnet", "homelab:acme", "homelab:docker"])
            assert.deepEqual(Object.keys(config[key] as object).sort(), leaves(key).sort(), key);
        assert.match(
            (config["cloudflare:apiToken"] as { secure: string }).secure,
            /^v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/,
            "a passphrase-provider ciphertext",
        );
    });

    it("Pulumi.yaml gives a default to every key the reference calls optional (so no stack must set it), and none to the required ones", () => {
        for (const [key, decl] of Object.entries(PROJECT_CONFIG)) {
            const required = (REQUIRED_KEYS as readonly string[]).includes(key);
            assert.equal(
                decl.default === undefined,
                required,
                `${key}: ${required ? "required, so no default" : "optional, so it needs a default"}`,
            );
        }
        const r = check(MINIMAL);
        assert.equal(r.status, 0, r.out);
        assert.deepEqual(r.lines, [`ok ${MINIMAL}`]);
    });

    it("refuses a stack missing homelab:domain with Pulumi's own message naming the key", () => {
        const file = variant("nodomain", (c) => delete c["homelab:domain"]);
        const r = check(file);
        assert.equal(r.status, 1, r.out);
        assert.deepEqual(r.lines, [
            `fail ${file}`,
            "  pulumi: Stack 'nodomain' is missing configuration value 'domain'",
        ]);
    });

    it("refuses a stack missing any other key Pulumi.yaml declares without a default, naming each", () => {
        const required = Object.entries(PROJECT_CONFIG)
            .filter(([, d]) => d.default === undefined)
            .map(([k]) => k);
        assert.ok(required.length >= 3, required.join(", "));
        const file = variant("bare", (c) => {
            for (const k of required) delete c[`homelab:${k}`];
        });
        const r = check(file);
        assert.equal(r.status, 1, r.out);
        for (const k of required)
            assert.match(r.out, new RegExp(`pulumi: Stack 'bare' is missing configuration values .*'${k}'`));
    });

    it("refuses a declared key of the wrong type (trustedNetworks as a string, not a list)", () => {
        const file = variant("wrongtype", (c) => (c["homelab:trustedNetworks"] = "192.168.1.0/24"));
        const r = check(file);
        assert.equal(r.status, 1, r.out);
        assert.match(
            r.out,
            /pulumi: Stack 'wrongtype' with configuration key 'trustedNetworks' must be of type 'array<string>'/,
        );
    });

    it("reports a plaintext cloudflare:apiToken and plaintext homelab:secrets by the homelab policy check, not as a Pulumi error", () => {
        const file = variant("plaintext", (c) => {
            c["cloudflare:apiToken"] = "a-token-pasted-in-plaintext";
            c["homelab:secrets"] = {
                "db-password": "hunter2",
                "admin-token": { secure: "v1:GIBawLNmVrmioHxc:3Fwuv1hsEfPxPkxc" },
            };
        });
        const r = check(file);
        assert.equal(r.status, 1, r.out);
        assert.deepEqual(r.lines, [
            `fail ${file}`,
            "  homelab policy: cloudflare:apiToken is written in plaintext rather than as `secure:`; set it with `pulumi config set --secret cloudflare:apiToken`",
            "  homelab policy: homelab:secrets.db-password is written in plaintext rather than as `secure:`; set it with `pulumi config set --secret --path 'homelab:secrets.db-password' <value>`",
        ]);
    });

    it("reports a secure: value under any other homelab key (only homelab:secrets stays secret)", () => {
        const file = variant("securedelsewhere", (c) => {
            c["homelab:services"] = {
                dashboard: {
                    image: "glanceapp/glance:v0.7.13",
                    port: 8080,
                    env: { API_KEY: { secure: "v1:GIBawLNmVrmioHxc:3Fwuv1hsEfPxPkxc" } },
                },
            };
        });
        const r = check(file);
        assert.equal(r.status, 1, r.out);
        assert.deepEqual(r.lines, [
            `fail ${file}`,
            "  homelab policy: homelab:services.dashboard.env.API_KEY is stored as `secure:`, but only homelab:secrets values stay secret (any other value is passed on as it is); keep it in plaintext and put the secret in homelab:secrets.<name>",
        ]);
    });

    it("names the stack after Pulumi.<name>.yaml, as the CLI does", () => {
        const file = variant("Pulumi.cottage", (c) => delete c["homelab:zoneId"]);
        const r = check(file);
        assert.equal(r.status, 1, r.out);
        assert.match(r.out, /Stack 'cottage' is missing configuration value 'zoneId'/);
    });
});

describe("the minimal stack (test/stacks/minimal.yaml) under the program", () => {
    it("passes the program's own validation and registers the private records, with Pulumi.yaml's defaults applied as the CLI applies them", async () => {
        assert.doesNotThrow(() => modelFromStackFile(path.join(ROOT, MINIMAL)));
        const config: Record<string, unknown> = readStackFile(path.join(ROOT, MINIMAL));
        // The CLI hands the program the decrypted token; the harness supplies a secret one.
        delete config["cloudflare:apiToken"];
        for (const [key, decl] of Object.entries(PROJECT_CONFIG))
            if (decl.default !== undefined && !(`homelab:${key}` in config)) config[`homelab:${key}`] = decl.default;
        assert.deepEqual(config["homelab:trustedNetworks"], []);
        const run = await runProgram(config, { stack: "minimal", secrets: {} });
        assert.equal(run.error, undefined, run.error?.message);
        const names = run.resources
            .filter((r) => r.type === "cloudflare:index/dnsRecord:DnsRecord")
            .map((r) => `${r.inputs.type} ${r.inputs.name}`)
            .sort();
        assert.deepEqual(names, ["A *.home.example.dev", "A home.example.dev"]);
    });
});
