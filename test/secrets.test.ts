// Secrets stay secrets: in resource inputs, in outputs. The mocks hand out recognisable secret
// values (all containing "SECRET"); none may appear anywhere that is not marked secret.
import { strict as assert } from "assert";
import * as path from "path";
import { EXAMPLE, ROOT, Run, onLinux, readStackFile, runProgram, withDynamicWan } from "./harness";

// Mocked secret values all contain "SECRET"; private keys (the CA, the edge and relay keys, the
// users' keys) are PEM blocks.
const SECRET_MARK = /SECRET|-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/;

function plainStrings(value: any, secretPaths: string[], prefix = ""): [string, string][] {
    if (secretPaths.includes(prefix)) return [];
    if (typeof value === "string") return [[prefix, value]];
    if (value === null || typeof value !== "object") return [];
    return Object.entries(value).flatMap(([k, v]) => plainStrings(v, secretPaths, prefix ? `${prefix}.${k}` : k));
}

/** The example on a Mac (native edge, relay, the edge's secret), on Linux, and on Linux with a dynamic WAN address (DDNS). */
function variants(): [string, Record<string, unknown>][] {
    const linux = onLinux();
    const dynamic = withDynamicWan(onLinux());
    return [
        ["Mac: native edge and relay", EXAMPLE],
        ["Linux: edge container", linux],
        ["Linux with a dynamic WAN address (DDNS updater)", dynamic],
        [
            "Mac and a Linux NAS: the gateway's key, Caddy's key for it, a NAS service's secretEnv",
            readStackFile(path.join(ROOT, "test/stacks/twohosts.yaml")),
        ],
    ];
}

for (const [label, config] of variants())
    describe(`secrets (${label})`, () => {
        let run: Run;
        before(async () => {
            run = await runProgram(config);
            assert.equal(run.error, undefined, run.error?.message);
        });

        it("never appear in a non-secret resource input", () => {
            const leaks: string[] = [];
            for (const r of run.resources) {
                for (const [p, v] of plainStrings(r.inputs, r.secretInputs))
                    if (SECRET_MARK.test(v)) leaks.push(`${r.type} ${r.name} ${p}`);
            }
            assert.deepEqual(leaks, []);
        });

        it("never appear in a non-secret output", () => {
            assert.doesNotMatch(run.plainOutputsJson, SECRET_MARK);
            for (const [k, v] of Object.entries(run.outputs)) {
                if (run.secretOutputs.has(k)) continue;
                assert.doesNotMatch(JSON.stringify(v) ?? "", SECRET_MARK, k);
            }
        });

        it("the bootstrap token reaches only the Cloudflare provider and the tunnel's connection cleanup (its environment, on the Pulumi machine), as a secret", () => {
            const holders = run.resources.filter((r) => JSON.stringify(r.inputs).includes("bootstrap-token-SECRET"));
            // One cleanup per tunnel: the edge host's, and each further host's with public services.
            const tunnels = run.resources
                .filter((r) => r.type.endsWith("ZeroTrustTunnelCloudflared"))
                .map((r) => r.name);
            assert.deepEqual(
                holders.map((r) => [r.type, r.name, r.secretInputs]),
                [
                    ["pulumi:providers:cloudflare", "cloudflare", ["apiToken"]],
                    ...tunnels.map((t) => [
                        "command:local:Command",
                        `${t}-connections-cleanup`,
                        ["environment.CLOUDFLARE_API_TOKEN"],
                    ]),
                ],
            );
            for (const cleanup of holders.slice(1))
                assert.doesNotMatch(
                    `${cleanup.inputs.create} ${cleanup.inputs.delete}`,
                    /bootstrap-token-SECRET/,
                    "never in the script",
                );
        });

        it("the variant runs what it says (the DDNS updater only with a dynamic address)", () => {
            const names = run.resources
                .filter((r) => r.type === "docker:index/container:Container")
                .map((r) => r.inputs["name"]);
            assert.equal(names.includes("ddns"), label.includes("dynamic"));
            // The HAProxy container is the relay on a Mac (loopback ports only), the edge on Linux.
            const haproxy = run.resources.find(
                (r) => r.type === "docker:index/container:Container" && r.inputs["name"] === "haproxy",
            );
            const ips = ((haproxy?.inputs["ports"] ?? []) as { ip: string }[]).map((p) => p.ip);
            assert.ok(ips.length > 0);
            assert.equal(
                ips.every((ip) => ip === "127.0.0.1"),
                label.startsWith("Mac"),
                ips.join(" "),
            );
        });

        it("every command whose stdin carries a private key or the edge's secret has it secret as an input and as an output", () => {
            const withKeys = run.resources.filter(
                (r) =>
                    r.type === "command:local:Command" &&
                    /PRIVATE KEY|#homelab-file edge-secret\./.test(JSON.stringify(r.inputs.stdin ?? "")),
            );
            assert.equal(
                withKeys.length > 0,
                label.startsWith("Mac"),
                "the edge's secret travels only on a Mac runtime",
            );
            for (const r of withKeys) {
                assert.ok(r.secretInputs.includes("stdin"), `${r.name}: stdin is a secret input`);
                assert.ok(r.options.additionalSecretOutputs.includes("stdin"), `${r.name}: stdin is a secret output`);
            }
        });

        it("the tunnel secret is a secret input of the tunnel", () => {
            const tunnel = run.resources.find((r) => r.type.endsWith("ZeroTrustTunnelCloudflared"));
            assert.ok(tunnel?.secretInputs.includes("tunnelSecret"));
        });
    });
