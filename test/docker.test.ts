// @docker: the engine tier (`mocha --config .mocharc.docker.json`). The stack's containers and
// networks on a real Docker engine, created from the same pure plan the Pulumi component uses
// (dockerPlan(model) → test/docker/apply.ts → Engine API), with its configs rendered by the
// production renderers and applied by the exact host-side scripts of render/reload.ts.
//
// What it proves, on Docker Engine 20.10 (Linux):
// - the plan is something Docker accepts and runs as written: networks (subnets, the edge ip range),
//   fixed addresses, aliases, published ports, binds and volumes, env, command, working dir,
//   host-gateway, restart, log options, an exec-form healthcheck;
// - HAProxy finds Caddy through Docker's DNS, also after Caddy's container is recreated (and Caddy
//   comes back on its autosaved config: --resume);
// - CADDY_RELOAD_ON_HOST and HAPROXY_RELOAD_ON_HOST change configs in place (same containers, a
//   stream survives), refuse a bad config with the binary's message and keep the old one serving,
//   and do nothing for identical files;
// - published ports bind where publishedPorts(model) says and nowhere else; no service publishes;
// - the public service's container can neither resolve nor reach the private services, and Caddy's
//   listeners are closed everywhere but on its edge address;
// - what source address Caddy sees through a published port on this engine;
// - with a further host (test/docker/hosts.ts: two engines with Docker's iptables on one tailnet):
//   Caddy reaches the NAS's services through its gateway, which answers nothing but Caddy's
//   certificate; the NAS's public container reaches neither its private ones nor, as a trusted
//   client, the edge; the NAS publishes the gateway alone, on its tailnet address alone.
//
// What it cannot prove:
// - the real images: Caddy, HAProxy and every service run in local stand-ins (the static Caddy
//   test build at the pinned version; Debian trixie's HAProxy 3.0 and busybox (sh, nc) in place of
//   haproxy:3.2.25-alpine, with the official entrypoint's behaviour; an echo server for every
//   service and cloudflared);
// - the Pulumi Docker provider plugin (test/docker/apply.ts maps the plan the way
//   components/containers.ts asks the provider to; the provider's own mapping is not exercised);
// - iptables: the engine runs with --iptables=false in a network namespace of its own, so there is
//   no DNAT (published ports go through docker-proxy, which hides the client's address; Docker on
//   Linux with iptables keeps it, which is what the container edge relies on) and no
//   DOCKER-ISOLATION chains (segmentation by address here comes from ip_forward=0 alone).
//
// The engine (test/docker/engine.ts) is private: its own dockerd, data root, exec root, socket,
// network and mount namespace; it is always stopped, also on failure, timeout or Ctrl-C.
import { CADDY_IMAGE_NAME } from "../plan/docker";
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { ChildProcess } from "child_process";
import { ContainerSpec, DockerPlan, LOG_DRIVER, dockerPlan, publishedPorts } from "../plan/docker";
import { renderContainerHaproxyCfg } from "../render/all";
import { HELD_LIMIT } from "../render/haproxy";
import { WHOAMI_PATH } from "../render/caddyfile";
import { caddyReloadEnvironment, packFiles } from "../render/reload";
import { ipIn } from "../stacks/net";
import versions from "../render/versions.json";
import { haproxy3Binary } from "./support/binaries";
import { containerArgs, networkArgs } from "../components/containers";
import { plan } from "./providers/semantics";
import { containerReadBack, networkReadBack, readBackInputs } from "./providers/fromEngine";
import { Engine, startEngine } from "./docker/engine";
import { V6Clients, v6Clients } from "./docker/v6clients";
import { hostsSuite } from "./docker/hosts";
import { monitorSuite } from "./docker/monitor";
import {
    ECHO_IMAGE,
    buildCaddyImage,
    buildEchoImage,
    buildHaproxyImage,
    buildStandIns,
    caddyTestBinary,
    echoBinary,
} from "./docker/images";
import {
    applyContainer,
    cliEquivalent,
    containerCreateBody,
    containerEnv,
    dummySecret,
    imageOf,
    inspectContainer,
    inspectNetwork,
    removeContainer,
} from "./docker/apply";
import {
    ADDR,
    HOSTS,
    Pki,
    Stack,
    V6,
    applyCaddyConfig,
    applyHaproxyConfig,
    bringUp,
    caddyBundle,
    caddyfileFor,
    clientsPem,
    curl,
    haproxyBundle,
    haproxyConfigDir,
    haproxyWriteOnly,
    makePki,
    newStack,
    serverNames,
    stackModel,
    startStream,
    tagServiceImages,
    waitFor,
} from "./docker/stack";

const ENABLED = process.env.HOMELAB_DOCKER_TIER === "1";
/** What `host-gateway` means on this engine (--bridge=none: no docker0 to take it from): the private network's gateway. */
const HOST_GATEWAY = "10.213.0.1";
const HOST_PORT = 18090;
const byPort = (a: { internal: number; ip: string }, b: { internal: number; ip: string }) =>
    a.internal - b.internal || a.ip.localeCompare(b.ip);

function log(line: string): void {
    console.log(`      » ${line}`);
}

if (ENABLED) {
    describe("@docker the stack on a real Docker engine, from the plan", function () {
        this.timeout(180_000);
        let engine: Engine;
        let stack: Stack;
        let pki: Pki;
        let dir: string;
        const started = Date.now();

        const inspect = (name: string) => inspectContainer(engine, name);
        const spec = (plan: DockerPlan, name: string) => plan.containers.find((c) => c.name === name) as ContainerSpec;
        const networkIp = async (container: string, network: string): Promise<string> =>
            (await inspect(container)).NetworkSettings.Networks[network].IPAddress;
        /** The echo binary's probe/lookup/get modes, in a container that runs the echo image. */
        const echoIn = async (container: string, ...args: string[]): Promise<string> =>
            (await engine.docker(["exec", container, "/echo", ...args], { timeoutMs: 20_000 })).stdout.trim();
        const probeIn = (container: string, target: string) => echoIn(container, "probe", target, "2000");
        /** A throwaway echo container in another container's network namespace (and its hosts file). */
        const inNetOf = async (container: string, ...args: string[]): Promise<string> => {
            const r = await engine.docker(["run", "--rm", "--network", `container:${container}`, ECHO_IMAGE, ...args], {
                timeoutMs: 30_000,
            });
            return r.stdout.trim();
        };
        /** Several probes from one throwaway container in `container`'s network namespace. */
        const probesFrom = async (container: string, targets: string[]): Promise<Record<string, string>> => {
            const script = targets.map((t) => `echo "$(/echo probe '${t}' 2000)"`).join("; ");
            const r = await engine.docker(
                ["run", "--rm", "--network", `container:${container}`, "--entrypoint", "sh", ECHO_IMAGE, "-c", script],
                { timeoutMs: 60_000 },
            );
            const lines = r.stdout.trim().split("\n");
            assert.equal(lines.length, targets.length, `probes from ${container}: ${r.stdout}${r.stderr}`);
            return Object.fromEntries(targets.map((t, i) => [t, lines[i] as string]));
        };
        const word = (probe: string) => probe.split(" ")[0];
        const logsOf = async (name: string) => {
            const r = await engine.docker(["logs", name]);
            return r.stdout + r.stderr;
        };
        const count = (text: string, needle: string) => text.split(needle).length - 1;
        const ids = async (): Promise<Record<string, string>> => {
            const list = await engine.api<{ Id: string; Names: string[] }[]>("GET", "/containers/json?all=true");
            return Object.fromEntries(list.map((c) => [(c.Names[0] as string).replace(/^\//, ""), c.Id]));
        };
        /** A network's gateway: the bridge's address on the host side (inspect omits it when Docker chose it). */
        const gatewayOf = async (network: string): Promise<string> => {
            const id = (await inspectNetwork(engine, network)).Id as string;
            const r = await engine.inNetns("ip", ["-4", "-o", "addr", "show", "dev", `br-${id.slice(0, 12)}`]);
            const m = /inet (\S+)\//.exec(r.stdout);
            if (!m) throw new Error(`no address on the bridge of ${network}: ${r.stdout}${r.stderr}`);
            return m[1] as string;
        };
        /** Published ports as Docker records them, in publishedPorts()' shape, in a stable order. */
        const portsOf = (bindings: Record<string, { HostIp: string; HostPort: string }[]> | null) =>
            Object.entries(bindings ?? {})
                .flatMap(([k, v]) =>
                    v.map((b) => ({
                        internal: Number(k.split("/")[0]),
                        external: Number(b.HostPort),
                        ip: b.HostIp,
                        protocol: k.split("/")[1],
                    })),
                )
                .sort(byPort);
        /** Listening TCP sockets in the engine's namespace: the published ports (docker-proxy). */
        const listeners = async (): Promise<string[]> => {
            const r = await engine.inNetns("ss", ["-Hltn"]);
            return r.stdout
                .split("\n")
                .filter(Boolean)
                .map((l) => l.trim().split(/\s+/)[3] as string)
                .sort();
        };
        /** EDGE_HOLD in the HAProxy container, as the host script runs it, and never released. */
        const holdUnreleased = async (seconds: number) => {
            const env = caddyReloadEnvironment(stack.model.edge);
            const vars = {
                MODE: "hold",
                ADMIN: env["EDGE_ADMIN"],
                HOLD_MAX: String(seconds),
                HOLD_COMMANDS: env["HOLD_COMMANDS"],
                RELEASE_COMMANDS: env["RELEASE_COMMANDS"],
            };
            const held = await engine.docker([
                "exec",
                ...Object.entries(vars).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
                "haproxy",
                "sh",
                "-c",
                env["HOLD"] as string,
            ]);
            assert.equal(held.status, 0, held.stderr);
        };
        const served = async (host: string, user?: string) => {
            const r = await curl(engine, pki, { host, ...(user ? { user } : {}) });
            return r.exit === 0 && r.status === 200 ? (JSON.parse(r.body).service as string) : undefined;
        };

        before(async function () {
            this.timeout(20 * 60_000); // the first run may build Caddy
            const caddyBin = caddyTestBinary();
            const echoBin = echoBinary();
            engine = await startEngine({
                hostGatewayIp: HOST_GATEWAY,
                // Names Docker's DNS does not know are forwarded upstream: to an address in the
                // engine's namespace where nothing answers (never to the host's resolver).
                dns: HOST_GATEWAY,
                loopbackAddresses: [ADDR.tailnet, ADDR.tailnetClient, ADDR.other, ADDR.listen].map((a) => `${a}/32`),
            });
            log(`engine: dockerd ${engine.pid} in its own namespaces, ${engine.host}`);
            await buildCaddyImage(engine, caddyBin, CADDY_IMAGE_NAME);
            await buildHaproxyImage(engine, haproxy3Binary(), versions.haproxyImage);
            await buildEchoImage(engine, echoBin);
            dir = path.join(engine.dir, "stack");
            const opts = { mtls: true, wiki: false, users: ["dave"] };
            const first = stackModel(dir, opts);
            const wiki = stackModel(dir, { ...opts, wiki: true });
            pki = makePki(
                path.join(dir, "pki"),
                path.join(first.docker.dataDir, "caddy/etc/server-certs"),
                serverNames(wiki),
                ["dave", "erin"],
            );
            stack = newStack(dir, opts, pki);
            fs.mkdirSync(path.join(dir, "media-files"), { recursive: true });
            fs.writeFileSync(path.join(dir, "media-files/hello.txt"), "hello from the host\n");
            await tagServiceImages(engine, [stack.plan, dockerPlan(wiki)]);
            log(`images built and tagged after ${((Date.now() - started) / 1000).toFixed(1)} s`);
            await bringUp(engine, stack);
            for (const n of stack.notes) log(`note: ${n}`);
            await waitFor(
                "HAProxy on :80",
                async () => (await curl(engine, pki, { host: HOSTS.cloud, http: true })).status === 301,
            );
            await waitFor("cloud through HAProxy and Caddy", () => served(HOSTS.cloud, "dave"));
            log(`stack up after ${((Date.now() - started) / 1000).toFixed(1)} s`);
        });

        after(function () {
            this.timeout(120_000);
            if (!engine) return;
            engine.stopSync();
            for (const n of engine.cleanupNotes) log(`cleanup: ${n}`);
            const left = engine.leftovers();
            log(`engine stopped; whole suite ${((Date.now() - started) / 1000).toFixed(1)} s`);
            assert.deepEqual(left, [], `the engine left things behind: ${left.join("; ")}`);
        });

        describe("1. the plan on the engine", () => {
            it("creates exactly the planned networks, with their subnets and the edge network's ip range", async () => {
                const custom = (await engine.api<{ Name: string; Driver: string }[]>("GET", "/networks")).filter(
                    (n) => !["bridge", "host", "none"].includes(n.Name),
                );
                assert.deepEqual(custom.map((n) => n.Name).sort(), stack.plan.networks.map((n) => n.name).sort());
                for (const n of stack.plan.networks) {
                    const info = await inspectNetwork(engine, n.name);
                    const cfg = info.IPAM.Config[0];
                    assert.equal(info.Driver, "bridge");
                    assert.equal(cfg.Subnet, n.subnet, `${n.name} subnet`);
                    assert.equal(cfg.IPRange || undefined, n.ipRange, `${n.name} ip range`);
                }
            });

            it("gives every network its gateway: the address the plan names, never a fixed address (Docker would otherwise choose, and 29+ report it)", async () => {
                for (const n of stack.plan.networks) {
                    const gw = await gatewayOf(n.name);
                    assert.equal(gw, n.gateway, `${n.name}: the bridge's address`);
                    assert.equal(
                        (await inspectNetwork(engine, n.name)).IPAM.Config[0].Gateway,
                        n.gateway,
                        `${n.name}: what Docker reports`,
                    );
                }
                const edge = stack.plan.networks.find((n) => n.key === "edge");
                assert.ok(
                    edge && ![stack.model.addresses.haproxy, stack.model.addresses.caddy].includes(edge.gateway),
                    "the gateway took a fixed address",
                );
            });

            it("creates every planned container as specified: image, command, working dir, env, mounts, ports, hosts, restart, log options, healthcheck", async () => {
                assert.deepEqual(Object.keys(await ids()).sort(), stack.plan.containers.map((c) => c.name).sort());
                for (const s of stack.plan.containers) {
                    const info = await inspect(s.name);
                    const want = containerCreateBody(s, dummySecret);
                    const what = (field: string) => `${s.name}: ${field}`;
                    assert.equal(info.State.Running, true, what("running"));
                    assert.equal(info.Config.Image, imageOf(s), what("image"));
                    if (s.command) assert.deepEqual(info.Config.Cmd, s.command, what("command"));
                    if (s.workingDir) assert.equal(info.Config.WorkingDir, s.workingDir, what("working dir"));
                    for (const e of containerEnv(s, dummySecret))
                        assert.ok((info.Config.Env as string[]).includes(e), what(`env ${e.split("=")[0]}`));
                    for (const k of Object.keys(s.secretEnv))
                        assert.ok(
                            (info.Config.Env as string[]).some((e) => e.startsWith(`${k}=dummy`)),
                            what(`secret env ${k}`),
                        );
                    assert.deepEqual(info.HostConfig.Binds ?? [], want.body.HostConfig.Binds, what("binds"));
                    for (const m of s.mounts) {
                        const got = (info.Mounts as any[]).find((x) => x.Destination === m.containerPath);
                        assert.ok(got, what(`mount ${m.containerPath}`));
                        assert.equal(got.Type, m.hostPath ? "bind" : "volume", what(`mount ${m.containerPath} type`));
                        if (m.hostPath) assert.equal(got.Source, m.hostPath, what(`mount ${m.containerPath} source`));
                        else assert.equal(got.Name, m.volumeName, what(`mount ${m.containerPath} volume`));
                        assert.equal(got.RW, !m.readOnly, what(`mount ${m.containerPath} read-only`));
                    }
                    assert.deepEqual(
                        info.HostConfig.PortBindings ?? {},
                        want.body.HostConfig.PortBindings,
                        what("published ports"),
                    );
                    assert.deepEqual(
                        info.HostConfig.ExtraHosts ?? [],
                        s.hosts.map((h) => `${h.host}:${h.ip}`),
                        what("extra hosts"),
                    );
                    assert.equal(info.HostConfig.RestartPolicy.Name, s.restart, what("restart"));
                    assert.deepEqual(
                        info.HostConfig.LogConfig,
                        { Type: LOG_DRIVER, Config: s.logOpts },
                        what("log options"),
                    );
                    if (s.healthcheck)
                        assert.deepEqual(info.Config.Healthcheck, want.body.Healthcheck, what("healthcheck"));
                    else assert.equal(info.Config.Healthcheck, undefined, what("no healthcheck"));
                }
                const media = cliEquivalent(spec(stack.plan, "media"), dummySecret);
                log(`the CLI could not say it as planned: ${media.differs.join("; ")}`);
            });

            it("attaches every container to its planned networks with its alias, and HAProxy and Caddy to their fixed edge addresses", async () => {
                const a = stack.model.addresses;
                for (const s of stack.plan.containers) {
                    const nets = (await inspect(s.name)).NetworkSettings.Networks;
                    assert.deepEqual(
                        Object.keys(nets).sort(),
                        s.networks.map((n) => n.name).sort(),
                        `${s.name}: networks`,
                    );
                    for (const n of s.networks) {
                        const got = nets[n.name];
                        for (const alias of n.aliases)
                            assert.ok(got.Aliases.includes(alias), `${s.name}: alias ${alias} on ${n.name}`);
                        const subnet = stack.plan.networks.find((x) => x.name === n.name)?.subnet as string;
                        assert.ok(ipIn(got.IPAddress, subnet), `${s.name}: ${got.IPAddress} in ${subnet}`);
                        if (n.ipv4Address)
                            assert.equal(got.IPAddress, n.ipv4Address, `${s.name}: fixed address on ${n.name}`);
                    }
                }
                const edge = stack.plan.networks.find((n) => n.key === "edge")?.name as string;
                assert.equal(await networkIp("haproxy", edge), a.haproxy);
                assert.equal(await networkIp("caddy", edge), a.caddy);
                const onEdge = Object.values(
                    (await inspectNetwork(engine, edge)).Containers as Record<string, { Name: string }>,
                ).map((c) => c.Name);
                assert.deepEqual(onEdge.sort(), ["caddy", "haproxy"]);
            });

            it("runs the planned exec-form healthcheck: the service becomes healthy", async () => {
                const status = await waitFor("media healthy", async () => {
                    const s = (await inspect("media")).State.Health?.Status;
                    return s === "healthy" ? s : undefined;
                });
                assert.equal(status, "healthy");
            });

            it("mounts the host directory read-only and the named volume writable", async () => {
                assert.equal(
                    (await engine.docker(["exec", "media", "cat", "/media/hello.txt"])).stdout,
                    "hello from the host\n",
                );
                const write = await engine.docker(["exec", "media", "sh", "-c", "echo x > /media/new"]);
                assert.notEqual(write.status, 0);
                assert.match(write.stderr, /Read-only file system/);
                assert.equal(
                    (await engine.docker(["exec", "media", "sh", "-c", "echo x > /cache/new && cat /cache/new"]))
                        .stdout,
                    "x\n",
                );
            });

            it("HAProxy reaches Caddy by name through Docker's DNS: a request on the published port gets the mtls service", async () => {
                assert.equal(await inNetOf("haproxy", "lookup", "caddy"), stack.model.addresses.caddy);
                const r = await curl(engine, pki, { host: HOSTS.cloud, user: "dave" });
                assert.equal(r.status, 200, r.verbose.slice(-500));
                assert.equal(JSON.parse(r.body).service, "cloud");
            });

            it("keeps reaching Caddy after Caddy's container is recreated from the same spec, on Caddy's autosaved config", async () => {
                const before = (await ids())["caddy"];
                const t0 = Date.now();
                await removeContainer(engine, "caddy");
                await applyContainer(engine, spec(stack.plan, "caddy"));
                // No reload here: --resume must bring the last config back by itself.
                await waitFor("cloud through the recreated Caddy", () => served(HOSTS.cloud, "dave"), 30_000);
                const after = (await ids())["caddy"];
                assert.notEqual(after, before);
                assert.match(await logsOf("caddy"), /resuming from last configuration/);
                log(`requests through HAProxy succeed again ${Date.now() - t0} ms after the remove started`);
            });
        });

        describe("1b. what Docker reports back, read as the Docker provider reads it", () => {
            // The provider's read functions (test/providers/fromEngine.ts) on this engine's inspect
            // output, planned against the inputs the program gives the provider: no change. A form
            // Docker reports differently from what the program wrote (ports in another order, swap,
            // Go durations, a gateway) would replace the container or network on every run.
            it("every container: ports, memory and swap, healthcheck timings, log driver and options", async () => {
                const networks = Object.fromEntries(stack.plan.networks.map((n) => [n.key, n.name]));
                for (const s of stack.plan.containers) {
                    const inputs = readBackInputs(
                        containerArgs(
                            s,
                            imageOf(s),
                            { ...networks, bridge: "bridge" },
                            { secrets: {}, dnsToken: "x", tunnelToken: "x", ddnsToken: "x" },
                        ) as Record<string, any>,
                    );
                    const state = { ...inputs, ...containerReadBack(await inspect(s.name), inputs) };
                    const p = plan("docker:index/container:Container", state, inputs);
                    assert.deepEqual(p.diffs, [], `${s.name}: Docker reported ${JSON.stringify(state)}`);
                }
                const media = containerReadBack(await inspect("media"), { ports: undefined });
                log(
                    `media as read back: memory ${media.memory} MiB, swap ${media.memorySwap} MiB, healthcheck every ${media.healthcheck?.interval}`,
                );
                assert.equal(
                    media.memorySwap,
                    media.memory * 2,
                    "swap given as twice the memory, as Docker would set it",
                );
            });

            it("every network: subnet, ip range and gateway", async () => {
                for (const n of stack.plan.networks) {
                    const inputs = networkArgs(n) as Record<string, any>;
                    const state = { ...inputs, ...networkReadBack(await inspectNetwork(engine, n.name)) };
                    assert.deepEqual(
                        plan("docker:index/network:Network", state, inputs).diffs,
                        [],
                        `${n.name}: Docker reported ${JSON.stringify(state.ipamConfigs)}`,
                    );
                }
            });
        });

        describe("3. published ports (the stack with an mtls service)", () => {
            it("HAProxy publishes exactly publishedPorts(model) and no other container publishes anything", async () => {
                const planned = publishedPorts(stack.model);
                assert.deepEqual(
                    planned.map((p) => `${p.ip}:${p.external}`),
                    [`${ADDR.tailnet}:80`, `${ADDR.tailnet}:443`, `${ADDR.listen}:80`, `${ADDR.listen}:443`],
                    "the tailnet and listed addresses, also with an mtls service: never 0.0.0.0",
                );
                for (const s of stack.plan.containers) {
                    const bindings = (await inspect(s.name)).HostConfig.PortBindings ?? {};
                    if (s.name === "haproxy") {
                        assert.deepEqual(portsOf(bindings), [...planned].sort(byPort));
                    } else {
                        assert.deepEqual(bindings, {}, `${s.name} publishes ${JSON.stringify(bindings)}`);
                    }
                }
                assert.deepEqual(
                    await listeners(),
                    [`${ADDR.listen}:443`, `${ADDR.listen}:80`, `${ADDR.tailnet}:443`, `${ADDR.tailnet}:80`].sort(),
                    "IPv4 only: Docker's proxy would hand every IPv6 client over as one gateway address",
                );
            });

            it("answers :80 on the tailnet and listed addresses, redirecting to HTTPS, and nowhere else: not on other host addresses, not on IPv6", async () => {
                for (const dest of [ADDR.tailnet, ADDR.listen]) {
                    const r = await curl(engine, pki, { host: HOSTS.cloud, http: true, dest });
                    assert.equal(r.status, 301, `${dest}: ${r.verbose.slice(-300)}`);
                }
                for (const dest of ["127.0.0.1", ADDR.other, "::1"]) {
                    const r = await curl(engine, pki, { host: HOSTS.cloud, http: true, dest, maxTime: 5 });
                    assert.equal(r.exit, 7, `${dest}: nothing listens (exit ${r.exit})`);
                }
            });
        });

        describe("2. configuration changes through the host-side scripts", () => {
            let before: Record<string, string>;
            const withWiki = () => stackModel(dir, { mtls: true, wiki: true, users: ["dave", "erin"] });
            const etc = () => path.join(stack.model.docker.dataDir, "caddy/etc");

            it("Caddy: a new service and a new user apply in place, and a stream started before the reload completes", async () => {
                const next = withWiki();
                await applyContainer(engine, spec(dockerPlan(next), "wiki")); // a new service: a new container first
                before = await ids();
                assert.equal(await served(HOSTS.wiki, "dave"), undefined, "wiki served before its Caddyfile");
                assert.equal(await served(HOSTS.cloud, "erin"), undefined, "erin served before the allowlist has her");
                const stream = startStream(engine, pki, {
                    host: HOSTS.cloud,
                    user: "dave",
                    path: "/stream?n=12&ms=300",
                });
                await stream.started;
                const r = await applyCaddyConfig(engine, next, caddyBundle(next, pki));
                assert.equal(r.status, 0, r.stderr);
                stack = { ...stack, model: next, plan: dockerPlan(next) };
                const s = await stream.done;
                assert.equal(s.exit, 0, s.verbose.slice(-500));
                assert.match(s.body, /chunk 11 from cloud\ndone\n$/);
                assert.equal(await served(HOSTS.wiki, "dave"), "wiki");
                assert.equal(await served(HOSTS.cloud, "erin"), "cloud");
                assert.deepEqual(await ids(), before, "containers replaced");
                assert.equal(fs.readFileSync(path.join(etc(), "Caddyfile"), "utf8"), caddyfileFor(next));
                assert.equal(
                    fs.readFileSync(path.join(etc(), "pki/clients.pem"), "utf8"),
                    clientsPem(pki, ["dave", "erin"]),
                );
            });

            it("Caddy: identical files change nothing (Caddy reports its config unchanged)", async () => {
                const config = async () =>
                    (await engine.docker(["exec", "caddy", "wget", "-q", "-O", "-", "http://localhost:2019/config/"]))
                        .stdout;
                const cfgBefore = await config();
                const unchangedBefore = count(await logsOf("caddy"), "config is unchanged");
                const r = await applyCaddyConfig(engine, stack.model, caddyBundle(stack.model, pki));
                assert.equal(r.status, 0, r.stderr);
                assert.equal(count(await logsOf("caddy"), "config is unchanged"), unchangedBefore + 1);
                assert.equal(await config(), cfgBefore);
                assert.deepEqual(await ids(), before);
            });

            it("Caddy: the reload holds new connections at HAProxy (its admin socket on the container's loopback, reached with nc inside the container: busybox's in the stand-in): a request sent meanwhile waits and is served", async () => {
                const t0 = Date.now();
                const reload = applyCaddyConfig(engine, stack.model, caddyBundle(stack.model, pki), { SETTLE: "3" });
                // Held: HAProxy itself reports the frontend's limit as 0.
                const limit = async () => {
                    const r = await engine.docker([
                        "exec",
                        "haproxy",
                        "sh",
                        "-c",
                        "echo 'show stat' | nc 127.0.0.1 9999",
                    ]);
                    return r.stdout
                        .split("\n")
                        .find((l) => l.startsWith("https,FRONTEND,"))
                        ?.split(",")[6];
                };
                await waitFor("the hold", async () => (await limit()) === "0");
                const during = Date.now();
                assert.equal(await served(HOSTS.cloud, "dave"), "cloud", "served, not refused");
                const waited = Date.now() - during;
                const r = await reload;
                assert.equal(r.status, 0, r.stderr);
                assert.doesNotMatch(r.stderr, /homelab:/, "the hold was taken and released without a word");
                assert.ok(waited >= 1500, `the request waited for the release (${waited} ms)`);
                log(`a request during a 3 s hold waited ${waited} ms; the whole apply took ${Date.now() - t0} ms`);
                assert.equal(await limit(), String(HELD_LIMIT.edge), "released to the config's own limit");
            });

            it("Caddy: a hold nobody releases (a crashed run) ends by itself: its watchdog outlives the docker exec that took it", async () => {
                await holdUnreleased(3);
                const t = Date.now();
                assert.equal(await served(HOSTS.cloud, "dave"), "cloud");
                const waited = Date.now() - t;
                assert.ok(waited >= 1500 && waited < 8000, `released by the watchdog after ${waited} ms`);
            });

            it("HAProxy: a config change waits for a Caddy reload's hold to end before reloading HAProxy (a reload would end the hold early)", async () => {
                await holdUnreleased(3);
                const t = Date.now();
                const cfg = renderContainerHaproxyCfg(stack.model);
                const r = await applyHaproxyConfig(
                    engine,
                    stack.model,
                    haproxyBundle(stack.model, `${cfg}# a change\n`),
                );
                const waited = Date.now() - t;
                assert.equal(r.status, 0, r.stderr);
                assert.match(r.stdout, /reloaded softly/);
                assert.ok(waited >= 2000, `the reload waited for the hold (${waited} ms)`);
                log(`an HAProxy config change during a 3 s hold waited ${waited} ms`);
                const back = await applyHaproxyConfig(engine, stack.model, haproxyBundle(stack.model));
                assert.equal(back.status, 0, back.stderr);
                await waitFor("cloud after the HAProxy reloads", () => served(HOSTS.cloud, "dave"));
            });

            it("Caddy: a bad Caddyfile is refused with Caddy's message; the files roll back and the old config keeps serving", async () => {
                const files = ["Caddyfile", "pki/ca.pem", "pki/clients.pem"];
                const snapshot = files.map((f) => fs.readFileSync(path.join(etc(), f), "utf8"));
                const bad = caddyfileFor(stack.model) + "\nbogus.example.dev {\n\tnot_a_directive\n}\n";
                // With erin removed from the allowlist in the same bundle: the PEMs must roll back too.
                const bundle = caddyBundle(stackModel(dir, { mtls: true, wiki: true, users: ["dave"] }), pki, {
                    caddyfile: bad,
                });
                const r = await applyCaddyConfig(engine, stack.model, bundle);
                assert.notEqual(r.status, 0);
                assert.match(r.stderr, /not_a_directive/);
                assert.match(r.stderr, /caddy reload failed: the previous configuration is still serving/);
                log(
                    `caddy's message: ${r.stderr
                        .split("\n")
                        .find((l) => l.includes("not_a_directive"))
                        ?.trim()}`,
                );
                assert.deepEqual(
                    files.map((f) => fs.readFileSync(path.join(etc(), f), "utf8")),
                    snapshot,
                );
                assert.deepEqual(
                    fs.readdirSync(etc()).filter((f) => f.endsWith(".prev") || f === ".incoming"),
                    [],
                );
                assert.equal(await served(HOSTS.wiki, "dave"), "wiki");
                assert.equal(await served(HOSTS.cloud, "erin"), "cloud");
                assert.deepEqual(await ids(), before);
            });

            it("HAProxy: a changed haproxy.cfg is checked, written and soft-reloaded in place; the old worker finishes its stream", async () => {
                const haproxyBefore = await inspect("haproxy");
                const workersBefore = count(await logsOf("haproxy"), "New worker");
                // The edge without the split (as with no mtls service): every connection goes to
                // Caddy's plain listener, whose guard refuses clients that are not trusted, and
                // on this engine every client looks untrusted (test 6), so the change is visible.
                const noSplit = renderContainerHaproxyCfg(
                    stackModel(dir, { mtls: false, wiki: true, users: ["dave", "erin"] }),
                );
                assert.notEqual(noSplit, renderContainerHaproxyCfg(stack.model));
                const stream = startStream(engine, pki, {
                    host: HOSTS.cloud,
                    user: "dave",
                    path: "/stream?n=12&ms=300",
                });
                try {
                    await stream.started;
                    const r = await applyHaproxyConfig(engine, stack.model, haproxyBundle(stack.model, noSplit));
                    assert.equal(r.status, 0, r.stderr);
                    await waitFor(
                        "the new worker",
                        async () => count(await logsOf("haproxy"), "New worker") === workersBefore + 1,
                        15_000,
                    );
                    await waitFor(
                        "the no-split config in effect",
                        async () => (await served(HOSTS.cloud, "dave")) === undefined,
                        15_000,
                    );
                    // Now strictly: every new request lands on the plain listener and is refused
                    // there, the whoami path included.
                    for (let i = 0; i < 3; i++)
                        assert.equal(
                            await served(HOSTS.cloud, "dave"),
                            undefined,
                            "an untrusted client was served on the plain listener",
                        );
                    const who = await curl(engine, pki, { host: HOSTS.cloud, user: "dave", path: WHOAMI_PATH });
                    assert.notEqual(who.status, 200, `the plain listener answered an untrusted client: ${who.body}`);
                    const s = await stream.done;
                    assert.equal(s.exit, 0, s.verbose.slice(-500));
                    assert.match(s.body, /chunk 11 from cloud\ndone\n$/);
                    const after = await inspect("haproxy");
                    assert.equal(after.Id, haproxyBefore.Id);
                    assert.equal(after.State.Pid, haproxyBefore.State.Pid, "HAProxy's master (PID 1) was replaced");
                    const cfgFile = path.join(haproxyConfigDir(stack.model), "haproxy.cfg");
                    assert.equal(fs.readFileSync(cfgFile, "utf8"), noSplit);
                    const st = fs.statSync(cfgFile);
                    assert.equal(st.mode & 0o777, 0o640);
                    assert.equal(st.gid, 99, "haproxy.cfg belongs to the haproxy group");
                } finally {
                    stream.child.kill("SIGKILL");
                    // And back, the same way (also when the test failed, so the next ones start clean).
                    const back = await applyHaproxyConfig(engine, stack.model, haproxyBundle(stack.model));
                    assert.equal(back.status, 0, back.stderr);
                    await waitFor("the split config back", () => served(HOSTS.cloud, "dave"), 15_000);
                }
                assert.deepEqual(await ids(), before);
            });

            it("HAProxy: identical files: HAPROXY_WRITE prints `unchanged` and no reload is signalled", async () => {
                const write = await haproxyWriteOnly(engine, stack.model, haproxyBundle(stack.model));
                assert.equal(write.status, 0, write.stderr);
                assert.equal(write.stdout.trim(), "unchanged");
                const workers = count(await logsOf("haproxy"), "New worker");
                const r = await applyHaproxyConfig(engine, stack.model, haproxyBundle(stack.model));
                assert.equal(r.status, 0, r.stderr);
                assert.equal(
                    r.stdout,
                    "haproxy config: unchanged\n",
                    "the host script says nothing changed, and signals nothing",
                );
                await new Promise((res) => setTimeout(res, 1500));
                assert.equal(count(await logsOf("haproxy"), "New worker"), workers, "HAProxy was reloaded");
            });

            it("HAProxy: what HAPROXY_WRITE leaves is HAProxy's to read (the config 0640 group haproxy, a key 0600 owned by haproxy), and a file the next bundle lacks goes", async () => {
                const dir = haproxyConfigDir(stack.model);
                const key = "-----BEGIN PRIVATE KEY-----\nnot a real key\n-----END PRIVATE KEY-----\n";
                const cfgOnly = { "haproxy.cfg": renderContainerHaproxyCfg(stack.model) };
                try {
                    const write = await haproxyWriteOnly(
                        engine,
                        stack.model,
                        packFiles({ ...cfgOnly, "gateway.pem": key }),
                    );
                    assert.equal(write.status, 0, write.stderr);
                    const cfg = fs.statSync(path.join(dir, "haproxy.cfg"));
                    assert.equal(cfg.mode & 0o777, 0o640);
                    assert.equal(cfg.gid, 99, "group haproxy (the image's gid 99)");
                    const k = fs.statSync(path.join(dir, "gateway.pem"));
                    assert.equal(k.mode & 0o777, 0o600, "a key is not readable by the group");
                    assert.equal(k.uid, 99, "owned by the image's haproxy user");
                    const again = await haproxyWriteOnly(engine, stack.model, packFiles(cfgOnly));
                    assert.equal(again.status, 0, again.stderr);
                    assert.equal(again.stdout.trim(), "changed");
                    assert.equal(fs.existsSync(path.join(dir, "gateway.pem")), false, "no key left behind");
                } finally {
                    fs.rmSync(path.join(dir, "gateway.pem"), { force: true });
                    // WRITE alone leaves a reload owed (HAPROXY_RELOAD_ON_HOST would send it); the
                    // files left are the ones the running HAProxy has, so none is owed here.
                    fs.rmSync(path.join(dir, ".reload-pending"), { force: true });
                }
            });

            it("HAProxy: a bad haproxy.cfg is refused with HAProxy's message; the old file stays and keeps serving", async () => {
                const cfgFile = path.join(haproxyConfigDir(stack.model), "haproxy.cfg");
                const old = fs.readFileSync(cfgFile, "utf8");
                const workers = count(await logsOf("haproxy"), "New worker");
                const bad =
                    renderContainerHaproxyCfg(stack.model) +
                    "\nfrontend broken\n    bind :8081\n    not_a_keyword here\n";
                const r = await applyHaproxyConfig(engine, stack.model, haproxyBundle(stack.model, bad));
                assert.notEqual(r.status, 0);
                assert.match(r.stderr, /not_a_keyword/);
                assert.match(r.stderr, /haproxy rejected the new configuration: the previous one is still serving/);
                log(
                    `haproxy's message: ${r.stderr
                        .split("\n")
                        .find((l) => l.includes("not_a_keyword"))
                        ?.trim()}`,
                );
                assert.equal(fs.readFileSync(cfgFile, "utf8"), old);
                assert.deepEqual(fs.readdirSync(haproxyConfigDir(stack.model)), ["haproxy.cfg"]);
                assert.equal(count(await logsOf("haproxy"), "New worker"), workers);
                assert.equal(await served(HOSTS.cloud, "dave"), "cloud");
                assert.deepEqual(await ids(), before);
            });
        });

        describe("4. segmentation", () => {
            it("the public service resolves no private service, nor HAProxy; it resolves its own network's names", async () => {
                // Docker's DNS has no record for them on the public network; it forwards the query
                // upstream, where nothing answers here (a real upstream would say NXDOMAIN).
                const names = ["media", "cloud", "wiki", "haproxy"];
                const answers = await Promise.all(names.map((name) => echoIn("blog", "lookup", name)));
                names.forEach((name, i) =>
                    assert.equal(word(answers[i] as string), "noname", `blog resolved ${name}: ${answers[i]}`),
                );
                const publicSubnet = stack.model.addresses.public;
                for (const name of ["cloudflared", "caddy"]) {
                    const r = await echoIn("blog", "lookup", name);
                    assert.ok(ipIn(r, publicSubnet), `${name} → ${r}, not in ${publicSubnet}`);
                }
            });

            it("the public service cannot connect to a private service's address", async () => {
                const privateNet = stack.plan.networks.find((n) => n.key === "private")?.name as string;
                const mediaIp = await networkIp("media", privateNet);
                const fwd = (await engine.inNetns("cat", ["/proc/sys/net/ipv4/ip_forward"])).stdout.trim();
                const r = await probeIn("blog", `${mediaIp}:8080`);
                log(`blog → media ${mediaIp}:8080 with ip_forward=${fwd} and no iptables: ${r}`);
                assert.notEqual(word(r), "connected");
                assert.ok(["unreachable", "timeout"].includes(word(r) as string), r);
                // Control: the same probe from a container on the private network connects.
                assert.equal(word(await inNetOf("caddy", "probe", `${mediaIp}:8080`, "2000")), "connected");
                // Real Docker on Linux (iptables on) sets ip_forward=1 itself and relies on its
                // DOCKER-ISOLATION-STAGE-1/-2 chains to drop traffic between bridge networks;
                // the next test shows that without them forwarding alone connects the networks.
            });

            it("(recorded) with forwarding on and no isolation rules, the networks are connected: segmentation by address is Docker's iptables", async () => {
                const privateNet = stack.plan.networks.find((n) => n.key === "private")?.name as string;
                const mediaIp = await networkIp("media", privateNet);
                const set = (v: string) => engine.inNetns("sh", ["-c", `echo ${v} > /proc/sys/net/ipv4/ip_forward`]);
                try {
                    assert.equal((await set("1")).status, 0);
                    const r = await probeIn("blog", `${mediaIp}:8080`);
                    log(`blog → media ${mediaIp}:8080 with ip_forward=1 and no iptables: ${r}`);
                    assert.equal(word(r), "connected");
                } finally {
                    await set("0");
                }
                assert.equal((await engine.inNetns("cat", ["/proc/sys/net/ipv4/ip_forward"])).stdout.trim(), "0");
            });

            it("Caddy's listeners are closed on every address but its edge address", async () => {
                const nets = (await inspect("caddy")).NetworkSettings.Networks as Record<string, { IPAddress: string }>;
                const edgeIp = stack.model.addresses.caddy;
                const others = Object.values(nets)
                    .map((n) => n.IPAddress)
                    .filter((ip) => ip !== edgeIp);
                assert.equal(others.length, 2, "Caddy should be on the private and public networks too");
                // From the public service: its Caddy is the public-network address.
                for (const port of [8443, 9443, 2019])
                    assert.equal(word(await probeIn("blog", `caddy:${port}`)), "refused", `blog → caddy:${port}`);
                const byIp = await Promise.all(
                    [edgeIp, ...others].map(async (ip) => [ip, await probeIn("blog", `${ip}:8443`)] as const),
                );
                for (const [ip, r] of byIp) {
                    log(`blog → Caddy ${ip}:8443: ${r}`);
                    assert.notEqual(word(r), "connected", `blog → ${ip}:8443: ${r}`);
                }
                // Inside Caddy's own network namespace: only the edge address listens (default_bind).
                const inside = await probesFrom(
                    "caddy",
                    [8443, 9443].flatMap((port) => [edgeIp, ...others, "127.0.0.1"].map((ip) => `${ip}:${port}`)),
                );
                for (const [target, r] of Object.entries(inside))
                    assert.equal(
                        word(r),
                        target.startsWith(`${edgeIp}:`) ? "connected" : "refused",
                        `inside Caddy, ${target}: ${r}`,
                    );
                // Control: HAProxy reaches the listeners by name.
                assert.equal(word(await inNetOf("haproxy", "probe", "caddy:8443", "2000")), "connected");
            });
        });

        describe("5. host gateway", () => {
            let hostProcess: ChildProcess | undefined;
            after(async () => {
                const p = hostProcess;
                if (!p || p.exitCode !== null || p.signalCode !== null) return;
                const exited = new Promise((r) => p.once("exit", r));
                p.kill("SIGKILL");
                await exited;
            });

            it("host.docker.internal resolves inside Caddy and the services (runtime linux adds host-gateway) and reaches a process on the host; HAProxy has no such entry", async () => {
                assert.deepEqual(spec(stack.plan, "caddy").hosts, [
                    { host: "host.docker.internal", ip: "host-gateway" },
                ]);
                // With --bridge=none there is no docker0 to take host-gateway from (Docker writes
                // "<nil>" then); the engine is started with the private network's gateway instead.
                const privateNet = stack.plan.networks.find((n) => n.key === "private")?.name as string;
                assert.equal(await gatewayOf(privateNet), HOST_GATEWAY);
                // A process on the host side, in the engine's namespace (never on the real host).
                hostProcess = engine.spawnInNetns(echoBinary(), ["-name", "host-process", "-listen", `:${HOST_PORT}`]);
                for (const c of ["caddy", "media", "blog"]) {
                    const hosts = (await engine.docker(["exec", c, "cat", "/etc/hosts"])).stdout;
                    assert.match(
                        hosts,
                        new RegExp(`^${HOST_GATEWAY.replace(/\./g, "\\.")}\\s+host\\.docker\\.internal$`, "m"),
                        `${c}: ${hosts}`,
                    );
                }
                assert.equal(await inNetOf("caddy", "lookup", "host.docker.internal"), HOST_GATEWAY);
                const got = await waitFor(
                    "the host process through host.docker.internal",
                    async () => {
                        const r = await inNetOf("caddy", "get", `http://host.docker.internal:${HOST_PORT}/`);
                        return r.startsWith("200 ") ? r : undefined;
                    },
                    15_000,
                );
                assert.equal(JSON.parse(got.slice(4)).service, "host-process");
                assert.doesNotMatch(
                    (await engine.docker(["exec", "haproxy", "cat", "/etc/hosts"])).stdout,
                    /host\.docker\.internal/,
                );
            });
        });

        describe("6. client addresses through a published port", () => {
            let gateway: string;
            before(async () => {
                const edge = stack.plan.networks.find((n) => n.key === "edge")?.name as string;
                gateway = await gatewayOf(edge);
            });

            it("Caddy sees the edge network's gateway, not the client (docker-proxy, no iptables)", async () => {
                const seen: string[] = [];
                for (const [source, dest] of [
                    [ADDR.tailnetClient, ADDR.tailnet],
                    [ADDR.other, ADDR.listen],
                ] as const) {
                    const r = await curl(engine, pki, {
                        host: HOSTS.cloud,
                        user: "dave",
                        path: WHOAMI_PATH,
                        source,
                        dest,
                    });
                    assert.equal(r.status, 200, r.verbose.slice(-400));
                    log(`client ${source} → ${dest}:443: Caddy says "${r.body.trim()}"`);
                    const m = /listener=(\S+) client=(\S+)/.exec(r.body);
                    assert.ok(m, r.body);
                    assert.equal(m[1], "mtls");
                    seen.push(m[2] as string);
                }
                assert.deepEqual(seen, [gateway, gateway]);
                const line = (await logsOf("haproxy"))
                    .split("\n")
                    .filter((l) => l.includes(" https caddy_mtls/"))
                    .pop();
                log(`HAProxy's log line for it: ${line}`);
                // HAProxy binds :::443 v4v6, so it writes IPv4 clients in their mapped form.
                assert.ok(line?.replace(/^::ffff:/, "").startsWith(`${gateway}:`), line);
            });

            it("so a tailnet client is not trusted: it lands on the mtls listener, refused without a certificate, and private names are not served to it", async () => {
                const noCert = await curl(engine, pki, {
                    host: HOSTS.cloud,
                    source: ADDR.tailnetClient,
                    dest: ADDR.tailnet,
                });
                assert.notEqual(noCert.exit, 0);
                assert.match(noCert.verbose, /certificate required/);
                for (const user of [undefined, "dave"]) {
                    const r = await curl(engine, pki, {
                        host: HOSTS.media,
                        source: ADDR.tailnetClient,
                        dest: ADDR.tailnet,
                        ...(user ? { user } : {}),
                    });
                    assert.notEqual(
                        r.status,
                        200,
                        `media served to a tailnet client ${user ? "with" : "without"} a certificate`,
                    );
                }
                log(
                    "a tailnet client seen as the gateway goes where the WAN goes: fail-closed, but the private plane is unusable through this engine's published ports",
                );
            });
        });

        describe("3. published ports (the stack without an mtls service)", () => {
            it("recreates the edge with :80/:443 on the tailnet and listed addresses only, as publishedPorts(model) says", async () => {
                const model = stackModel(dir, { mtls: false, wiki: true, users: ["dave", "erin"] });
                const planned = publishedPorts(model);
                assert.deepEqual([...new Set(planned.map((p) => p.ip))], [ADDR.tailnet, ADDR.listen]);
                const r = await applyHaproxyConfig(engine, model, haproxyBundle(model));
                assert.equal(r.status, 0, r.stderr);
                await removeContainer(engine, "haproxy");
                await applyContainer(engine, spec(dockerPlan(model), "haproxy"));
                assert.deepEqual(
                    portsOf((await inspect("haproxy")).HostConfig.PortBindings),
                    [...planned].sort(byPort),
                );
                assert.deepEqual(
                    await listeners(),
                    [`${ADDR.listen}:443`, `${ADDR.listen}:80`, `${ADDR.tailnet}:443`, `${ADDR.tailnet}:80`].sort(),
                );
                // Nothing is split now: untrusted sources are refused at the edge, and on this engine
                // (docker-proxy, no iptables) every client arrives as the edge network's gateway.
                for (const dest of [ADDR.tailnet, ADDR.listen]) {
                    const refused = await waitFor(`:80 on ${dest} accepting, and refusing the gateway`, async () => {
                        const c = await curl(engine, pki, {
                            host: HOSTS.cloud,
                            http: true,
                            dest,
                            source: ADDR.tailnetClient,
                            maxTime: 5,
                        });
                        return c.exit === 52 || c.exit === 56 ? c : undefined;
                    });
                    log(
                        `unsplit edge, client seen as the gateway, ${dest}:80: curl exit ${refused.exit} (connection closed by HAProxy)`,
                    );
                }
                for (const dest of ["127.0.0.1", ADDR.other, "::1"]) {
                    for (const port of [80, 443]) {
                        const c = await curl(engine, pki, { host: HOSTS.cloud, http: true, dest, port, maxTime: 5 });
                        assert.equal(
                            c.exit,
                            7,
                            `${dest}:${port} should refuse: exit ${c.exit} ${c.verbose.slice(-200)}`,
                        );
                    }
                }
            });
        });
    });

    describe("@docker IPv6 on the Linux edge: an engine with Docker's own NAT, clients in a network namespace of their own", function () {
        this.timeout(180_000);
        let engine: Engine;
        let stack: Stack;
        let pki: Pki;
        let clients: V6Clients;

        before(async function () {
            this.timeout(300_000);
            engine = await startEngine({
                hostGatewayIp: HOST_GATEWAY,
                dns: HOST_GATEWAY,
                loopbackAddresses: [ADDR.tailnet, ADDR.listen].map((a) => `${a}/32`),
                firewall: true,
            });
            log(`engine: dockerd ${engine.pid} with iptables and ip6tables in its own namespace`);
            // The clients' link first: Docker publishes on the host's IPv6 addresses, which must exist.
            clients = await v6Clients(engine);
            await buildStandIns(engine);
            const dir = path.join(engine.dir, "stack");
            const opts = { mtls: true, wiki: false, users: ["dave"], ipv6: true };
            const model = stackModel(dir, opts);
            pki = makePki(
                path.join(dir, "pki"),
                path.join(model.docker.dataDir, "caddy/etc/server-certs"),
                serverNames(model),
                ["dave"],
            );
            stack = newStack(dir, opts, pki);
            await tagServiceImages(engine, [stack.plan]);
            try {
                await bringUp(engine, stack);
            } catch (e) {
                log(`dockerd's log:\n${engine.logTail(3000)}`);
                throw e;
            }
            try {
                await waitFor(
                    "the edge on the tailnet's IPv6 address",
                    async () =>
                        (
                            await clients.curl(pki, {
                                host: HOSTS.media,
                                source: V6.tailnetClient,
                                dest: V6.tailnet,
                                path: WHOAMI_PATH,
                            })
                        ).status === 200,
                );
            } catch (e) {
                const r = await clients.curl(pki, {
                    host: HOSTS.media,
                    source: V6.tailnetClient,
                    dest: V6.tailnet,
                    path: WHOAMI_PATH,
                    maxTime: 5,
                });
                log(`last try: exit ${r.exit} HTTP ${r.status}\n${r.verbose.slice(-800)}`);
                log(`haproxy: ${(await engine.docker(["logs", "--tail", "20", "haproxy"])).stderr.slice(-1500)}`);
                log(`ip6tables nat:\n${(await engine.inNetns("ip6tables", ["-t", "nat", "-S"])).stdout}`);
                log(`listeners:\n${(await engine.inNetns("ss", ["-Hltn"])).stdout}`);
                throw e;
            }
        });

        after(function () {
            this.timeout(120_000);
            clients?.close();
            engine?.stopSync();
        });

        const whoami = async (o: { source: string; dest: string; host: string; user?: string }) => {
            const r = await clients.curl(pki, { ...o, path: WHOAMI_PATH });
            return {
                status: r.status,
                exit: r.exit,
                seen: /listener=(\S+) client=(\S+)/.exec(r.body)?.slice(1) ?? [],
                verbose: r.verbose,
            };
        };

        it("publishes :80/:443 on the tailnet's and the listed IPv6 addresses, on container ports of their own", async () => {
            const ports = publishedPorts(stack.model)
                .filter((p) => p.ip.includes(":"))
                .map((p) => `[${p.ip}]:${p.external}->${p.internal}`);
            assert.deepEqual(
                ports.sort(),
                [
                    `[${V6.listen}]:443->10445`,
                    `[${V6.listen}]:80->10082`,
                    `[${V6.tailnet}]:443->10446`,
                    `[${V6.tailnet}]:80->10083`,
                ].sort(),
            );
            const edge = stack.plan.networks.find((n) => n.key === "edge");
            assert.ok(edge?.ipv6, "the edge network has IPv6");
            const info = await inspectContainer(engine, "haproxy");
            assert.equal(info.NetworkSettings.Networks[edge.name].GlobalIPv6Address, stack.model.addresses.haproxyV6);
        });

        it("a tailnet client over IPv6 reaches the private plane, and Caddy sees its own address", async () => {
            const r = await whoami({ source: V6.tailnetClient, dest: V6.tailnet, host: HOSTS.media });
            assert.equal(r.status, 200, r.verbose.slice(-300));
            assert.deepEqual(r.seen, ["plain", V6.tailnetClient]);
            log(`IPv6 tailnet client → [${V6.tailnet}]:443: listener=${r.seen[0]} client=${r.seen[1]}`);
        });

        it("a trusted LAN client over IPv6 reaches the private plane by its own address", async () => {
            const r = await whoami({ source: V6.lanClient, dest: V6.listen, host: HOSTS.media });
            assert.equal(r.status, 200, r.verbose.slice(-300));
            assert.deepEqual(r.seen, ["plain", V6.lanClient]);
        });

        it("an IPv6 client from the WAN lands on the mtls listener: refused without a certificate, served with one, seen by its own address", async () => {
            const none = await clients.curl(pki, { host: HOSTS.cloud, source: V6.wanClient, dest: V6.listen });
            assert.notEqual(none.status, 200, "no certificate, no service");
            const priv = await whoami({ source: V6.wanClient, dest: V6.listen, host: HOSTS.media, user: "dave" });
            assert.notEqual(priv.status, 200, "a private name is not served to the WAN, certificate or not");
            const r = await whoami({ source: V6.wanClient, dest: V6.listen, host: HOSTS.cloud, user: "dave" });
            assert.equal(r.status, 200, r.verbose.slice(-300));
            assert.deepEqual(r.seen, ["mtls", V6.wanClient]);
        });

        it("the edge counts IPv6 clients per /64: two addresses of one WAN /64 share one allowance", async () => {
            const cfg = fs.readFileSync(path.join(haproxyConfigDir(stack.model), "haproxy.cfg"), "utf8");
            assert.match(cfg, /track-sc0 src,ipmask\(32,64\) table per_source/);
            const table = async () =>
                (
                    await engine.docker([
                        "exec",
                        "haproxy",
                        "sh",
                        "-c",
                        "echo 'show table per_source' | nc 127.0.0.1 9999",
                    ])
                ).stdout;
            for (const source of [V6.wanClient, V6.wanClient2])
                await whoami({ source, dest: V6.listen, host: HOSTS.cloud, user: "dave" });
            const entries = (await table()).split("\n").filter((l) => l.includes("key=2001:db8:99::"));
            assert.equal(entries.length, 1, `one entry for the /64: ${entries.join(" | ")}`);
            log(`per_source for the WAN /64: ${entries[0]?.trim()}`);
        });
    });

    hostsSuite(log);
    monitorSuite(log);
}
