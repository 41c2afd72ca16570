// The Docker host and the edge under Pulumi's mocks: networks (segmented), images, containers,
// published ports, secret environment, the reload commands and their stdin bundles, and the
// promise that service-table and user changes only reload configs.
import { strict as assert } from "assert";
import * as path from "path";
import {
    EXAMPLE,
    ROOT,
    Registered,
    Run,
    clone,
    commandNamed,
    ofType,
    onLinux,
    readStackFile,
    runProgram,
    withDynamicWan,
} from "../harness";
import { dockerPlan, publishedPorts, serviceMounts } from "../../plan/docker";
import { caddyReloadEnvironment, unpackFiles } from "../../render/reload";
import { shellScript } from "../../render/shell";
import { renderAll } from "../../render/all";
import { validate } from "../../stacks/validate";
import versions from "../../render/versions.json";
import { rawConfigOf } from "../../stacks/stackFile";
import { CONTAINERS } from "../../stacks/layout";
import { RESERVED_NAMES } from "../../stacks/model";

const CONTAINER = "docker:index/container:Container";
const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";
const IMAGE = "docker:index/image:Image";
const NETWORK = "docker:index/network:Network";
const COMMAND = "command:local:Command";

/** Containers by their Docker name (not the Pulumi resource name). */
const containers = (run: Run) => new Map(ofType(run, CONTAINER).map((c) => [c.inputs.name as string, c]));
const cmd = commandNamed;
const raw = rawConfigOf;
const linux = () => onLinux();

describe("Docker host: example stack (Docker Desktop: the edge runs on the Mac)", () => {
    let run: Run;
    before(async () => {
        run = await runProgram(EXAMPLE);
        assert.equal(run.error, undefined, run.error?.message);
    });

    it("creates three networks from docker.subnet: private, public and edge (with a reserved range for fixed addresses), each with its gateway", () => {
        const nets = Object.fromEntries(ofType(run, NETWORK).map((n) => [n.inputs.name, n.inputs.ipamConfigs[0]]));
        assert.deepEqual(nets, {
            homelab: { subnet: "172.30.0.0/25", gateway: "172.30.0.1" },
            "homelab-public": { subnet: "172.30.0.128/26", gateway: "172.30.0.129" },
            "homelab-edge": { subnet: "172.30.0.192/26", ipRange: "172.30.0.224/27", gateway: "172.30.0.193" },
        });
        const [prov] = ofType(run, "pulumi:providers:docker");
        assert.equal(prov?.inputs.host, "unix:///var/run/docker.sock");
        for (const c of ofType(run, CONTAINER))
            assert.equal(c.provider?.split("::")[3], "docker-engine", `${c.name} uses the explicit Docker provider`);
    });

    it("segments: public services sit with cloudflared, never on the private network; only HAProxy and Caddy are on the edge network", () => {
        const c = containers(run);
        const on = (name: string) =>
            ((c.get(name) as Registered).inputs.networksAdvanced as any[]).map((n) => n.name).sort();
        assert.deepEqual(on("blog"), ["homelab-public"]);
        assert.deepEqual(
            on("ntfy"),
            ["homelab-public"],
            "private + public: still only public; Caddy joins public to reach it",
        );
        assert.deepEqual(on("cloudflared"), ["homelab-public"]);
        assert.deepEqual(on("jellyfin"), ["homelab"]);
        assert.deepEqual(on("cloud"), ["homelab"]);
        assert.deepEqual(on("caddy"), ["homelab", "homelab-edge", "homelab-public"]);
        assert.deepEqual(on("haproxy"), ["homelab-edge"]);
        const edgeMembers = [...c.values()]
            .filter((x) => x.inputs.networksAdvanced.some((n: any) => n.name === "homelab-edge"))
            .map((x) => x.inputs.name)
            .sort();
        assert.deepEqual(edgeMembers, ["caddy", "haproxy"]);
        const fixed = (name: string) =>
            (c.get(name) as Registered).inputs.networksAdvanced.find((n: any) => n.name === "homelab-edge").ipv4Address;
        assert.equal(fixed("haproxy"), "172.30.0.194");
        assert.equal(fixed("caddy"), "172.30.0.195");
        for (const x of c.values())
            for (const n of x.inputs.networksAdvanced)
                assert.deepEqual(n.aliases, [x.inputs.name], `${x.inputs.name} is known by its name`);
    });

    it("runs Caddy, the HAProxy relay, cloudflared and one container per managed service", () => {
        assert.deepEqual([...containers(run).keys()].sort(), [
            "auth",
            "blog",
            "caddy",
            "cloud",
            "cloudflared",
            "dashboard",
            "gatus",
            "haproxy",
            "home-assistant",
            "immich-ml",
            "immich-postgres",
            "immich-redis",
            "jellyfin",
            "ntfy",
            "photos",
            "prowlarr",
            "qbittorrent",
            "radarr",
            "seerr",
            "sonarr",
            "vault",
        ]);
        assert.deepEqual(containers(run).get("haproxy")?.parents, ["homelab:edge:Edge"]);
    });

    it("publishes only the relay's two ports, on the Mac's 127.0.0.1, and the ports a service asks for; nothing else", () => {
        for (const [name, c] of containers(run))
            if (name !== "haproxy" && name !== "qbittorrent")
                assert.equal(c.inputs.ports, undefined, `${name} publishes nothing`);
        const qb = (containers(run).get("qbittorrent") as Registered).inputs.ports
            .map((p: any) => `${p.ip}:${p.external}->${p.internal}/${p.protocol}`)
            .sort();
        assert.deepEqual(
            qb,
            ["0.0.0.0:6881->6881/tcp", "0.0.0.0:6881->6881/udp"],
            "every IPv4 address: one host address per port and protocol",
        );
        const ports = (containers(run).get("haproxy") as Registered).inputs.ports
            .map((p: any) => `${p.ip}:${p.external}->${p.internal}`)
            .sort();
        assert.deepEqual(ports, ["127.0.0.1:8443->8443", "127.0.0.1:9443->9443"]);
    });

    it("installs the native edge on the Mac through launchd, with its key only on stdin (secret)", () => {
        const native = cmd(run, "edge-native");
        assert.equal(native.inputs.environment.EDGE_DIR, "/Users/me/selfhost/edge");
        assert.equal(native.inputs.environment.LABEL, "dev.homelab.home.edge");
        assert.equal(native.inputs.environment.SSH_TARGET, undefined, "a unix:// engine: the commands run here");
        assert.match(native.inputs.create, /SCRIPT="\$APPLY"/);
        assert.match(native.inputs.delete, /SCRIPT="\$REMOVE"/);
        assert.ok(native.secretInputs.includes("stdin"), "the bundle carries the edge's secret: secret");
        const files = unpackFiles(native.inputs.stdin);
        assert.deepEqual(Object.keys(files).sort(), ["edge-secret.map", "edge.plist", "haproxy.cfg"]);
        assert.match(files["edge-secret.map"] as string, /^edge \S+\n$/);
        assert.match(files["haproxy.cfg"] as string, /bind :::443 v4v6/);
        const relay = cmd(run, "edge-haproxy-config");
        assert.ok(relay.secretInputs.includes("stdin"));
        assert.deepEqual(Object.keys(unpackFiles(relay.inputs.stdin)).sort(), ["edge-secret.sha256", "haproxy.cfg"]);
    });

    it("sets every override shell/edge-apply.sh reads, empty: the Pulumi process's own environment never stands in (found by review)", () => {
        const read = new Set([...shellScript("edge-apply").matchAll(/\$\{([A-Z_]+):-/g)].map((m) => m[1] as string));
        assert.ok(read.has("CHECK_ONLY") && read.has("LAUNCHCTL"), [...read].join(" "));
        for (const name of ["edge-native", "edge-native-check"]) {
            const env = cmd(run, name).inputs.environment;
            for (const v of read) assert.equal(env[v], "", `${name}: ${v}`);
        }
    });

    it("checks the native edge's new files on the Mac before the relay takes its new config", () => {
        const check = cmd(run, "edge-native-check");
        const native = cmd(run, "edge-native");
        assert.match(check.inputs.create, /SCRIPT="\$CHECK"/);
        assert.match(check.inputs.environment.CHECK, /^CHECK_ONLY=1\n/);
        assert.equal(check.inputs.delete, undefined, "nothing to undo");
        assert.equal(check.inputs.stdin, native.inputs.stdin, "the very files the edge will apply");
        assert.ok(check.secretInputs.includes("stdin"));
        assert.ok(check.options.additionalSecretOutputs.includes("stdin"));
        const relay = cmd(run, "edge-haproxy-config");
        assert.ok(relay.options.dependsOn.includes(check.urn), "the relay's config waits for the check");
        assert.equal(native.inputs.environment.CHECK, undefined, "the edge's own command is as it was");
    });

    it("gives secrets to containers only as secret environment", () => {
        const c = containers(run);
        const caddy = c.get("caddy") as Registered;
        assert.ok(caddy.secretInputs.includes("envs"), "Caddy's env (DNS-01 token) is secret");
        assert.deepEqual(caddy.inputs.envs, ["CLOUDFLARE_API_TOKEN=dns01-token-value-SECRET-7f3a"]);
        const cloudflared = c.get("cloudflared") as Registered;
        assert.ok(cloudflared.secretInputs.includes("envs"));
        assert.deepEqual(cloudflared.inputs.envs, ["TUNNEL_TOKEN=tunnel-connector-token-SECRET-9b1c"]);
        assert.ok(
            !JSON.stringify(cloudflared.inputs.command).includes("SECRET"),
            "the tunnel token is never on the command line",
        );
        const vault = c.get("vault") as Registered;
        assert.ok(vault.secretInputs.includes("envs"));
        assert.deepEqual(vault.inputs.envs, ["ADMIN_TOKEN=admin-token-SECRET-5e6f", "SIGNUPS_ALLOWED=false"]);
        // The DNS-01 token reaches Caddy and nothing else.
        const holders = run.resources
            .filter((r) => JSON.stringify(r.inputs).includes("dns01-token-value-SECRET"))
            .map((r) => r.inputs.name);
        assert.deepEqual(holders, ["caddy"]);
        for (const r of ofType(run, COMMAND)) {
            // The tunnel's connection cleanup has the bootstrap token, as a secret (test/secrets.test.ts).
            const env =
                r.name === "tunnel-connections-cleanup"
                    ? { ...r.inputs.environment, CLOUDFLARE_API_TOKEN: undefined }
                    : r.inputs.environment;
            // A PEM key block, not the words (the scripts grep for them to set a key's mode).
            assert.doesNotMatch(
                JSON.stringify(env),
                /SECRET|-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/,
                `${r.name}: no secret in the environment`,
            );
            assert.doesNotMatch(
                `${r.inputs.create}${r.inputs.update}`,
                /SECRET|-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/,
                `${r.name}: none on the command line`,
            );
        }
    });

    it("pins every image", () => {
        const remote = ofType(run, REMOTE_IMAGE).map((i) => i.inputs.name as string);
        assert.ok(remote.includes(versions.haproxyImage));
        assert.ok(remote.includes(versions.cloudflaredImage));
        for (const name of remote) assert.match(name, /:[\w][\w.-]*$|@sha256:/, `${name} has a tag`);
        for (const name of remote) assert.doesNotMatch(name, /:latest$/);
        const [caddyImage] = ofType(run, IMAGE);
        assert.match(caddyImage?.inputs.imageName, new RegExp(`homelab-caddy:${versions.caddy.replace(/\./g, "\\.")}`));
        assert.equal(caddyImage?.inputs.skipPush, true);
    });

    it("maps managed services' volumes, command and healthcheck", () => {
        const c = containers(run);
        assert.deepEqual((c.get("jellyfin") as Registered).inputs.volumes, [
            { hostPath: "/Users/me/selfhost/jellyfin", containerPath: "/config", readOnly: false },
            { hostPath: "/Users/me/media", containerPath: "/media", readOnly: true },
        ]);
        assert.deepEqual((c.get("ntfy") as Registered).inputs.command, ["serve"]);
        assert.deepEqual((c.get("vault") as Registered).inputs.healthcheck.tests, [
            "CMD",
            "curl",
            "-fsS",
            "http://localhost/alive",
        ]);
        for (const x of ofType(run, CONTAINER)) assert.equal(x.inputs.restart, "unless-stopped", x.name);
    });

    it("reloads Caddy through a command whose stdin carries the Caddyfile, the CA and one leaf per user", () => {
        const caddy = cmd(run, "caddy-reload");
        const files = unpackFiles(caddy.inputs.stdin);
        assert.deepEqual(Object.keys(files).sort(), ["Caddyfile", "ca.pem", "clients.pem"]);
        assert.match(files["Caddyfile"] as string, /cloud\.example\.dev/);
        assert.match(files["ca.pem"] as string, /BEGIN CERTIFICATE/);
        assert.equal(
            ((files["clients.pem"] as string).match(/BEGIN CERTIFICATE/g) ?? []).length,
            3,
            "one leaf per user",
        );
        assert.match(caddy.inputs.environment.APPLY, /"\$CADDY" reload/);
        assert.equal(caddy.inputs.environment.CADDYFILE, undefined, "nothing large travels in the environment");
        const haproxy = cmd(run, "edge-haproxy-config");
        assert.equal(haproxy.inputs.environment.IMAGE, versions.haproxyImage);
        assert.equal(haproxy.inputs.environment.DOCKER_HOST, "unix:///var/run/docker.sock");
    });
});

describe("Docker host: the example on Linux (the edge is a container)", () => {
    let run: Run;
    before(async () => {
        run = await runProgram(linux());
        assert.equal(run.error, undefined, run.error?.message);
    });

    it("publishes :80/:443 on the tailnet and the listed LAN address (where the router forwards :443) from the HAProxy container, which splits by source; no native edge, no edge secret", () => {
        const ports = (containers(run).get("haproxy") as Registered).inputs.ports.map(
            (p: any) => `${p.ip}:${p.external}->${p.internal}`,
        );
        assert.deepEqual(
            ports,
            ["100.101.102.103:80->80", "100.101.102.103:443->443", "192.168.1.20:80->10081", "192.168.1.20:443->10444"],
            "one host address per container port, in the order the provider reads them back",
        );
        assert.ok(!ofType(run, COMMAND).some((c) => c.name.endsWith("edge-native")), "no native edge");
        assert.equal(run.resources.filter((r) => r.type === "homelab:edge:EdgeKey").length, 0);
        const files = unpackFiles(cmd(run, "edge-haproxy-config").inputs.stdin);
        assert.deepEqual(Object.keys(files), ["haproxy.cfg"]);
        assert.match(files["haproxy.cfg"] as string, /use_backend caddy_plain if trusted !v4_embedded !self_conn/);
    });
});

describe("Docker host: the example on Linux with IPv6 (an engine that keeps IPv6 clients' addresses)", () => {
    let run: Run;
    before(async () => {
        const cfg = linux();
        cfg["homelab:tailnet"] = { ...cfg["homelab:tailnet"], ipv6: "fd7a:115c:a1e0::1234" };
        cfg["homelab:docker"].ip6tables = true;
        run = await runProgram(cfg);
        assert.equal(run.error, undefined, run.error?.message);
    });

    it("gives the edge network IPv6 (a ULA /64 with its gateway) and HAProxy a fixed IPv6 address in it", () => {
        const edge = ofType(run, NETWORK).find((n) => n.inputs.name === "homelab-edge") as Registered;
        assert.equal(edge.inputs.ipv6, true);
        assert.deepEqual(edge.inputs.ipamConfigs[1], {
            subnet: "fd68:6c62:ac1e:c0::/64",
            ipRange: "fd68:6c62:ac1e:c0::1:0/112",
            gateway: "fd68:6c62:ac1e:c0::1",
        });
        for (const n of ofType(run, NETWORK).filter((x) => x !== edge))
            assert.equal(n.inputs.ipv6, undefined, `${n.inputs.name}: IPv4 only`);
        const haproxy = containers(run).get("haproxy") as Registered;
        assert.equal(haproxy.inputs.networksAdvanced[0].ipv6Address, "fd68:6c62:ac1e:c0::2");
    });

    it("publishes :80/:443 on the tailnet's IPv6 address too, on container ports of its own; the private names get AAAA records", () => {
        const ports = (containers(run).get("haproxy") as Registered).inputs.ports.map(
            (p: any) => `${p.ip}:${p.external}->${p.internal}`,
        );
        assert.deepEqual(ports, [
            "100.101.102.103:80->80",
            "100.101.102.103:443->443",
            "192.168.1.20:80->10081",
            "fd7a:115c:a1e0::1234:80->10082",
            "192.168.1.20:443->10444",
            "fd7a:115c:a1e0::1234:443->10445",
        ]);
        const aaaa = ofType(run, "cloudflare:index/dnsRecord:DnsRecord")
            .filter((r) => r.inputs.type === "AAAA")
            .map((r) => `${r.inputs.name} ${r.inputs.content}`);
        assert.deepEqual(aaaa.sort(), [
            "*.home.example.dev fd7a:115c:a1e0::1234",
            "home.example.dev fd7a:115c:a1e0::1234",
        ]);
        const cfg = unpackFiles(cmd(run, "edge-haproxy-config").inputs.stdin)["haproxy.cfg"] as string;
        assert.match(cfg, /bind :::443,:::10444,:::10445 v4v6/);
        assert.match(
            cfg,
            /acl self_conn src [^\n]*fd7a:115c:a1e0::1234\/128/,
            "its own IPv6 address is not a trusted client either",
        );
    });
});

describe("Docker host: a Linux stack over SSH with no mtls and no public service (test/stacks/cabin.yaml)", () => {
    it("adds the host-gateway mapping, publishes on the tailnet address only, and runs no cloudflared (its public network stays, empty)", async () => {
        const cfg = readStackFile(path.join(ROOT, "test/stacks/cabin.yaml"));
        const svc = cfg["homelab:services"] as Record<string, any>;
        for (const s of Object.values(svc)) {
            s.expose = (s.expose ?? ["private"]).filter((p: string) => p !== "public");
            if (s.expose.length === 0) s.expose = ["private"];
            delete s.access;
        }
        const run = await runProgram(cfg, { stack: "cabin" });
        assert.equal(run.error, undefined, run.error?.message);
        const c = containers(run);
        assert.equal(c.has("cloudflared"), false);
        assert.deepEqual(
            ofType(run, NETWORK)
                .map((n) => n.inputs.name)
                .sort(),
            ["lab", "lab-edge", "lab-public"],
        );
        assert.deepEqual((c.get("caddy") as Registered).inputs.hosts, [
            { host: "host.docker.internal", ip: "host-gateway" },
        ]);
        const ports = (c.get("haproxy") as Registered).inputs.ports.map((p: any) => `${p.ip}:${p.external}`).sort();
        assert.deepEqual(ports, ["100.88.7.6:443", "100.88.7.6:80"]);
        const [prov] = ofType(run, "pulumi:providers:docker");
        assert.equal(prov?.inputs.host, "ssh://ops@cabin-nuc");
    });
});

describe("Docker host: a Mac reached over SSH", () => {
    it("runs the native edge's commands over the same SSH target as the Docker engine", async () => {
        const cfg = clone(EXAMPLE);
        cfg["homelab:docker"] = { ...cfg["homelab:docker"], host: "ssh://me@mac-mini.local:2222" };
        const run = await runProgram(cfg);
        assert.equal(run.error, undefined, run.error?.message);
        const native = cmd(run, "edge-native");
        assert.equal(native.inputs.environment.SSH_TARGET, "me@mac-mini.local");
        assert.equal(native.inputs.environment.SSH_PORT, "2222");
    });
});

describe("Docker host: changes reload in place", () => {
    it("a new service and a removed user change the reload commands, and no existing container's inputs", async () => {
        const before = await runProgram(EXAMPLE);
        const cfg = clone(EXAMPLE);
        (cfg["homelab:services"] as Record<string, any>)["wiki"] = {
            image: "ghcr.io/requarks/wiki:2.5.307",
            port: 3000,
            expose: ["private", "mtls"],
        };
        cfg["homelab:users"] = (cfg["homelab:users"] as any[]).filter((u) => u.name !== "sam");
        const after = await runProgram(cfg);
        assert.equal(after.error, undefined, after.error?.message);
        const a = containers(before);
        const b = containers(after);
        for (const [name, c] of a)
            assert.deepEqual(b.get(name)?.inputs, c.inputs, `${name} container inputs unchanged`);
        assert.ok(b.has("wiki"), "the new service gets its container");
        const files = (run: Run) => unpackFiles(cmd(run, "caddy-reload").inputs.stdin);
        assert.notEqual(files(after)["Caddyfile"], files(before)["Caddyfile"]);
        assert.notEqual(files(after)["clients.pem"], files(before)["clients.pem"]);
        assert.equal(((files(after)["clients.pem"] as string).match(/BEGIN CERTIFICATE/g) ?? []).length, 2);
    });
});

describe("Docker plan (pure)", () => {
    it("binds the tailnet and listed addresses on Linux whether or not a service is mtls (ports never follow the service table), never 0.0.0.0 or IPv6", () => {
        const split = publishedPorts(validate(raw(linux()))).map((p) => `${p.ip}:${p.external}`);
        const cfg = linux();
        (cfg["homelab:services"] as any).cloud.expose = ["private"];
        const unsplit = publishedPorts(validate(raw(cfg))).map((p) => `${p.ip}:${p.external}`);
        assert.deepEqual(split, unsplit);
        assert.deepEqual(split, ["100.101.102.103:80", "100.101.102.103:443", "192.168.1.20:80", "192.168.1.20:443"]);
        const internal = publishedPorts(validate(raw(linux()))).map((p) => p.internal);
        assert.equal(
            new Set(internal).size,
            internal.length,
            "each container port on one host address (Docker's order for several differs between versions)",
        );
        assert.ok(!split.some((p) => p.startsWith("0.0.0.0") || p.startsWith(":")));
    });

    it("refuses mtls on Linux without a listed address for the router's port forward, naming the key", () => {
        const cfg = linux();
        delete cfg["homelab:docker"].listenAddresses;
        assert.throws(
            () => validate(raw(cfg)),
            /homelab:docker\.listenAddresses: must list the host's LAN address that the router forwards :443 to, because service cloud exposes mtls/,
        );
    });

    it("reads named volumes and host paths", () => {
        const m = validate(raw(EXAMPLE));
        const s = m.services.find((x) => x.name === "jellyfin");
        assert.ok(s && s.kind === "managed");
        assert.deepEqual(serviceMounts({ ...s, volumes: ["media:/media:ro", "/a:/b"] }), [
            { volumeName: "media", containerPath: "/media", readOnly: true },
            { hostPath: "/a", containerPath: "/b", readOnly: false },
        ]);
    });

    it("is deterministic and lists every container once", () => {
        const m = validate(raw(EXAMPLE));
        assert.deepEqual(dockerPlan(m), dockerPlan(m));
        const names = dockerPlan(m).containers.map((c) => c.name);
        assert.equal(new Set(names).size, names.length);
    });
});

describe("the layout: one set of container names", () => {
    it("every fixed container is named and aliased from stacks/layout.ts, the reload and the relay reach them by those names, and they are the service names the stack reserves", () => {
        assert.deepEqual(Object.values(CONTAINERS).sort(), [...RESERVED_NAMES].sort());
        // A Mac runtime with a dynamic address and a public service: caddy, the relay, cloudflared, ddns.
        const m = validate(raw(withDynamicWan()));
        const fixed = dockerPlan(m).containers.filter((c) => c.role !== "service");
        assert.deepEqual(Object.fromEntries(fixed.map((c) => [c.role, c.name])), {
            caddy: CONTAINERS.caddy,
            relay: CONTAINERS.haproxy,
            cloudflared: CONTAINERS.cloudflared,
            ddns: CONTAINERS.ddns,
        });
        for (const c of fixed)
            for (const n of c.networks)
                if (n.key !== "bridge") assert.deepEqual(n.aliases, [c.name], `${c.name} on ${n.key}`);
        const env = caddyReloadEnvironment("native");
        assert.deepEqual([env["CONTAINER"], env["EDGE_CONTAINER"]], [CONTAINERS.caddy, CONTAINERS.haproxy]);
        assert.match(renderAll(m)["haproxy.cfg"] as string, new RegExp(`server caddy ${CONTAINERS.caddy}:8443 `));
    });
});
