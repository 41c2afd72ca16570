// The example stack and a second, different stack under Pulumi's mocks: which Cloudflare
// resources the program asks for, with what inputs, under which component.
import { strict as assert } from "assert";
import * as path from "path";
import { EXAMPLE, PERMISSION_GROUPS, ROOT, Registered, Run, ofType, readStackFile, runProgram } from "./harness";

const RECORD = "cloudflare:index/dnsRecord:DnsRecord";
const TOKEN = "cloudflare:index/apiToken:ApiToken";
const TUNNEL = "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared";
const TUNNEL_CONFIG = "cloudflare:index/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig";
const POLICY = "cloudflare:index/zeroTrustAccessPolicy:ZeroTrustAccessPolicy";
const APP = "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication";
const TUNNEL_ID = "c0ffee00-1234-4abc-8def-0123456789ab";
const groupId = (name: string) => PERMISSION_GROUPS.find((g) => g.name === name)?.id;

function records(
    run: Run,
): { name: string; type: string; content: string; proxied: boolean; zoneId: string; ttl: number; parents: string[] }[] {
    return ofType(run, RECORD)
        .map((r) => ({ ...(r.inputs as any), parents: r.parents }))
        .sort((a, b) => `${a.type} ${a.name}`.localeCompare(`${b.type} ${b.name}`));
}

function providerOf(r: Registered): string | undefined {
    return r.provider?.split("::")[3];
}

describe("example stack (Pulumi.home.yaml)", () => {
    let run: Run;
    before(async () => {
        run = await runProgram(EXAMPLE);
        assert.equal(run.error, undefined, run.error?.message);
    });

    it("points the private name and its wildcard at the tailnet, IPv4 and IPv6, DNS-only", () => {
        const priv = records(run).filter((r) => r.name.endsWith("home.example.dev"));
        assert.deepEqual(
            priv.map((r) => [r.type, r.name, r.content, r.proxied]),
            [
                ["A", "*.home.example.dev", "100.101.102.103", false],
                ["A", "home.example.dev", "100.101.102.103", false],
                ["AAAA", "*.home.example.dev", "fd7a:115c:a1e0::1234", false],
                ["AAAA", "home.example.dev", "fd7a:115c:a1e0::1234", false],
            ],
        );
        for (const r of priv) {
            assert.equal(r.ttl, 1, "TTL auto");
            assert.equal(r.zoneId, "023e105f4ecef8ad9ca31a8372d0c353");
            assert.deepEqual(r.parents, ["homelab:dns:PrivateDns"]);
            assert.match((r as any).comment, /homelab Pulumi stack/);
        }
    });

    it("gives only the mtls service a public-IP record, DNS-only", () => {
        const wan = records(run).filter((r) => r.content === "203.0.113.7");
        assert.deepEqual(
            wan.map((r) => [r.type, r.name, r.proxied]),
            [["A", "cloud.example.dev", false]],
        );
        const names = records(run).map((r) => r.name);
        for (const privateOnly of ["jellyfin.example.dev", "vault.example.dev", "home.example.dev.example.dev"])
            assert.ok(!names.includes(privateOnly));
    });

    it("creates a DNS-01 token with exactly Zone Read + DNS Write on this one zone", () => {
        const [tok] = ofType(run, TOKEN);
        assert.ok(tok);
        assert.deepEqual(tok.parents, ["homelab:cloudflare:DnsToken"]);
        const policies = tok.inputs.policies as any[];
        assert.equal(policies.length, 1);
        assert.equal(policies[0].effect, "allow");
        assert.deepEqual(
            policies[0].permissionGroups.map((g: any) => g.id).sort(),
            [groupId("Zone Read"), groupId("DNS Write")].sort(),
        );
        assert.deepEqual(JSON.parse(policies[0].resources), {
            "com.cloudflare.api.account.zone.023e105f4ecef8ad9ca31a8372d0c353": "*",
        });
        assert.deepEqual(tok.inputs.condition, { requestIp: { ins: ["203.0.113.7/32"] } });
        // Ids were looked up by name through the provider's list function, not hard-coded.
        const lookups = run.invokes.filter((i) => i.token.endsWith("getApiTokenPermissionGroupsList"));
        // The names as they are: the provider's SDK encodes the query (an encoded name would be encoded twice).
        assert.deepEqual(lookups.map((l) => l.inputs.name).sort(), ["DNS Write", "Zone Read"]);
    });

    it("creates a remotely managed tunnel whose config routes each public service to its container, then 404", () => {
        const [tunnel] = ofType(run, TUNNEL);
        assert.ok(tunnel);
        assert.equal(tunnel.inputs.configSrc, "cloudflare");
        assert.ok(tunnel.secretInputs.includes("tunnelSecret"), "tunnel secret is a Pulumi secret");
        assert.ok(Buffer.from(tunnel.inputs.tunnelSecret, "base64").length >= 32, "at least 32 bytes, base64-encoded");
        const password = ofType(run, "random:index/randomPassword:RandomPassword").find(
            (r) => r.name === "tunnel-secret-password",
        );
        assert.deepEqual(password?.inputs, { length: 43, special: false }, "43 letters and digits: 256 bits");
        assert.equal(
            ofType(run, "random:index/randomBytes:RandomBytes").length,
            0,
            "no RandomBytes: its id is its value, unencrypted in the state",
        );
        const configs = ofType(run, TUNNEL_CONFIG);
        assert.equal(configs.length, 1, "one config owns all ingress rules");
        const cfg = configs[0] as Registered;
        assert.equal(cfg.inputs.tunnelId, TUNNEL_ID);
        assert.deepEqual(cfg.inputs.config.ingresses, [
            { hostname: "blog.example.dev", service: "http://blog:2368" },
            { hostname: "ntfy.example.dev", service: "http://ntfy:80" },
            { service: "http_status:404" },
        ]);
    });

    it("gives each route a proxied CNAME to <tunnel-id>.cfargotunnel.com", () => {
        const cnames = records(run).filter((r) => r.type === "CNAME");
        assert.deepEqual(
            cnames.map((r) => [r.name, r.content, r.proxied, r.parents[0]]),
            [
                ["blog.example.dev", `${TUNNEL_ID}.cfargotunnel.com`, true, "homelab:cloudflare:Tunnel"],
                ["ntfy.example.dev", `${TUNNEL_ID}.cfargotunnel.com`, true, "homelab:cloudflare:Tunnel"],
            ],
        );
    });

    it("puts Access in front of the public service that asks for it, and only that one", () => {
        const policies = ofType(run, POLICY);
        const apps = ofType(run, APP);
        assert.equal(policies.length, 1);
        assert.equal(apps.length, 1);
        const [policy, app] = [policies[0] as Registered, apps[0] as Registered];
        assert.equal(policy.inputs.decision, "allow");
        assert.deepEqual(policy.inputs.includes, [
            { email: { email: "me@example.dev" } },
            { emailDomain: { domain: "family.example.dev" } },
        ]);
        assert.equal(app.inputs.domain, "blog.example.dev");
        assert.equal(app.inputs.type, "self_hosted");
        assert.equal(app.inputs.policies.length, 1);
        assert.match(
            app.inputs.policies[0].id,
            new RegExp(`^${policy.name}-id-`),
            "the application uses the policy's id",
        );
        assert.deepEqual(app.parents, ["homelab:cloudflare:AccessApp"]);
    });

    it("passes the one explicit Cloudflare provider to every Cloudflare resource", () => {
        const cf = run.resources.filter((r) => r.type.startsWith("cloudflare:"));
        assert.ok(cf.length > 5);
        for (const r of cf) assert.equal(providerOf(r), "cloudflare", `${r.type} ${r.name}`);
        const [prov] = ofType(run, "pulumi:providers:cloudflare");
        assert.ok(prov?.secretInputs.includes("apiToken"), "bootstrap token reaches the provider as a secret");
    });

    it("exports urls per service and plane, and the tunnel id", () => {
        const urls = run.outputs["urls"] as Record<string, Record<string, string>>;
        assert.deepEqual(urls["cloud"], {
            private: "https://cloud.home.example.dev/",
            mtls: "https://cloud.example.dev/",
        });
        assert.deepEqual(urls["dashboard"], { private: "https://home.example.dev/" });
        assert.deepEqual(urls["blog"], { public: "https://blog.example.dev/" });
        assert.deepEqual(urls["llm"], { private: "https://llm.home.example.dev/" });
        assert.deepEqual(urls["pve"], { private: "https://pve.home.example.dev/" });
        for (const internal of ["immich-ml", "immich-redis", "immich-postgres"])
            assert.equal(urls[internal], undefined, `${internal} has no URL`);
        assert.equal(Object.keys(urls).length, 17);
        assert.equal(run.outputs["tunnelId"], TUNNEL_ID);
    });
});

describe("a stack unlike the example (test/stacks/cabin.yaml)", () => {
    let run: Run;
    before(async () => {
        run = await runProgram(readStackFile(path.join(ROOT, "test/stacks/cabin.yaml")), { stack: "cabin" });
        assert.equal(run.error, undefined, run.error?.message);
    });

    it("uses its own zone, subdomain and tailnet address, IPv4 only, and no public-IP records", () => {
        assert.deepEqual(
            records(run)
                .filter((r) => r.type !== "CNAME")
                .map((r) => [r.type, r.name, r.content, r.proxied, r.zoneId]),
            [
                ["A", "*.lab.cabin.example.org", "100.88.7.6", false, "9f8e7d6c5b4a39281706f5e4d3c2b1a0"],
                ["A", "lab.cabin.example.org", "100.88.7.6", false, "9f8e7d6c5b4a39281706f5e4d3c2b1a0"],
            ],
        );
    });

    it("scopes the token to its own zone, without conditions or expiry", () => {
        const [tok] = ofType(run, TOKEN);
        assert.deepEqual(JSON.parse((tok as Registered).inputs.policies[0].resources), {
            "com.cloudflare.api.account.zone.9f8e7d6c5b4a39281706f5e4d3c2b1a0": "*",
        });
        assert.equal((tok as Registered).inputs.condition, undefined);
        assert.equal((tok as Registered).inputs.expiresOn, undefined);
        assert.equal((tok as Registered).inputs.name, "homelab cabin DNS-01 for cabin.example.org");
    });

    it("routes its three public services (one under another hostname) in name order, then 404", () => {
        const [cfg] = ofType(run, TUNNEL_CONFIG);
        assert.deepEqual((cfg as Registered).inputs.config.ingresses, [
            { hostname: "code.cabin.example.org", service: "http://git:3000" },
            { hostname: "status.cabin.example.org", service: "http://status:3001" },
            { hostname: "wiki.cabin.example.org", service: "http://wiki:3000" },
            { service: "http_status:404" },
        ]);
        const [tunnel] = ofType(run, TUNNEL);
        assert.equal((tunnel as Registered).inputs.name, "homelab-cabin");
        assert.equal((tunnel as Registered).inputs.accountId, "aa11bb22cc33dd44ee55ff6677889900");
        assert.deepEqual(
            records(run)
                .filter((r) => r.type === "CNAME")
                .map((r) => [r.name, r.proxied]),
            [
                ["code.cabin.example.org", true],
                ["status.cabin.example.org", true],
                ["wiki.cabin.example.org", true],
            ],
        );
    });

    it("gates the two services with access and leaves the third open", () => {
        const apps = ofType(run, APP)
            .map((a) => a.inputs.domain)
            .sort();
        assert.deepEqual(apps, ["code.cabin.example.org", "wiki.cabin.example.org"]);
        const includes = ofType(run, POLICY)
            .map((p) => p.inputs.includes)
            .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
        assert.deepEqual(includes, [
            [{ email: { email: "a@cabin.example.org" } }, { email: { email: "b@cabin.example.org" } }],
            [{ emailDomain: { domain: "cabin.example.org" } }],
        ]);
    });

    it("exports its own urls", () => {
        const urls = run.outputs["urls"] as Record<string, Record<string, string>>;
        assert.deepEqual(urls["grafana"], { private: "https://lab.cabin.example.org/" });
        assert.deepEqual(urls["wiki"], {
            private: "https://wiki.lab.cabin.example.org/",
            public: "https://wiki.cabin.example.org/",
        });
        assert.deepEqual(urls["git"], { public: "https://code.cabin.example.org/" });
        assert.deepEqual(urls["printer"], { private: "https://printer.lab.cabin.example.org/" });
    });
});

describe("a stack with no public service", () => {
    it("creates no tunnel, no CNAME and no Access, and exports no tunnel id", async () => {
        const cfg = { ...EXAMPLE } as Record<string, any>;
        const services = JSON.parse(JSON.stringify(cfg["homelab:services"]));
        delete services.blog;
        services.ntfy.expose = ["private"];
        cfg["homelab:services"] = services;
        const run = await runProgram(cfg);
        assert.equal(run.error, undefined, run.error?.message);
        assert.equal(ofType(run, TUNNEL).length, 0);
        assert.equal(ofType(run, TUNNEL_CONFIG).length, 0);
        assert.equal(ofType(run, APP).length, 0);
        assert.equal(ofType(run, "random:index/randomBytes:RandomBytes").length, 0);
        assert.equal(records(run).filter((r) => r.type === "CNAME").length, 0);
        assert.equal(run.outputs["tunnelId"], undefined);
    });
});

describe("preview (unknown ids)", () => {
    it("runs the example program with preview=true without errors", async () => {
        const run = await runProgram(EXAMPLE, { preview: true });
        assert.equal(run.error, undefined, run.error?.message);
        assert.ok(ofType(run, TUNNEL_CONFIG).length === 1);
        assert.ok(ofType(run, RECORD).length >= 7);
        const urls = run.outputs["urls"] as Record<string, unknown>;
        assert.equal(Object.keys(urls).length, 17);
    });
});
