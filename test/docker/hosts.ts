// The engine tier's two-host test (homelab:hosts): the edge host and a NAS, each its own private
// dockerd in its own network namespace, joined with a tailnet client on one bridge
// (test/docker/tailnet.ts). The edge host runs dockerPlan(model) (Caddy, the Linux edge, a private
// service); the NAS runs hostPlan(model, nas) (the gateway, cloudflared, a private service with
// an internal one beside it, and a public one). Caddy's bundle carries the hosts CA and its client
// certificate; the gateway's folder its haproxy.cfg (renderGatewayCfg), its certificate and the
// hosts CA; all three applied by the host-side scripts the components run. Both engines run with
// Docker's own iptables (NAT, isolation chains), as Docker Engine on a Linux host does: published
// ports keep the client's address, containers reach the tailnet through the host's address, and
// bridges are isolated from one another by Docker's rules.
//
// It proves: a tailnet client reaches a private service on the NAS through the edge; the gateway
// answers nothing without Caddy's certificate (none, another CA's, the hosts CA's for a server,
// the hosts CA's with another name) nor for a name it does not serve; on the NAS a public
// container neither resolves nor reaches the private ones, and gets nothing from the gateway; no
// container on the NAS is a trusted client of the edge; the NAS publishes the gateway alone, on its
// tailnet address alone.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { CADDY_IMAGE_NAME, DockerPlan, dockerPlan, gatewayConfigDir, hostPlan } from "../../plan/docker";
import {
    CADDY_CLIENT_CN,
    GATEWAY_FILES,
    gatewayDomain,
    gatewayServerName,
    renderGatewayCfg,
} from "../../render/gateway";
import { HAPROXY_RELOAD_ON_HOST, HAPROXY_WRITE, haproxyReloadEnvironment, packFiles } from "../../render/reload";
import { GATEWAY_PORT, Host, Model } from "../../stacks/model";
import { CADDY_HOSTS_PKI, CONTAINERS } from "../../stacks/layout";
import { validate } from "../../stacks/validate";
import { rawConfigOf } from "../../stacks/stackFile";
import versions from "../../render/versions.json";
import { haproxy3Binary } from "../support/binaries";
import { CLIENT_EXT, CertFiles, issue, sanExt, selfSigned } from "../support/openssl";
import { EXAMPLE_DEV_BASE } from "../support/exampleDev";
import { CmdResult, Engine, startEngine } from "./engine";
import { ECHO_IMAGE, buildCaddyImage, buildEchoImage, buildHaproxyImage, caddyTestBinary, echoBinary } from "./images";
import { applyContainer, applyNetworks, inspectContainer } from "./apply";
import {
    ADDR,
    CurlResult,
    LAN,
    Pki,
    SUBNET,
    Stack,
    bringUp,
    caddyBundle,
    curlArgs,
    makePki,
    parseCurl,
    tagServiceImages,
    waitFor,
} from "./stack";
import { TAILNET, Tailnet, tailnet, tailnetLeftovers } from "./tailnet";

/** The NAS's Docker subnet (its own engine: it could be the edge host's, but differs for reading). */
const NAS_SUBNET = "10.214.0.0/24";
/** Each engine's `host-gateway` and upstream DNS: its private network's gateway (nothing answers DNS there). */
const EDGE_HOST_GATEWAY = "10.213.0.1";
const NAS_HOST_GATEWAY = "10.214.0.1";
const NAS = "nas";

const SERVER_EXT =
    "basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\nextendedKeyUsage = serverAuth\n";

function twoHostConfig(nasSocket: string): Record<string, unknown> {
    const image = (name: string, tag: string) => `registry.example.dev/homelab-test/${name}:${tag}`;
    return {
        ...EXAMPLE_DEV_BASE,
        "homelab:trustedNetworks": [LAN],
        "homelab:docker": {
            runtime: "linux",
            dataDir: "/srv/homelab-engine-test",
            subnet: SUBNET,
            listenAddresses: [ADDR.listen],
        },
        "homelab:hosts": {
            [NAS]: {
                docker: {
                    host: `unix://${nasSocket}`,
                    runtime: "linux",
                    dataDir: "/srv/homelab-engine-test-nas",
                    subnet: NAS_SUBNET,
                },
                tailnet: { ipv4: TAILNET.nas },
                addresses: [TAILNET.nasLan],
            },
        },
        "homelab:services": {
            // On the edge host: private.
            notes: { image: image("notes", "1.0.0"), port: 8080, env: { ECHO_NAME: "notes" } },
            // On the NAS: private (behind the gateway), its internal database, and a public blog.
            media: {
                image: image("media", "1.0.0"),
                port: 8080,
                host: NAS,
                env: { ECHO_NAME: "media" },
                dependsOn: ["media-db"],
            },
            "media-db": {
                image: image("media-db", "1.0.0"),
                port: 8080,
                host: NAS,
                expose: [],
                env: { ECHO_NAME: "media-db" },
            },
            blog: {
                image: image("blog", "3.0.0"),
                port: 8080,
                host: NAS,
                expose: ["public"],
                env: { ECHO_NAME: "blog" },
            },
        },
        "homelab:users": [{ name: "dave" }],
    };
}

/** The validated model, with each engine's temp folder as its data folder (a temp folder is refused by validation). */
function twoHostModel(nasSocket: string, edgeDataDir: string, nasDataDir: string): Model {
    const m = validate(rawConfigOf(twoHostConfig(nasSocket)), []);
    return {
        ...m,
        docker: { ...m.docker, dataDir: edgeDataDir },
        hosts: m.hosts.map((h) => (h.name === NAS ? { ...h, docker: { ...h.docker, dataDir: nasDataDir } } : h)),
    };
}

/** The hosts CA as components/hostsTls.ts issues it, and three certificates it must not accept from. */
interface HostsPki {
    ca: CertFiles;
    /** CN "homelab caddy", clientAuth: Caddy's. */
    caddy: CertFiles;
    /** *.nas.homelab.internal, serverAuth: the gateway's. */
    gateway: CertFiles;
    /** The hosts CA's, CN "homelab caddy", but for servers only. */
    serverOnly: CertFiles;
    /** The hosts CA's, for clients, under another name. */
    otherName: CertFiles;
}

function makeHostsPki(dir: string, host: string): HostsPki {
    fs.mkdirSync(dir, { recursive: true });
    const ca = selfSigned(dir, "hosts-ca", "/CN=homelab engine-test hosts CA");
    return {
        ca,
        caddy: issue(dir, "hosts-caddy", `/CN=${CADDY_CLIENT_CN}`, ca, CLIENT_EXT),
        gateway: issue(
            dir,
            `hosts-gateway-${host}`,
            `/CN=homelab gateway ${host}`,
            ca,
            sanExt([`*.${gatewayDomain(host)}`], SERVER_EXT),
        ),
        serverOnly: issue(dir, "hosts-server-only", `/CN=${CADDY_CLIENT_CN}`, ca, SERVER_EXT),
        otherName: issue(dir, "hosts-other-name", `/CN=homelab gateway ${host}`, ca, CLIENT_EXT),
    };
}

const read = (f: string) => fs.readFileSync(f, "utf8");

/** The gateway's folder, as components/gateway.ts packs it: haproxy.cfg, its certificate and key in one PEM, the hosts CA. */
function gatewayBundle(model: Model, host: Host, h: HostsPki): string {
    return packFiles({
        "haproxy.cfg": renderGatewayCfg(model, host),
        [GATEWAY_FILES.ca]: read(h.ca.cert),
        [GATEWAY_FILES.server]: `${read(h.gateway.cert).trim()}\n${read(h.gateway.key).trim()}\n`,
    });
}

/** HAPROXY_RELOAD_ON_HOST exactly as the Gateway component runs it. */
function applyGatewayConfig(engine: Engine, host: Host, bundle: string): Promise<CmdResult> {
    return engine.script(
        HAPROXY_RELOAD_ON_HOST,
        {
            IMAGE: versions.haproxyImage,
            CONFIG_DIR: gatewayConfigDir(host),
            CONTAINER: CONTAINERS.gateway,
            WRITE: HAPROXY_WRITE,
            ...haproxyReloadEnvironment(),
        },
        bundle,
    );
}

/** curl to a TLS server by name at an address (no DNS), optionally with a client certificate. */
function tlsArgs(o: { name: string; dest: string; port: number; cacert: string; cert?: CertFiles }): string[] {
    return [
        "-sS",
        "-v",
        "--max-time",
        "8",
        "-o",
        "-",
        "-w",
        "\n%{http_code}",
        "--cacert",
        o.cacert,
        "--resolve",
        `${o.name}:${o.port}:${o.dest}`,
        ...(o.cert ? ["--cert", o.cert.cert, "--key", o.cert.key] : []),
        `https://${o.name}:${o.port}/`,
    ];
}

/** curl's own last words: why a transfer failed. */
const why = (r: CurlResult) =>
    r.verbose
        .split("\n")
        .filter((l) => l.startsWith("curl: ") || /alert|reset|closed|Empty reply/i.test(l))
        .slice(-1)[0]
        ?.trim() ?? `exit ${r.exit}`;

export function hostsSuite(log: (line: string) => void): void {
    describe("@docker two hosts: an edge host and a NAS on a tailnet, the NAS's services behind its gateway", function () {
        this.timeout(180_000);
        let edge: Engine;
        let nas: Engine;
        let net: Tailnet;
        let model: Model;
        let host: Host;
        let edgePlan: DockerPlan;
        let nasPlan: DockerPlan;
        let pki: Pki;
        let hosts: HostsPki;
        let started = Date.now();
        const since = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

        const inClient = async (args: string[]) => parseCurl(await net.run("curl", args, 15_000));
        /** curl in a container's network namespace (the host's curl: the images have none). */
        const curlFrom = async (engine: Engine, container: string, args: string[]) => {
            const pid = (await inspectContainer(engine, container)).State.Pid as number;
            assert.ok(pid > 0, `${container} runs`);
            return parseCurl(
                await engine.run("nsenter", [`--net=/proc/${pid}/ns/net`, "--", "curl", ...args], {
                    timeoutMs: 15_000,
                }),
            );
        };
        /** The echo binary's probe/lookup modes, in a container of the echo image or in another container's namespace. */
        const echoIn = async (engine: Engine, container: string, ...args: string[]) =>
            (await engine.docker(["exec", container, "/echo", ...args], { timeoutMs: 20_000 })).stdout.trim();
        const echoBeside = async (engine: Engine, container: string, ...args: string[]) =>
            (
                await engine.docker(["run", "--rm", "--network", `container:${container}`, ECHO_IMAGE, ...args], {
                    timeoutMs: 30_000,
                })
            ).stdout.trim();
        const word = (probe: string) => probe.split(" ")[0];
        const ipOn = async (engine: Engine, container: string, key: "private" | "public") => {
            const network = nasPlan.networks.find((n) => n.key === key)?.name as string;
            return (await inspectContainer(engine, container)).NetworkSettings.Networks[network]?.IPAddress as string;
        };
        const privateName = (service: string) => {
            const s = model.services.find((x) => x.name === service);
            return s?.hostnames.private as string;
        };
        /** A request to the edge host's tailnet address for a private name, no client certificate. */
        const edgeArgs = (service: string) => curlArgs(pki, { host: privateName(service), dest: TAILNET.edge });
        const gatewayArgs = (service: string, dest: string, cert?: CertFiles) =>
            tlsArgs({
                name: gatewayServerName(NAS, service),
                dest,
                port: GATEWAY_PORT,
                cacert: hosts.ca.cert,
                ...(cert ? { cert } : {}),
            });
        const noAnswer = (r: CurlResult, what: string) => {
            assert.notEqual(r.exit, 0, `${what}: curl succeeded\n${r.verbose.slice(-400)}`);
            assert.equal(r.status, 0, `${what}: an HTTP answer (${r.status})`);
            assert.equal(r.body, "", `${what}: a body`);
        };

        before(async function () {
            this.timeout(20 * 60_000); // the first run may build Caddy
            started = Date.now();
            const caddyBin = caddyTestBinary();
            const echoBin = echoBinary();
            const haproxyBin = haproxy3Binary();
            const firewall = { firewall: true } as const;
            edge = await startEngine({
                hostGatewayIp: EDGE_HOST_GATEWAY,
                dns: EDGE_HOST_GATEWAY,
                // The listed LAN address; the tailnet address comes with the tailnet link.
                loopbackAddresses: [`${ADDR.listen}/32`],
                ...firewall,
            });
            nas = await startEngine({
                hostGatewayIp: NAS_HOST_GATEWAY,
                dns: NAS_HOST_GATEWAY,
                loopbackAddresses: [],
                ...firewall,
            });
            log(
                `engines: edge host dockerd ${edge.pid}, NAS dockerd ${nas.pid}, each with iptables in its own namespace`,
            );
            // The tailnet first: each engine publishes on its tailnet address, which must exist.
            net = tailnet(edge, nas);
            log(
                `tailnet: namespace ${net.ns} (client ${TAILNET.client}) bridged to the edge host (${TAILNET.edge}) and the NAS (${TAILNET.nas}, LAN ${TAILNET.nasLan})`,
            );
            await Promise.all([
                buildCaddyImage(edge, caddyBin, CADDY_IMAGE_NAME),
                buildHaproxyImage(edge, haproxyBin, versions.haproxyImage),
                buildEchoImage(edge, echoBin),
                buildHaproxyImage(nas, haproxyBin, versions.haproxyImage),
                buildEchoImage(nas, echoBin),
            ]);
            const dir = path.join(edge.dir, "stack");
            model = twoHostModel(nas.sock, path.join(dir, "srv"), path.join(nas.dir, "srv"));
            host = model.hosts.find((h) => h.name === NAS) as Host;
            assert.equal(host.addressPlan.privateGateway, NAS_HOST_GATEWAY);
            assert.equal(model.addresses.privateGateway, EDGE_HOST_GATEWAY);
            edgePlan = dockerPlan(model);
            nasPlan = hostPlan(model, host);
            pki = makePki(
                path.join(dir, "pki"),
                path.join(model.docker.dataDir, "caddy/etc/server-certs"),
                [model.private.fqdn, model.private.wildcard],
                ["dave"],
            );
            hosts = makeHostsPki(path.join(dir, "hosts-pki"), NAS);
            await tagServiceImages(edge, [edgePlan]);
            await tagServiceImages(nas, [nasPlan]);
            log(`images built and tagged after ${since()}`);

            // The NAS, as its DockerHost and Gateway components create it: networks, the gateway's
            // folder through HAPROXY_RELOAD_ON_HOST, then the gateway, cloudflared and the services.
            await applyNetworks(nas, nasPlan);
            const g = await applyGatewayConfig(nas, host, gatewayBundle(model, host, hosts));
            assert.equal(g.status, 0, `the gateway's config: ${g.stderr}`);
            for (const spec of nasPlan.containers) await applyContainer(nas, spec);
            // The edge host, with the hosts CA and Caddy's client certificate in Caddy's bundle.
            const stack: Stack = { dir, model, plan: edgePlan, pki, notes: [] };
            const bundle = caddyBundle(model, pki, {
                hostsTls: { ca: read(hosts.ca.cert), cert: read(hosts.caddy.cert), key: read(hosts.caddy.key) },
            });
            try {
                await bringUp(edge, stack, { caddyBundle: bundle });
            } catch (e) {
                log(`edge dockerd's log:\n${edge.logTail(2000)}`);
                throw e;
            }
            for (const n of stack.notes) log(`note: ${n}`);
            try {
                await waitFor("notes through the edge from the tailnet client", async () => {
                    const r = await inClient(edgeArgs("notes"));
                    return r.status === 200;
                });
            } catch (e) {
                const r = await inClient(edgeArgs("notes"));
                log(`last try: exit ${r.exit} HTTP ${r.status}\n${r.verbose.slice(-800)}`);
                log(`edge iptables nat:\n${(await edge.inNetns("iptables", ["-t", "nat", "-S"])).stdout}`);
                throw e;
            }
            log(`both hosts up after ${since()}`);
        });

        after(function () {
            this.timeout(180_000);
            net?.close();
            const left: string[] = net ? tailnetLeftovers(net) : [];
            for (const [name, e] of [
                ["NAS", nas],
                ["edge host", edge],
            ] as const) {
                if (!e) continue;
                e.stopSync();
                for (const n of e.cleanupNotes) log(`cleanup (${name}): ${n}`);
                left.push(...e.leftovers().map((l) => `${name}: ${l}`));
            }
            log(`engines and tailnet removed; whole two-host suite ${since()}`);
            assert.deepEqual(left, [], `left behind: ${left.join("; ")}`);
        });

        it("(a) a tailnet client reaches media on the NAS through the edge host: Caddy dials the NAS's gateway with its certificate", async () => {
            const media = await waitFor("media through the edge and the gateway", async () => {
                const r = await inClient(edgeArgs("media"));
                return r.status === 200 ? r : undefined;
            });
            const body = JSON.parse(media.body);
            assert.equal(body.service, "media");
            assert.equal(body.host, privateName("media"), "Caddy passes the name asked for");
            const gatewayIp = await ipOn(nas, CONTAINERS.gateway, "private");
            assert.equal(body.remote.replace(/:\d+$/, ""), gatewayIp, "media is reached from the gateway");
            log(`client ${TAILNET.client} → ${TAILNET.edge}:443 ${privateName("media")}: ${media.body.trim()}`);
            assert.equal(body.xff, TAILNET.client, "the client's own address reaches the service");
            // The files caddy-apply.sh put beside the Caddyfile, the key Caddy's alone.
            const etc = path.join(model.docker.dataDir, "caddy/etc");
            assert.equal(read(path.join(etc, CADDY_HOSTS_PKI.ca)), read(hosts.ca.cert));
            assert.equal(read(path.join(etc, CADDY_HOSTS_PKI.clientCert)), read(hosts.caddy.cert));
            assert.equal(fs.statSync(path.join(etc, CADDY_HOSTS_PKI.clientKey)).mode & 0o777, 0o600);
        });

        it("(b) the gateway on the NAS's tailnet address answers Caddy's certificate from the edge host only, and only for the names it serves", async () => {
            // From the edge host's tailnet address, where Caddy's connections come from.
            const fromEdge = async (args: string[]) =>
                parseCurl(await edge.inNetns("curl", [...args, "--interface", TAILNET.edge], { timeoutMs: 15_000 }));
            const control = await fromEdge(gatewayArgs("media", TAILNET.nas, hosts.caddy));
            assert.equal(control.status, 200, `with Caddy's certificate: ${control.verbose.slice(-400)}`);
            assert.equal(JSON.parse(control.body).service, "media");
            // Another tailnet device gets no handshake at all, even holding Caddy's key.
            const elsewhere = await inClient(gatewayArgs("media", TAILNET.nas, hosts.caddy));
            noAnswer(elsewhere, "a tailnet device with Caddy's certificate");
            log(`gateway, a tailnet device with Caddy's certificate: ${why(elsewhere)}`);
            for (const [what, args] of [
                ["Caddy's, for the public blog", gatewayArgs("blog", TAILNET.nas, hosts.caddy)],
                ["Caddy's, for the internal media-db", gatewayArgs("media-db", TAILNET.nas, hosts.caddy)],
                ["Caddy's, for a name nobody serves", gatewayArgs("nothing", TAILNET.nas, hosts.caddy)],
                ["a user's certificate (the users' CA)", gatewayArgs("media", TAILNET.nas, pki.users["dave"])],
            ] as const) {
                const r = await fromEdge([...args]);
                noAnswer(r, `from the edge host, ${what}`);
                log(`gateway from the edge host, ${what}: ${why(r)}`);
            }
            const refused: [string, string[]][] = [
                ["no certificate", gatewayArgs("media", TAILNET.nas)],
                ["a user's certificate (the users' CA)", gatewayArgs("media", TAILNET.nas, pki.users["dave"])],
                [
                    `the hosts CA's, CN "${CADDY_CLIENT_CN}", server use only`,
                    gatewayArgs("media", TAILNET.nas, hosts.serverOnly),
                ],
                ["the hosts CA's, client use, another name", gatewayArgs("media", TAILNET.nas, hosts.otherName)],
                ["Caddy's, for the public blog", gatewayArgs("blog", TAILNET.nas, hosts.caddy)],
                ["Caddy's, for the internal media-db", gatewayArgs("media-db", TAILNET.nas, hosts.caddy)],
                ["Caddy's, for a name nobody serves", gatewayArgs("nothing", TAILNET.nas, hosts.caddy)],
            ];
            for (const [what, args] of refused) {
                const r = await inClient(args);
                noAnswer(r, what);
                log(`gateway, ${what}: ${why(r)}`);
            }
        });

        it("(c) on the NAS, the public blog neither resolves nor reaches media or media-db, and the gateway gives it nothing", async () => {
            for (const name of ["media", "media-db"]) {
                const found = await echoIn(nas, "blog", "lookup", name);
                assert.equal(word(found), "noname", `blog resolves ${name}: ${found}`);
                // Control: the gateway's namespace (on the private network) resolves it.
                assert.match(await echoBeside(nas, CONTAINERS.gateway, "lookup", name), /^10\.214\./);
            }
            for (const name of ["media", "media-db", CONTAINERS.gateway]) {
                const ip = await ipOn(nas, name, "private");
                const p = await echoIn(nas, "blog", "probe", `${ip}:8080`, "2000");
                assert.notEqual(word(p), "connected", `blog → ${name} ${ip}: ${p}`);
                log(`blog → ${name}'s private address ${ip}: ${p}`);
            }
            assert.equal(
                word(await echoBeside(nas, CONTAINERS.gateway, "probe", "media:8080", "2000")),
                "connected",
                "control: the gateway reaches media",
            );
            // The gateway shares the public network with blog: it may connect, never get an answer.
            const gwPublic = await ipOn(nas, CONTAINERS.gateway, "public");
            log(
                `blog → gateway ${gwPublic}:${GATEWAY_PORT}: ${await echoIn(nas, "blog", "probe", `${gwPublic}:${GATEWAY_PORT}`, "2000")}`,
            );
            for (const dest of [gwPublic, TAILNET.nas])
                for (const [what, cert] of [
                    ["no certificate", undefined],
                    ["a user's certificate", pki.users["dave"]],
                ] as const) {
                    const r = await curlFrom(nas, "blog", gatewayArgs("media", dest, cert));
                    noAnswer(r, `blog → ${dest}:${GATEWAY_PORT}, ${what}`);
                    log(`blog → ${dest}:${GATEWAY_PORT}, ${what}: ${why(r)}`);
                }
        });

        it("(c2) no container on the NAS is a trusted client of the edge: blog and media get no private name at the edge host's tailnet address", async () => {
            for (const from of ["blog", "media"]) {
                const r = await curlFrom(nas, from, edgeArgs("media"));
                log(
                    `${from} (NAS) → ${TAILNET.edge}:443 ${privateName("media")}: exit ${r.exit} HTTP ${r.status} ${why(r)}`,
                );
                assert.notEqual(r.status, 200, `${from} on the NAS is served ${privateName("media")}: ${r.body}`);
                // Refused by the edge (it accepts, then resets: nothing is split here), not lost on the way:
                // the NAS's containers reach the tailnet through its address, as Docker masquerades them.
                assert.match(r.verbose, /Connection reset by peer/, r.verbose.slice(-400));
            }
        });

        it("(d) the NAS publishes the gateway alone, on its tailnet address alone: nothing on its LAN address or other ports", async () => {
            for (const spec of nasPlan.containers) {
                const bindings = (await inspectContainer(nas, spec.name)).HostConfig.PortBindings ?? {};
                if (spec.name === CONTAINERS.gateway)
                    assert.deepEqual(bindings, {
                        [`${GATEWAY_PORT}/tcp`]: [{ HostIp: TAILNET.nas, HostPort: String(GATEWAY_PORT) }],
                    });
                else assert.deepEqual(bindings, {}, `${spec.name} publishes ${JSON.stringify(bindings)}`);
            }
            const dnat = (await nas.inNetns("iptables", ["-t", "nat", "-S"])).stdout
                .split("\n")
                .filter((l) => l.includes("-j DNAT"));
            const gwIp = (await inspectContainer(nas, CONTAINERS.gateway)).NetworkSettings.Networks;
            log(`the NAS's DNAT rules: ${dnat.join(" | ")}`);
            assert.equal(dnat.length, 1, dnat.join("\n"));
            assert.match(
                dnat[0] as string,
                new RegExp(`-d ${TAILNET.nas.replace(/\./g, "\\.")}/32 .*--dport ${GATEWAY_PORT} -j DNAT`),
            );
            assert.ok(
                Object.values(gwIp as Record<string, { IPAddress: string }>).some((n) =>
                    (dnat[0] as string).endsWith(`--to-destination ${n.IPAddress}:${GATEWAY_PORT}`),
                ),
                "to the gateway",
            );
            const listeners = (await nas.inNetns("ss", ["-Hltn"])).stdout
                .split("\n")
                .filter(Boolean)
                .map((l) => l.trim().split(/\s+/)[3]);
            assert.deepEqual(listeners, [`${TAILNET.nas}:${GATEWAY_PORT}`], "only docker-proxy for the gateway");
            for (const [dest, port] of [
                [TAILNET.nasLan, GATEWAY_PORT],
                [TAILNET.nas, 443],
                [TAILNET.nas, 80],
                [TAILNET.nas, 8080],
            ] as const) {
                const r = await inClient(
                    tlsArgs({
                        name: gatewayServerName(NAS, "media"),
                        dest,
                        port,
                        cacert: hosts.ca.cert,
                        cert: hosts.caddy,
                    }),
                );
                assert.equal(r.exit, 7, `${dest}:${port}: exit ${r.exit} ${r.verbose.slice(-300)}`);
                assert.match(r.verbose, /Connection refused/, `${dest}:${port}: the NAS answers, with a reset`);
            }
            log(
                `client → ${TAILNET.nasLan}:${GATEWAY_PORT} (the NAS's LAN address), with Caddy's certificate: refused`,
            );
        });
    });
}
