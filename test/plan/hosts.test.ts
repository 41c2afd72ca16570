// More than one machine under Pulumi's mocks (test/stacks/twohosts.yaml: a Mac edge and a Linux
// NAS): every resource on its host's provider, nothing on the NAS published beyond its tailnet
// address, the gateway's certificate and what it accepts, one tunnel per host, and a one-machine
// stack unchanged by the feature.
import { strict as assert } from "assert";
import * as path from "path";
import { EXAMPLE, ROOT, Registered, Run, clone, commandNamed, ofType, readStackFile, runProgram } from "../harness";
import { unpackFiles } from "../../render/reload";
import { GATEWAY_PORT } from "../../stacks/model";
import { CONTAINERS } from "../../stacks/layout";
import { CADDY_CLIENT_CN } from "../../render/gateway";

const CONTAINER = "docker:index/container:Container";
const NETWORK = "docker:index/network:Network";
const TWO_HOSTS = readStackFile(path.join(ROOT, "test/stacks/twohosts.yaml"));
const providerOf = (r: Registered) => r.provider?.split("::")[3];

describe("more than one machine: a Mac edge and a Linux NAS (test/stacks/twohosts.yaml)", () => {
    let run: Run;
    before(async () => {
        run = await runProgram(TWO_HOSTS);
    });

    it("puts every container on its own host's engine, and the NAS's services only there", () => {
        const onNas = ["jellyfin", "photos", "photos-db", "blog", CONTAINERS.gateway];
        const onMac = ["caddy", "haproxy", "cloudflared", "dashboard", "notes", "status"];
        const nasContainers = ofType(run, CONTAINER).filter((c) => providerOf(c) === "docker-engine-nas");
        const macContainers = ofType(run, CONTAINER).filter((c) => providerOf(c) === "docker-engine");
        assert.deepEqual(nasContainers.map((c) => c.inputs.name).sort(), [...onNas, "cloudflared"].sort());
        assert.deepEqual(macContainers.map((c) => c.inputs.name).sort(), onMac.sort());
        for (const r of run.resources.filter((x) => x.type.startsWith("docker:") && x.custom))
            assert.ok(providerOf(r) === "docker-engine" || providerOf(r) === "docker-engine-nas", r.name);
        const engines = ofType(run, "pulumi:providers:docker");
        assert.deepEqual(
            engines.map((p) => [p.name, p.inputs.host]).sort(),
            [
                ["docker-engine", "unix:///var/run/docker.sock"],
                ["docker-engine-nas", "ssh://admin@nas.tailnet.example"],
            ].sort(),
        );
    });

    it("gives every NAS resource a name of its own (no URN shared with the edge host's)", () => {
        const urns = run.resources.map((r) => r.urn);
        assert.equal(new Set(urns).size, urns.length);
        const aliases = run.resources.flatMap((r) => r.aliases);
        assert.equal(new Set(aliases).size, aliases.length, "no two resources claim one alias");
    });

    it("publishes nothing on the NAS but the gateway, on the NAS's tailnet address only", () => {
        const nas = ofType(run, CONTAINER).filter((c) => providerOf(c) === "docker-engine-nas");
        const ports = nas.flatMap((c) => ((c.inputs.ports ?? []) as any[]).map((p) => [c.inputs.name, p]));
        assert.deepEqual(ports, [
            [
                CONTAINERS.gateway,
                { internal: GATEWAY_PORT, external: GATEWAY_PORT, ip: "100.101.102.110", protocol: "tcp" },
            ],
        ]);
    });

    it("segments the NAS: a public container shares no network with a private one; the database only with photos", () => {
        const nasNets = ofType(run, NETWORK).filter((n) => providerOf(n) === "docker-engine-nas");
        assert.deepEqual(nasNets.map((n) => n.inputs.name).sort(), ["homelab", "homelab-public"]);
        const nasContainers = ofType(run, CONTAINER).filter((x) => providerOf(x) === "docker-engine-nas");
        const netsOf = (name: string) =>
            ((nasContainers.find((x) => x.inputs.name === name)?.inputs.networksAdvanced ?? []) as any[])
                .map((n) => n.name as string)
                .sort();
        // Named networks, each exactly: a comparison of unresolved names would pass on nothing.
        assert.deepEqual(netsOf("blog"), ["homelab-public"]);
        for (const priv of ["jellyfin", "photos"]) assert.deepEqual(netsOf(priv), ["homelab"], priv);
        // The database joins the networks of the service that uses it, and no other.
        assert.deepEqual(netsOf("photos-db"), netsOf("photos"));
        assert.deepEqual(netsOf(CONTAINERS.gateway), ["homelab", "homelab-public"]);
    });

    it("issues the gateway a server certificate and Caddy a client certificate from a CA of their own", () => {
        const certs = ofType(run, "tls:index/locallySignedCert:LocallySignedCert");
        const hostsCerts = certs.filter((c) => c.parents.includes("homelab:pki:HostsTls"));
        assert.deepEqual(hostsCerts.map((c) => c.name).sort(), ["hosts-tls-caddy-cert", "hosts-tls-gateway-nas-cert"]);
        const caddy = hostsCerts.find((c) => c.name === "hosts-tls-caddy-cert") as Registered;
        const gateway = hostsCerts.find((c) => c.name === "hosts-tls-gateway-nas-cert") as Registered;
        assert.deepEqual(caddy.inputs.allowedUses, ["digital_signature", "client_auth"]);
        assert.deepEqual(gateway.inputs.allowedUses, ["digital_signature", "server_auth"]);
        const csrs = ofType(run, "tls:index/certRequest:CertRequest");
        const csr = (n: string) => csrs.find((c) => c.name === n) as Registered;
        assert.equal(csr("hosts-tls-caddy-csr").inputs.subject.commonName, CADDY_CLIENT_CN);
        assert.deepEqual(csr("hosts-tls-gateway-nas-csr").inputs.dnsNames, ["*.nas.homelab.internal"]);
        // Not the users' CA, not the edge's.
        const hostsCa = ofType(run, "tls:index/selfSignedCert:SelfSignedCert").filter((c) =>
            c.parents.includes("homelab:pki:HostsTls"),
        );
        assert.equal(hostsCa.length, 1);
        assert.match(hostsCa[0]?.inputs.subject.commonName, /hosts CA/);
    });

    it("writes the gateway's config, key and CA through a secret stdin, to the NAS, checked before it takes effect", () => {
        const config = commandNamed(run, "gateway-nas-config");
        assert.ok(config.secretInputs.includes("stdin"), "stdin is secret");
        assert.ok(config.options.additionalSecretOutputs.includes("stdin"));
        assert.equal(config.inputs.environment.DOCKER_HOST, "ssh://admin@nas.tailnet.example");
        assert.equal(config.inputs.environment.CONFIG_DIR, "/srv/homelab/gateway");
        assert.equal(config.inputs.environment.CONTAINER, CONTAINERS.gateway);
        const files = unpackFiles(config.inputs.stdin as string);
        assert.deepEqual(Object.keys(files).sort(), ["gateway.pem", "haproxy.cfg", "hosts-ca.pem"]);
        assert.match(files["haproxy.cfg"] as string, /verify required/);
        assert.match(files["haproxy.cfg"] as string, new RegExp(`ssl_c_s_dn\\(CN\\) -m str "${CADDY_CLIENT_CN}"`));
        for (const s of ["jellyfin", "photos"])
            assert.match(
                files["haproxy.cfg"] as string,
                new RegExp(`use_backend svc_${s} if \\{ ssl_fc_sni -m str ${s}\\.nas\\.homelab\\.internal \\}`),
            );
        assert.doesNotMatch(
            files["haproxy.cfg"] as string,
            /blog|photos-db/,
            "public and internal services are not behind the gateway",
        );
    });

    it("hands Caddy the hosts CA and its client key in its secret bundle, and routes the NAS's names to the gateway", () => {
        const reload = commandNamed(run, "docker-caddy-reload");
        assert.ok(reload.secretInputs.includes("stdin"));
        assert.ok(reload.options.additionalSecretOutputs.includes("stdin"));
        const files = unpackFiles(reload.inputs.stdin as string);
        assert.deepEqual(Object.keys(files).sort(), [
            "Caddyfile",
            "ca.pem",
            "clients.pem",
            "hosts-ca.pem",
            "hosts-client.crt",
            "hosts-client.key",
        ]);
        const caddyfile = files["Caddyfile"] as string;
        assert.match(caddyfile, /reverse_proxy https:\/\/100\.101\.102\.110:7443 \{/);
        assert.match(caddyfile, /tls_server_name jellyfin\.nas\.homelab\.internal/);
        // The service gets the name the client asked for, not the gateway's address (Caddy's default for TLS upstreams).
        assert.match(caddyfile, /stream_close_delay \S+\n\t+header_up Host \{hostport\}\n\t+transport http \{/);
        // Nothing on the NAS is a trusted client: Caddy's guard aborts its tailnet address.
        assert.match(caddyfile, /@excluded remote_ip 100\.101\.102\.110\/32 /);
        assert.doesNotMatch(caddyfile, /jellyfin:8096/, "Caddy never dials the NAS's container by name");
        // Every file on disk or in a plain input: never the key.
        for (const r of run.resources) {
            const plain = JSON.stringify(r.inputs);
            if (r.secretInputs.length > 0) continue;
            assert.doesNotMatch(
                plain,
                /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
                `${r.type} ${r.name} carries no key in plain inputs`,
            );
        }
    });

    it("gives the NAS's public blog its own tunnel, the Mac's notes the Mac's, and keeps each CNAME named after the service", () => {
        const tunnels = ofType(run, "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared");
        assert.deepEqual(tunnels.map((t) => t.inputs.name).sort(), ["homelab-home", "homelab-home-nas"]);
        const configs = ofType(
            run,
            "cloudflare:index/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig",
        );
        const hostnames = configs.map((c) =>
            (c.inputs.config.ingresses as any[]).map((i) => i.hostname).filter(Boolean),
        );
        assert.deepEqual(hostnames.sort(), [["blog.example.dev"], ["notes.example.dev"]]);
        const cnames = ofType(run, "cloudflare:index/dnsRecord:DnsRecord").filter((r) => r.inputs.type === "CNAME");
        assert.deepEqual(cnames.map((r) => r.name).sort(), ["tunnel-blog-cname", "tunnel-notes-cname"]);
        // The NAS's cloudflared gets the NAS tunnel's token.
        const nasCloudflared = ofType(run, CONTAINER).find(
            (c) => c.inputs.name === "cloudflared" && providerOf(c) === "docker-engine-nas",
        ) as Registered;
        assert.ok(nasCloudflared.secretInputs.some((p) => p.startsWith("envs")));
    });

    it("private DNS still points every name at the edge host's tailnet address", () => {
        const a = ofType(run, "cloudflare:index/dnsRecord:DnsRecord").filter((r) => r.inputs.type === "A");
        for (const r of a.filter((x) => (x.inputs.name as string).includes("home.")))
            assert.equal(r.inputs.content, "100.101.102.103");
    });

    it("runs with preview=true (unknown ids) without crashing", async () => {
        const preview = await runProgram(TWO_HOSTS, { preview: true });
        assert.ok(ofType(preview, CONTAINER).length > 0);
    });
});

describe("more than one machine: the edge host's resources do not move", () => {
    it("adding homelab:hosts and a service there leaves every existing resource's URN and inputs as they were", async () => {
        const before = await runProgram(EXAMPLE);
        const cfg = clone(EXAMPLE);
        cfg["homelab:hosts"] = {
            nas: {
                docker: { host: "ssh://admin@nas", dataDir: "/srv/homelab" },
                tailnet: { ipv4: "100.101.102.110" },
                addresses: ["192.168.1.30"],
            },
        };
        cfg["homelab:services"] = {
            ...cfg["homelab:services"],
            media: { image: "jellyfin/jellyfin:10.10.7", port: 8096, host: "nas" },
        };
        const after = await runProgram(cfg);
        const afterByUrn = new Map(after.resources.map((r) => [r.urn, r]));
        for (const r of before.resources) {
            const now = afterByUrn.get(r.urn);
            assert.ok(now, `${r.urn} is still there`);
            if (r.type === CONTAINER || r.type === NETWORK)
                assert.deepEqual(now.inputs, r.inputs, `${r.name}: no change on the edge host`);
        }
    });

    it("a host with no service left has no networks and no containers", async () => {
        const cfg = clone(TWO_HOSTS);
        cfg["homelab:services"] = { dashboard: { apex: true, image: "glanceapp/glance:v0.7.13", port: 8080 } };
        const run = await runProgram(cfg);
        const onNas = run.resources.filter((r) => providerOf(r) === "docker-engine-nas");
        assert.deepEqual(onNas, []);
        assert.equal(ofType(run, "homelab:pki:HostsTls").length, 0, "no hosts CA without a gateway");
    });
});
