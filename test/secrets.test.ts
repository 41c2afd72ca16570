// Secrets stay secrets: in resource inputs, in outputs. The mocks hand out recognisable secret
// values (all containing "SECRET"); none may appear anywhere that is not marked secret.
import { strict as assert } from "assert";
import { EXAMPLE, Run, runProgram } from "./harness";

const SECRET_MARK = /SECRET/;

function plainStrings(value: any, secretPaths: string[], prefix = ""): [string, string][] {
    if (secretPaths.includes(prefix)) return [];
    if (typeof value === "string") return [[prefix, value]];
    if (value === null || typeof value !== "object") return [];
    return Object.entries(value).flatMap(([k, v]) => plainStrings(v, secretPaths, prefix ? `${prefix}.${k}` : k));
}

describe("secrets", () => {
    let run: Run;
    before(async () => {
        run = await runProgram(EXAMPLE);
        assert.equal(run.error, undefined, run.error?.message);
    });

    it("never appear in a non-secret resource input", () => {
        const leaks: string[] = [];
        for (const r of run.resources) {
            for (const [p, v] of plainStrings(r.inputs, r.secretInputs)) if (SECRET_MARK.test(v)) leaks.push(`${r.type} ${r.name} ${p}`);
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

    it("the bootstrap token reaches only the Cloudflare provider, as a secret", () => {
        const holders = run.resources.filter((r) => JSON.stringify(r.inputs).includes("bootstrap-token-SECRET"));
        assert.deepEqual(holders.map((r) => [r.type, r.secretInputs]), [["pulumi:providers:cloudflare", ["apiToken"]]]);
    });

    it("the tunnel secret is a secret input of the tunnel", () => {
        const tunnel = run.resources.find((r) => r.type.endsWith("ZeroTrustTunnelCloudflared"));
        assert.ok(tunnel?.secretInputs.includes("tunnelSecret"));
    });
});
