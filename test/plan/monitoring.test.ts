// homelab:monitoring and homelab:dashboard under Pulumi's mocks (test/stacks/lake.yaml: a Linux
// edge with a status page on private and mtls and a webhook; twohosts: a Mac relay, ntfy and the
// dashboard at the apex): the status container as planned, the monitor's own certificate and
// where it goes, the files the containers read (and that no secret is in a rendered one), the
// outputs, a preview, and a stack without the keys unchanged.
import { strict as assert } from "assert";
import * as path from "path";
import { parse } from "yaml";
import { EXAMPLE, ROOT, Registered, Run, clone, commandNamed, ofType, readStackFile, runProgram } from "../harness";
import { unpackFiles } from "../../render/reload";
import { ALERT_TOKEN_ENV } from "../../stacks/model";
import { DASHBOARD_USER, MONITOR_ETC, MONITOR_USER } from "../../stacks/layout";
import { CLOCK_PATH, MONITOR_FILES } from "../../render/gatus";
import { addressPlan } from "../../stacks/addressPlan";
import { gatusProblems } from "../support/gatus-schema";

const CONTAINER = "docker:index/container:Container";
const LAKE = readStackFile(path.join(ROOT, "test/stacks/lake.yaml"));
const TWO_HOSTS = readStackFile(path.join(ROOT, "test/stacks/twohosts.yaml"));
const HOOK_TOKEN = "hook-0123456789-secret-value";
const container = (run: Run, name: string) => ofType(run, CONTAINER).find((c) => c.inputs.name === name) as Registered;

describe("monitoring under mocks: the status container (test/stacks/lake.yaml)", () => {
    let run: Run;
    before(async () => {
        run = await runProgram(LAKE, { stack: "lake", secrets: { "hook-token": HOOK_TOKEN } });
        assert.equal(run.error, undefined, run.error?.message);
    });

    it("runs on the edge network alone, at its fixed address (Caddy reaches its page there; its checks go out from there); publishes nothing", () => {
        const c = container(run, "status");
        const plan = addressPlan("10.250.0.0/24");
        const nets = (c.inputs.networksAdvanced as any[]).map((n) => [n.name, n.ipv4Address ?? null]);
        assert.deepEqual(nets, [["lakenet-edge", plan.monitor]]);
        assert.deepEqual(c.inputs.ports ?? [], []);
        // Its resource name does not follow its service name: a rename is a replacement (delete first).
        assert.equal(c.name, "docker-monitoring-status");
    });

    it("reads its config folder, /etc/hosts and nsswitch.conf read-only; no root, no capabilities, a read-only root", () => {
        const c = container(run, "status");
        const mounts = (c.inputs.volumes as any[]).map((m) => [m.hostPath, m.containerPath, m.readOnly]);
        assert.deepEqual(mounts, [
            ["/opt/homelab/monitoring", "/config", true],
            [`/opt/homelab/monitoring/${MONITOR_ETC.hosts}`, "/etc/hosts", true],
            [`/opt/homelab/monitoring/${MONITOR_ETC.nsswitch}`, "/etc/nsswitch.conf", true],
        ]);
        assert.equal(c.inputs.user, MONITOR_USER);
        assert.equal(c.inputs.readOnly, true);
        assert.deepEqual(c.inputs.capabilities, { drops: ["ALL"] });
        assert.ok((c.inputs.securityOpts as string[]).includes("no-new-privileges:true"));
        assert.deepEqual(c.inputs.hosts ?? [], [], "no extra hosts: its own /etc/hosts says where every name is");
    });

    it("gets the alert token in its environment only, as a secret; the config names it as ${...}", () => {
        const c = container(run, "status");
        assert.ok((c.inputs.envs as string[]).includes(`${ALERT_TOKEN_ENV}=${HOOK_TOKEN}`));
        assert.ok(c.secretInputs.includes("envs"), "envs is secret");
        const files = unpackFiles(String(commandNamed(run, "monitoring-files").inputs.stdin));
        assert.ok(files["config.yaml"]?.includes(`\${${ALERT_TOKEN_ENV}}`));
    });

    it("has a certificate of its own from the client CA: clientAuth only, not a person's, on Caddy's leaf allowlist", () => {
        const certs = ofType(run, "tls:index/locallySignedCert:LocallySignedCert");
        const monitor = certs.find((c) => c.name === "client-ca-_monitor-cert") as Registered;
        assert.ok(monitor, "client-ca-_monitor-cert");
        assert.deepEqual(monitor.inputs.allowedUses, ["digital_signature", "client_auth"]);
        assert.equal(monitor.inputs.isCaCertificate, false);
        const csr = ofType(run, "tls:index/certRequest:CertRequest").find((c) => c.name === "client-ca-_monitor-csr");
        assert.equal((csr?.inputs.subject as any).commonName, "homelab monitor");
        // Caddy's bundle carries it in the leaf allowlist, beside the person's.
        const bundle = unpackFiles(String(commandNamed(run, "docker-caddy-reload").inputs.stdin));
        const leaves = (bundle["clients.pem"] ?? "").match(/BEGIN CERTIFICATE/g) ?? [];
        assert.equal(leaves.length, 2, "grandma.lee's and the monitor's");
    });

    it("writes its folder with one secret command: config, names, the monitor's certificate and key (0600, its user's)", () => {
        const cmd = commandNamed(run, "monitoring-files");
        assert.deepEqual(cmd.options.additionalSecretOutputs, ["stdin"]);
        assert.ok(cmd.secretInputs.includes("stdin"), "stdin is a secret input");
        const env = cmd.inputs.environment as Record<string, string>;
        assert.equal(env["CONFIG_DIR"], "/opt/homelab/monitoring");
        assert.equal(env["OWNER"], MONITOR_USER);
        assert.equal(env["IN_PLACE"], `${MONITOR_ETC.hosts} ${MONITOR_ETC.nsswitch}`);
        const files = unpackFiles(String(cmd.inputs.stdin));
        assert.deepEqual(
            Object.keys(files).sort(),
            ["config.yaml", MONITOR_FILES.cert, MONITOR_FILES.key, MONITOR_ETC.hosts, MONITOR_ETC.nsswitch].sort(),
        );
        assert.match(files[MONITOR_FILES.key] ?? "", /PRIVATE KEY/);
        // The container starts after its files exist.
        const c = container(run, "status");
        assert.ok(
            c.options.dependsOn.some((d) => d.endsWith("::monitoring-files")),
            c.options.dependsOn.join(", "),
        );
    });

    it("checks every client certificate's end (the person's, its own, the CA) against Caddy's clock", () => {
        const files = unpackFiles(String(commandNamed(run, "monitoring-files").inputs.stdin));
        const cfg = parse(files["config.yaml"] as string) as { endpoints: { name: string; url: string }[] };
        const clocks = cfg.endpoints.filter((e) => e.url.endsWith(CLOCK_PATH)).map((e) => e.name);
        assert.deepEqual(clocks, [
            "certificate: client CA (pulumi up does not renew it)",
            "certificate: grandma.lee",
            "certificate: monitor (the status page's own)",
        ]);
    });

    it("no secret value reaches a rendered file: not the alert token, a key, a bundle's password nor the DNS token", () => {
        const files = unpackFiles(String(commandNamed(run, "monitoring-files").inputs.stdin));
        const rendered = [files["config.yaml"], files[MONITOR_ETC.hosts], files[MONITOR_ETC.nsswitch]].join("\n");
        assert.ok(!rendered.includes(HOOK_TOKEN));
        assert.ok(!rendered.includes("PRIVATE KEY"));
        const bundles = run.outputs["clientBundles"] as Record<string, { password: string }>;
        for (const b of Object.values(bundles)) assert.ok(!rendered.includes(b.password));
        // The DNS-01 token, the tunnel token and the bootstrap token: every value the mocks give a
        // secret carries SECRET, and the Caddy bundle shows the DNS token did reach Caddy's env.
        const caddy = container(run, "caddy");
        assert.ok(
            (caddy.inputs.envs as string[]).some((e) => e.includes("SECRET")),
            "the mocks' tokens are marked",
        );
        assert.ok(!rendered.includes("SECRET"), "no token in the status container's files");
    });

    it("lists the monitor among the client certificates, as a monitor, with when it ends; and says what is checked", () => {
        const list = run.outputs["clientCertificates"] as Record<string, { kind: string; notAfter: string }>;
        assert.deepEqual(Object.keys(list).sort(), ["_monitor", "grandma.lee"]);
        assert.equal(list["_monitor"]?.kind, "monitor");
        assert.equal(list["grandma.lee"]?.kind, "person");
        const m = run.outputs["monitoring"] as { statusPage: string; checks: number; omitted: unknown[] };
        assert.equal(m.statusPage, "https://status.in.lake.example.net/");
        // files ×2, photos, ha, status ×2: every service on every plane, nothing left out.
        assert.equal(m.checks, 6);
        assert.deepEqual(m.omitted, []);
    });

    it("a preview (unknown ids and certificates) registers the same resources without crashing", async () => {
        const preview = await runProgram(LAKE, { stack: "lake", preview: true, secrets: { "hook-token": HOOK_TOKEN } });
        assert.equal(preview.error, undefined, preview.error?.message);
        assert.deepEqual(preview.resources.map((r) => r.urn).sort(), run.resources.map((r) => r.urn).sort());
    });
});

describe("monitoring under mocks: the dashboard and the Mac relay (test/stacks/twohosts.yaml)", () => {
    let run: Run;
    before(async () => {
        run = await runProgram(TWO_HOSTS);
        assert.equal(run.error, undefined, run.error?.message);
    });

    it("the dashboard reads its config folder read-only, hardened, after its files are written (no secret in them)", () => {
        const c = container(run, "dashboard");
        assert.deepEqual(
            (c.inputs.volumes as any[]).map((m) => [m.hostPath, m.containerPath, m.readOnly]),
            [["/Users/me/selfhost/dashboard", "/app/config", true]],
        );
        assert.equal(c.inputs.user, DASHBOARD_USER, "not the user whose key the status container holds");
        assert.equal(c.inputs.readOnly, true);
        const cmd = commandNamed(run, "dashboard-files");
        assert.ok(c.options.dependsOn.some((d) => d.endsWith("::dashboard-files")));
        assert.deepEqual(Object.keys(unpackFiles(String(cmd.inputs.stdin))), ["glance.yml"]);
        assert.ok(!cmd.secretInputs.includes("stdin"), "nothing secret: not marked secret either");
    });

    it("the relay gets the monitor entry; the native edge on the Mac does not (the status container is a container)", () => {
        const relay = unpackFiles(String(commandNamed(run, "edge-haproxy-config").inputs.stdin))["haproxy.cfg"] ?? "";
        assert.match(relay, /frontend from_monitor\n {4}bind 172\.30\.0\.194:443\n/);
        const native = String(commandNamed(run, "edge-native").inputs.stdin);
        assert.ok(!native.includes("from_monitor"));
    });

    it("the NAS's services are checked by name through the edge: the status container runs on the edge host only", () => {
        const nas = ofType(run, CONTAINER).filter((c) => c.provider?.split("::")[3] === "docker-engine-nas");
        assert.ok(!nas.some((c) => c.inputs.name === "status"));
        const files = unpackFiles(String(commandNamed(run, "monitoring-files").inputs.stdin));
        const hosts = files[MONITOR_ETC.hosts] ?? "";
        assert.match(hosts, /172\.30\.0\.194\tjellyfin\.home\.example\.dev\n/);
    });
});

describe("monitoring under mocks: a stack without the keys", () => {
    it("has no monitor certificate, no status container and no monitoring outputs", async () => {
        const run = await runProgram(clone(EXAMPLE));
        assert.ok(!run.resources.some((r) => r.name.startsWith("client-ca-_monitor")));
        assert.ok(!run.resources.some((r) => r.type.startsWith("homelab:monitoring:")));
        assert.equal(run.outputs["monitoring"], undefined);
        const list = run.outputs["clientCertificates"] as Record<string, { kind: string }>;
        assert.ok(Object.values(list).every((x) => x.kind === "person"));
    });
});

describe("monitoring under mocks: the alert token's value", () => {
    for (const [label, value] of [
        ["a space and a #", "abc #def"],
        ["a line break", "abc\ndef: x"],
        ["a quote", 'abc"def'],
    ] as const)
        it(`refuses a webhook token with ${label}, naming its key and never showing it; registers nothing`, async () => {
            const run = await runProgram(LAKE, { stack: "lake", secrets: { "hook-token": value } });
            assert.ok(run.error, "refused");
            assert.match(run.error.message, /homelab:secrets\.hook-token: holds a character/);
            assert.ok(!run.error.message.includes(value), "the value is not in the message");
            assert.equal(run.resources.filter((r) => r.custom).length, 0, "nothing registered");
        });

    it("refuses an ntfy token that is not one (tk_...): Gatus would drop the channel without a word", async () => {
        const cfg = clone(TWO_HOSTS);
        cfg["homelab:monitoring"] = { alerts: { ntfy: { topic: "t", tokenSecret: "ntfy" } } };
        const bad = await runProgram(cfg, { secrets: { ntfy: "0123456789", "immich-db-password": "x" } });
        assert.match(bad.error?.message ?? "", /homelab:secrets\.ntfy: is not an ntfy access token/);
        const good = await runProgram(cfg, {
            secrets: { ntfy: "tk_abcdefghijklmnopqrstuvwxyz012", "immich-db-password": "x" },
        });
        assert.equal(good.error, undefined, good.error?.message);
    });
});

describe("monitoring under mocks: the further hosts' certificates (test/stacks/twohosts.yaml)", () => {
    it("are watched too: the hosts CA, Caddy's certificate for the gateways and each gateway's", async () => {
        const run = await runProgram(TWO_HOSTS);
        const files = unpackFiles(String(commandNamed(run, "monitoring-files").inputs.stdin));
        const cfg = parse(files["config.yaml"] as string) as { endpoints: { name: string; url: string }[] };
        const clocks = cfg.endpoints.filter((e) => e.url.endsWith(CLOCK_PATH)).map((e) => e.name);
        for (const n of [
            "hosts CA (further hosts)",
            "Caddy's certificate for the gateways",
            "gateway of host nas (further hosts)",
        ])
            assert.ok(clocks.includes(`certificate: ${n}`), `${n}: ${clocks.join(", ")}`);
    });

    it("users named like those checks (hosts-ca, gateway-of-host-nas, client-ca) get checks of their own: no key is shared", async () => {
        const cfg = clone(TWO_HOSTS);
        cfg["homelab:users"] = [
            { name: "dave" },
            { name: "hosts-ca" },
            { name: "gateway-of-host-nas" },
            { name: "client-ca" },
        ];
        const run = await runProgram(cfg);
        assert.equal(run.error, undefined, run.error?.message);
        const files = unpackFiles(String(commandNamed(run, "monitoring-files").inputs.stdin));
        assert.match(files["config.yaml"] ?? "", /certificate: gateway-of-host-nas/);
    });
});

describe("monitoring under mocks: a webhook whose URL is its credential (urlSecret)", () => {
    const URL_VALUE = "https://hooks.example.net/services/T0/B0/url-SECRET-55ee";
    const withUrlSecret = () => {
        const cfg = clone(LAKE);
        cfg["homelab:monitoring"] = { alerts: { webhook: { urlSecret: "hook-url" } } };
        return cfg;
    };

    it("reaches the status container's environment only, as a secret; the config names it as ${...}", async () => {
        const run = await runProgram(withUrlSecret(), { stack: "lake", secrets: { "hook-url": URL_VALUE } });
        assert.equal(run.error, undefined, run.error?.message);
        const c = container(run, "status");
        assert.ok((c.inputs.envs as string[]).includes(`HOMELAB_ALERT_URL=${URL_VALUE}`));
        assert.ok(c.secretInputs.includes("envs"));
        const files = unpackFiles(String(commandNamed(run, "monitoring-files").inputs.stdin));
        const cfg = files["config.yaml"] as string;
        assert.ok(!cfg.includes(URL_VALUE) && !cfg.includes("hooks.example.net"), "the URL is in no rendered file");
        assert.match(cfg, /url: \$\{HOMELAB_ALERT_URL\}/);
        assert.deepEqual(gatusProblems(parse(cfg), { env: { HOMELAB_ALERT_URL: URL_VALUE } }), []);
        assert.ok(!JSON.stringify(run.outputs).includes("url-SECRET"), "nor in an output");
    });

    it("refuses a URL secret that is not an https URL, by its key, without showing it", async () => {
        const bad = "http://hooks.example.net/url-SECRET-66ff";
        const run = await runProgram(withUrlSecret(), { stack: "lake", secrets: { "hook-url": bad } });
        assert.match(run.error?.message ?? "", /homelab:secrets\.hook-url: must be an https:\/\/ URL/);
        assert.ok(!(run.error?.message ?? "").includes("url-SECRET"));
    });
});
