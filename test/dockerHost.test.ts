// The Docker host under Pulumi's mocks: network, images, containers, published ports, secret
// environment, and the promise that service-table and user changes only reload configs.
import { strict as assert } from "assert";
import * as path from "path";
import { EXAMPLE, ROOT, Registered, Run, clone, ofType, readStackFile, runProgram } from "./harness";
import { publishedPorts, serviceVolumes } from "../components/dockerPlan";
import { validate } from "../stacks/validate";
import versions from "../render/versions.json";

const CONTAINER = "docker:index/container:Container";
const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";
const IMAGE = "docker:index/image:Image";
const NETWORK = "docker:index/network:Network";
const COMMAND = "command:local:Command";

const containers = (run: Run) => new Map(ofType(run, CONTAINER).map((c) => [c.name, c]));
const cmd = (run: Run, suffix: string) => ofType(run, COMMAND).find((c) => c.name.endsWith(suffix)) as Registered;

describe("Docker host: example stack", () => {
    let run: Run;
    before(async () => {
        run = await runProgram(EXAMPLE);
        assert.equal(run.error, undefined, run.error?.message);
    });

    it("creates the network with the configured subnet, and every container joins it under its own name", () => {
        const [net] = ofType(run, NETWORK);
        assert.equal(net?.inputs.name, "homelab");
        assert.equal(net?.inputs.ipamConfigs[0].subnet, "172.30.0.0/24");
        for (const c of ofType(run, CONTAINER)) {
            assert.equal(c.inputs.networksAdvanced.length, 1, c.name);
            assert.equal(c.inputs.networksAdvanced[0].name, "homelab", c.name);
            assert.deepEqual(c.inputs.networksAdvanced[0].aliases, [c.inputs.name], c.name);
            assert.deepEqual(c.parents, ["homelab:docker:DockerHost"], c.name);
            assert.equal(c.provider?.split("::")[3], "docker-engine", `${c.name} uses the explicit Docker provider`);
        }
        const [prov] = ofType(run, "pulumi:providers:docker");
        assert.equal(prov?.inputs.host, "unix:///var/run/docker.sock");
    });

    it("runs Caddy, HAProxy, cloudflared and one container per managed service", () => {
        const names = [...containers(run).keys()].sort();
        assert.deepEqual(names, [
            "blog", "caddy", "cloud", "cloudflared", "dashboard", "gatus", "haproxy", "home-assistant", "jellyfin",
            "ntfy", "prowlarr", "qbittorrent", "radarr", "seerr", "sonarr", "vault",
        ]);
    });

    it("publishes host ports only on HAProxy: :80/:443 on the tailnet addresses, the PROXY-protocol WAN port everywhere", () => {
        for (const c of ofType(run, CONTAINER)) if (c.name !== "haproxy") assert.equal(c.inputs.ports, undefined, `${c.name} publishes nothing`);
        const ports = (containers(run).get("haproxy") as Registered).inputs.ports.map((p: any) => `${p.ip}:${p.external}->${p.internal}`).sort();
        assert.deepEqual(ports, [
            "0.0.0.0:4443->4443", "100.101.102.103:443->443", "100.101.102.103:80->80",
            ":::4443->4443", "fd7a:115c:a1e0::1234:443->443", "fd7a:115c:a1e0::1234:80->80",
        ]);
    });

    it("gives secrets to containers only as secret environment", () => {
        const c = containers(run);
        const caddy = c.get("caddy") as Registered;
        assert.ok(caddy.secretInputs.includes("envs"), "Caddy's env (DNS-01 token) is secret");
        assert.deepEqual(caddy.inputs.envs, ["CLOUDFLARE_API_TOKEN=dns01-token-value-SECRET-7f3a"]);
        const cloudflared = c.get("cloudflared") as Registered;
        assert.ok(cloudflared.secretInputs.includes("envs"));
        assert.deepEqual(cloudflared.inputs.envs, ["TUNNEL_TOKEN=tunnel-connector-token-SECRET-9b1c"]);
        assert.ok(!JSON.stringify(cloudflared.inputs.command).includes("SECRET"), "the tunnel token is never on the command line");
        const vault = c.get("vault") as Registered;
        assert.ok(vault.secretInputs.includes("envs"));
        assert.deepEqual(vault.inputs.envs, ["ADMIN_TOKEN=admin-token-SECRET-5e6f", "SIGNUPS_ALLOWED=false"]);
        // The DNS-01 token reaches Caddy and nothing else.
        const holders = run.resources.filter((r) => JSON.stringify(r.inputs).includes("dns01-token-value-SECRET")).map((r) => r.name);
        assert.deepEqual(holders, ["caddy"]);
        for (const r of ofType(run, COMMAND)) assert.doesNotMatch(JSON.stringify(r.inputs), /SECRET/, `${r.name} carries no secret`);
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
        assert.deepEqual((c.get("vault") as Registered).inputs.healthcheck.tests, ["CMD", "curl", "-fsS", "http://localhost/alive"]);
        for (const x of ofType(run, CONTAINER)) assert.equal(x.inputs.restart, "unless-stopped", x.name);
    });

    it("reloads Caddy and HAProxy through commands that carry the rendered configs", () => {
        const caddy = cmd(run, "caddy-reload");
        assert.match(caddy.inputs.environment.CADDYFILE, /cloud\.example\.dev/);
        assert.match(caddy.inputs.environment.CA_PEM ?? "", /BEGIN CERTIFICATE/);
        assert.equal((caddy.inputs.environment.CLIENTS_PEM.match(/BEGIN CERTIFICATE/g) ?? []).length, 3, "one leaf per user");
        assert.match(caddy.inputs.create, /caddy" reload|\$CADDY" reload/);
        const haproxy = cmd(run, "haproxy-config");
        assert.match(haproxy.inputs.environment.HAPROXY_CFG, /send-proxy-v2/);
        assert.equal(haproxy.inputs.environment.IMAGE, versions.haproxyImage);
        assert.equal(haproxy.inputs.environment.DOCKER_HOST, "unix:///var/run/docker.sock");
    });
});

describe("Docker host: a Linux stack with no public service (test/stacks/cabin.yaml)", () => {
    it("adds the host-gateway mapping, publishes on the tailnet address only, and runs no cloudflared", async () => {
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
        assert.deepEqual((c.get("caddy") as Registered).inputs.hosts, [{ host: "host.docker.internal", ip: "host-gateway" }]);
        const ports = (c.get("haproxy") as Registered).inputs.ports.map((p: any) => `${p.ip}:${p.external}`).sort();
        assert.deepEqual(ports, ["100.88.7.6:443", "100.88.7.6:80"]);
        const [prov] = ofType(run, "pulumi:providers:docker");
        assert.equal(prov?.inputs.host, "ssh://ops@cabin-nuc");
    });
});

describe("Docker host: changes reload in place", () => {
    it("a new service and a removed user change the reload commands, and no existing container's inputs", async () => {
        const before = await runProgram(EXAMPLE);
        const cfg = clone(EXAMPLE);
        (cfg["homelab:services"] as Record<string, any>)["wiki"] = { image: "ghcr.io/requarks/wiki:2.5.307", port: 3000, expose: ["private", "mtls"] };
        cfg["homelab:users"] = (cfg["homelab:users"] as any[]).filter((u) => u.name !== "sam");
        const after = await runProgram(cfg);
        assert.equal(after.error, undefined, after.error?.message);
        const a = containers(before);
        const b = containers(after);
        for (const [name, c] of a) assert.deepEqual(b.get(name)?.inputs, c.inputs, `${name} container inputs unchanged`);
        assert.ok(b.has("wiki"), "the new service gets its container");
        assert.notEqual(cmd(after, "caddy-reload").inputs.environment.CADDYFILE, cmd(before, "caddy-reload").inputs.environment.CADDYFILE);
        assert.notEqual(cmd(after, "caddy-reload").inputs.environment.CLIENTS_PEM, cmd(before, "caddy-reload").inputs.environment.CLIENTS_PEM);
        assert.equal((cmd(after, "caddy-reload").inputs.environment.CLIENTS_PEM.match(/BEGIN CERTIFICATE/g) ?? []).length, 2);
    });
});

describe("Docker plan (pure)", () => {
    const raw = (c: Record<string, unknown>) => Object.fromEntries(Object.entries(c).filter(([k]) => k.startsWith("homelab:")).map(([k, v]) => [k.slice(8), v]));

    it("binds to 0.0.0.0 only when a service exposes mtls on a runtime that keeps client addresses", () => {
        const cfg = clone(EXAMPLE);
        cfg["homelab:wan"] = { publicIp: "203.0.113.7" };
        cfg["homelab:docker"] = { ...cfg["homelab:docker"], runtime: "linux" };
        const ports = publishedPorts(validate(raw(cfg))).map((p) => `${p.ip}:${p.external}`).sort();
        assert.deepEqual(ports, ["0.0.0.0:443", "0.0.0.0:80", ":::443", ":::80"]);
    });

    it("adds listed addresses to the tailnet binding when nothing is split", () => {
        const cfg = clone(EXAMPLE);
        (cfg["homelab:services"] as any).cloud.expose = ["private"];
        cfg["homelab:docker"] = { ...cfg["homelab:docker"], listenAddresses: ["192.168.1.20"] };
        const ports = publishedPorts(validate(raw(cfg))).map((p) => `${p.ip}:${p.external}`).sort();
        assert.deepEqual(ports, ["100.101.102.103:443", "100.101.102.103:80", "192.168.1.20:443", "192.168.1.20:80", "fd7a:115c:a1e0::1234:443", "fd7a:115c:a1e0::1234:80"]);
        assert.ok(!ports.some((p) => p.startsWith("0.0.0.0")));
    });

    it("reads named volumes and host paths", () => {
        const m = validate(raw(EXAMPLE));
        const s = m.services.find((x) => x.name === "jellyfin");
        assert.ok(s && s.kind === "managed");
        assert.deepEqual(serviceVolumes({ ...s, volumes: ["media:/media:ro", "/a:/b"] }), [
            { volumeName: "media", containerPath: "/media", readOnly: true },
            { hostPath: "/a", containerPath: "/b", readOnly: false },
        ]);
    });
});
