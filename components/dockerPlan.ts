// The Docker side of the stack as data: networks and containers, with everything Docker needs
// (names, aliases, fixed addresses, published ports, mounts, environment, healthchecks). Pure.
// The DockerHost component turns it into provider resources; the engine tests (test/docker)
// create exactly these containers on a real dockerd, so the two cannot drift apart.
//
// Segmentation: three networks (stacks/addressPlan.ts). The edge network holds only HAProxy and
// Caddy; Caddy's TLS listeners bind there and nowhere else. Public services sit with cloudflared
// on the public network, never on the private one, so a compromised internet-facing container
// reaches neither the private services nor Caddy's listeners.
import { ContainerSettings, ManagedService, Model, Runtime, Service, isDynamicWan, servicesOn } from "../stacks/model";
import { tunnelCaPath } from "../render/tunnelIngress";
import { CADDY_ETC, HAPROXY_ETC, RELAY_PORTS } from "../render/addresses";
import versions from "../render/versions.json";
import { serviceSegments } from "../stacks/services";

/** The locally built Caddy image, tagged by the versions it pins. */
export const CADDY_IMAGE_NAME = `homelab-caddy:${versions.caddy}-cloudflare-${versions.caddyDnsCloudflare}`;
/** HAProxy's config directory under homelab:docker.dataDir, bind-mounted read-only. */
export const HAPROXY_CONFIG_DIR = "haproxy";
/** The native edge's directory under homelab:docker.dataDir, on the Mac. */
export const EDGE_DIR = "edge";

/** The stack's networks, and Docker's default bridge (egress only, shared with none of them). */
export type NetworkKey = "private" | "public" | "edge" | "bridge";
export interface NetworkSpec {
    key: NetworkKey;
    name: string;
    subnet: string;
    /** Where Docker assigns automatic addresses; the rest is for fixed ones. */
    ipRange?: string;
    /**
     * The gateway, given explicitly: with an ip range and no gateway, Docker takes the range's
     * first address, inside the automatic range (found by the engine tests).
     */
    gateway?: string;
}

export type SecretRef = { kind: "dnsToken" } | { kind: "tunnelToken" } | { kind: "ddnsToken" } | { kind: "stackSecret"; key: string };
export type ImageRef = { kind: "caddy" } | { kind: "remote"; ref: string };

export interface ContainerNetwork {
    key: NetworkKey;
    name: string;
    aliases: string[];
    ipv4Address?: string;
}

export interface PortBinding {
    internal: number;
    external: number;
    ip: string;
    protocol: "tcp" | "udp";
}

export interface Mount {
    hostPath?: string;
    volumeName?: string;
    containerPath: string;
    readOnly: boolean;
}

export interface HealthcheckSpec {
    tests: string[];
    interval: string;
    timeout: string;
    retries: number;
    startPeriod: string;
}

export type ContainerRole = "caddy" | "edge" | "relay" | "cloudflared" | "ddns" | "service";

export interface ContainerSpec extends ContainerSettings {
    name: string;
    role: ContainerRole;
    image: ImageRef;
    command?: string[];
    entrypoint?: string[];
    workingDir?: string;
    /** Plain environment, `KEY=value`, sorted. */
    env: string[];
    /** Secret environment: variable → where its value comes from (resolved by the component). */
    secretEnv: Record<string, SecretRef>;
    networks: ContainerNetwork[];
    ports: PortBinding[];
    mounts: Mount[];
    hosts: { host: string; ip: string }[];
    healthcheck?: HealthcheckSpec;
    logOpts: Record<string, string>;
    /** Files placed in the container when it is created (public, non-secret content only). */
    uploads: { file: string; content: string }[];
    /** Containers (by name) that must exist first. */
    dependsOn: string[];
    /** Hardening for containers that need nothing else: read-only root, capabilities dropped, no new privileges. */
    readOnlyRoot?: boolean;
    capDrop?: string[];
    securityOpts?: string[];
}

export interface DockerPlan {
    networks: NetworkSpec[];
    containers: ContainerSpec[];
}

/** Runtimes where containers cannot resolve host.docker.internal on their own. */
export function needsHostGateway(runtime: Runtime): boolean {
    return runtime === "linux" || runtime === "colima";
}

export function networkName(model: Model, key: NetworkKey): string {
    return key === "private" ? model.docker.network : `${model.docker.network}-${key}`;
}

/** The services whose containers (or upstreams) live on the public network. */
function isPublic(s: Service): boolean {
    return s.expose.includes("public");
}

export function planNetworks(model: Model): NetworkSpec[] {
    const a = model.addresses;
    const out: NetworkSpec[] = [{ key: "private", name: networkName(model, "private"), subnet: a.private }];
    if (model.services.some(isPublic) || [...serviceNetworks(model).values()].some((n) => n.includes("public"))) out.push({ key: "public", name: networkName(model, "public"), subnet: a.public });
    out.push({ key: "edge", name: networkName(model, "edge"), subnet: a.edge, ipRange: a.edgeDynamic, gateway: a.edgeGateway });
    return out;
}

/**
 * The edge's published ports: the only ports the stack publishes for HTTP(S).
 * - Linux, no mtls service: nothing to split, so :80/:443 bind only to the tailnet address(es)
 *   and the listed addresses: never 0.0.0.0.
 * - Linux, some mtls service: :80/:443 on every IPv4 address (the router forwards the WAN here)
 *   and HAProxy splits by source. Never IPv6: the edge network is IPv4-only, so Docker's proxy
 *   would hand HAProxy every IPv6 client as one gateway address (see checkLinuxEdgeIpv6).
 * - Mac runtimes: the edge is native; the relay container publishes its two ports on the Mac's
 *   127.0.0.1 only, and accepts nothing without the edge's client certificate.
 */
export function publishedPorts(model: Model): PortBinding[] {
    const bind = (port: number, ips: string[], external = port): PortBinding[] => ips.map((ip) => ({ internal: port, external, ip, protocol: "tcp" }));
    if (model.edge === "native") return [...bind(RELAY_PORTS.plain, ["127.0.0.1"]), ...bind(RELAY_PORTS.mtls, ["127.0.0.1"])];
    const mtls = model.services.some((s) => s.expose.includes("mtls"));
    if (mtls) return [...bind(80, ["0.0.0.0"]), ...bind(443, ["0.0.0.0"])];
    const direct = [model.tailnet.ipv4, ...model.listenAddresses];
    return [...bind(80, direct), ...bind(443, direct)];
}

/** `src:dst[:ro|rw]` → a mount; `src` is a host path or a named volume. */
export function serviceMounts(s: ManagedService): Mount[] {
    return s.volumes.map((v) => {
        const [src = "", dst = "", mode] = v.split(":");
        const base = { containerPath: dst, readOnly: mode === "ro" };
        return src.startsWith("/") ? { hostPath: src, ...base } : { volumeName: src, ...base };
    });
}

const LOG_OPTS = { "max-size": "10m", "max-file": "3" };

/** What every container of the stack shares: restart policy, log rotation, the host gateway. */
function base(model: Model, name: string, role: ContainerRole, image: ImageRef): ContainerSpec {
    return {
        name,
        role,
        image,
        env: [],
        secretEnv: {},
        networks: [],
        ports: [],
        mounts: [],
        hosts: needsHostGateway(model.docker.runtime) ? [{ host: "host.docker.internal", ip: "host-gateway" }] : [],
        restart: "unless-stopped",
        logOpts: { ...LOG_OPTS },
        devices: [],
        capAdd: [],
        tmpfs: {},
        labels: {},
        uploads: [],
        dependsOn: [],
    };
}

function attach(model: Model, key: NetworkKey, alias: string, ipv4Address?: string): ContainerNetwork {
    // Docker's default bridge takes no aliases (and needs none: nothing connects to what is on it).
    if (key === "bridge") return { key, name: "bridge", aliases: [] };
    return { key, name: networkName(model, key), aliases: [alias], ...(ipv4Address ? { ipv4Address } : {}) };
}

/** Caddy: the custom image, no published port, its TLS listeners on its edge address only. */
export function caddyContainer(model: Model): ContainerSpec {
    const dataDir = model.docker.dataDir;
    const reachesPublic = model.services.some((s) => isPublic(s) && (s.expose.includes("private") || s.expose.includes("mtls")));
    return {
        ...base(model, "caddy", "caddy", { kind: "caddy" }),
        // --resume: after a restart Caddy loads the last config it was given (autosaved under
        // /config), which the reload command keeps current.
        command: ["caddy", "run", "--resume"],
        // The Caddyfile names the CA and leaf allowlist relative to this directory.
        workingDir: CADDY_ETC,
        secretEnv: { CLOUDFLARE_API_TOKEN: { kind: "dnsToken" } },
        mounts: [
            { hostPath: `${dataDir}/caddy/etc`, containerPath: CADDY_ETC, readOnly: false },
            { hostPath: `${dataDir}/caddy/data`, containerPath: "/data", readOnly: false },
            { hostPath: `${dataDir}/caddy/config`, containerPath: "/config", readOnly: false },
        ],
        networks: [
            attach(model, "edge", "caddy", model.addresses.caddy),
            attach(model, "private", "caddy"),
            ...(reachesPublic ? [attach(model, "public", "caddy")] : []),
        ],
    };
}

/** HAProxy: the edge itself on Linux, the relay on a Mac runtime. Config checked before it starts. */
export function haproxyContainer(model: Model): ContainerSpec {
    return {
        ...base(model, "haproxy", model.edge === "native" ? "relay" : "edge", { kind: "remote", ref: versions.haproxyImage }),
        // The official image's entrypoint adds -W (master-worker: SIGUSR2 reloads softly) and -db.
        command: ["haproxy", "-C", HAPROXY_ETC, "-f", "haproxy.cfg"],
        mounts: [{ hostPath: `${model.docker.dataDir}/${HAPROXY_CONFIG_DIR}`, containerPath: HAPROXY_ETC, readOnly: true }],
        ports: publishedPorts(model),
        networks: [attach(model, "edge", "haproxy", model.addresses.haproxy)],
        // HAProxy is reached only by address; the host gateway is of no use to it.
        hosts: [],
    };
}

/**
 * cloudflared, when a service is public: on the public network only, the token only in its env;
 * the CA certificates public services' upstreamTls names are uploaded where the ingress expects them.
 */
export function cloudflaredContainer(model: Model): ContainerSpec {
    const uploads = model.services
        .filter((s) => isPublic(s) && s.upstreamScheme === "https" && s.upstreamTls && !s.upstreamTls.insecureSkipVerify && s.upstreamTls.ca)
        .map((s) => ({ file: tunnelCaPath(s), content: (s.upstreamTls as { ca: string }).ca }));
    return {
        ...base(model, "cloudflared", "cloudflared", { kind: "remote", ref: versions.cloudflaredImage }),
        command: ["tunnel", "--no-autoupdate", "run"],
        secretEnv: { TUNNEL_TOKEN: { kind: "tunnelToken" } },
        networks: [attach(model, "public", "cloudflared")],
        uploads,
    };
}

/**
 * Which networks each managed service joins: public if it is public, private if it is private or
 * mtls; an internal service (no plane) joins the networks of the services that depend on it,
 * directly or through other internal services, and the private one when none does (validation
 * refuses one that would join both).
 */
export function serviceNetworks(model: Model): Map<string, NetworkKey[]> {
    return serviceSegments(model.services);
}

/** Every address a port without a host address is published on. */
const EVERY_ADDRESS = ["0.0.0.0", "::"];

/** A managed service: on its networks (segmented), never reachable from outside but by Caddy or cloudflared, unless it publishes a port. */
export function serviceContainer(model: Model, s: ManagedService, networks: NetworkKey[] = serviceNetworks(model).get(s.name) ?? ["private"]): ContainerSpec {
    const hc = s.healthcheck;
    return {
        ...base(model, s.name, "service", { kind: "remote", ref: s.image }),
        ...(s.command ? { command: [...s.command] } : {}),
        ...(s.entrypoint ? { entrypoint: [...s.entrypoint] } : {}),
        ...(s.user !== undefined ? { user: s.user } : {}),
        env: Object.keys(s.env)
            .sort()
            .map((k) => `${k}=${s.env[k]}`),
        secretEnv: Object.fromEntries(Object.keys(s.secretEnv).sort().map((k) => [k, { kind: "stackSecret", key: s.secretEnv[k] as string }])),
        mounts: serviceMounts(s),
        networks: networks.map((n) => attach(model, n, s.name)),
        ports: s.publish.flatMap((p) => (p.hostIp ? [p.hostIp] : EVERY_ADDRESS).map((ip) => ({ internal: p.containerPort, external: p.hostPort, ip, protocol: p.protocol }))),
        ...(hc ? { healthcheck: { tests: [...hc.test], interval: hc.interval, timeout: hc.timeout, retries: hc.retries, startPeriod: hc.startPeriod } } : {}),
        restart: s.restart,
        ...(s.memoryMb !== undefined ? { memoryMb: s.memoryMb } : {}),
        ...(s.shmSizeMb !== undefined ? { shmSizeMb: s.shmSizeMb } : {}),
        devices: s.devices.map((d) => ({ ...d })),
        capAdd: [...s.capAdd],
        tmpfs: { ...s.tmpfs },
        labels: { ...s.labels },
        ...(s.stopGraceSeconds !== undefined ? { stopGraceSeconds: s.stopGraceSeconds } : {}),
        dependsOn: [...s.dependsOn],
    };
}

/**
 * The DDNS updater (homelab:wan.publicIp: dynamic): keeps the mtls records at the home's current
 * address. It needs nothing but the internet, so it sits alone on Docker's default bridge, with a
 * read-only root, no capabilities and its own token (DNS Write on this zone) in its environment.
 */
export function ddnsContainer(model: Model, comment: string): ContainerSpec {
    const names = servicesOn(model, "mtls").map((s) => s.hostnames.mtls as string);
    return {
        ...base(model, "ddns", "ddns", { kind: "remote", ref: versions.ddnsImage }),
        env: [`DOMAINS=${names.join(",")}`, "IP6_PROVIDER=none", "PROXIED=false", `RECORD_COMMENT=${comment}`, "UPDATE_CRON=@every 5m"],
        secretEnv: { CLOUDFLARE_API_TOKEN: { kind: "ddnsToken" } },
        networks: [attach(model, "bridge", "ddns")],
        hosts: [],
        user: "1000:1000",
        readOnlyRoot: true,
        capDrop: ["ALL"],
        securityOpts: ["no-new-privileges:true"],
    };
}

/** Whether the stack runs the DDNS updater: a dynamic WAN address and something on the mtls plane. */
export function needsDdns(model: Model): boolean {
    return isDynamicWan(model) && servicesOn(model, "mtls").length > 0;
}

export function dockerPlan(model: Model, comment = "homelab"): DockerPlan {
    const containers = [caddyContainer(model), haproxyContainer(model)];
    if (model.services.some(isPublic)) containers.push(cloudflaredContainer(model));
    if (needsDdns(model)) containers.push(ddnsContainer(model, comment));
    const nets = serviceNetworks(model);
    for (const s of model.services) if (s.kind === "managed") containers.push(serviceContainer(model, s, nets.get(s.name)));
    return { networks: planNetworks(model), containers };
}
