// The Docker side of the stack as data: networks and containers, with everything Docker needs
// (names, aliases, fixed addresses, published ports, mounts, environment, healthchecks). Pure.
// The DockerHost component turns it into provider resources; the engine tests (test/docker)
// create exactly these containers on a real dockerd, so the two cannot drift apart.
//
// Segmentation: three networks (stacks/addressPlan.ts). The edge network holds only HAProxy and
// Caddy; Caddy's TLS listeners bind there and nowhere else. Public services sit with cloudflared
// on the public network, never on the private one, so a compromised internet-facing container
// reaches neither the private services nor Caddy's listeners.
import {
    ContainerSettings,
    GATEWAY_PORT,
    Host,
    ManagedService,
    edgeHostView,
    hostView,
    copyContainerSettings,
    Model,
    Runtime,
    Service,
    edgeHostAddresses,
    isDynamicWan,
    linuxEdgeIpv6,
    wanRecordName,
} from "../stacks/model";
import {
    CADDY_ETC,
    CONTAINERS,
    DATA_DIRS,
    HAPROXY_ETC,
    DASHBOARD_USER,
    MONITOR_ETC,
    MONITOR_USER,
    RELAY_PORTS,
    TUNNEL_CA_DIR,
    edgeContainerPorts,
} from "../stacks/layout";
import versions from "../render/versions.json";
import { canonicalGoDuration } from "../stacks/grammar";
import { RELAY_OPEN_FILES } from "../render/haproxy";
import { parseIp } from "../stacks/net";
import { dockerNetworkName } from "../stacks/naming";
import { serviceSegments } from "../stacks/services";
import { gatewayServices } from "../render/gateway";
import { GATUS, GLANCE } from "../stacks/monitoring";

/** The locally built Caddy image, tagged by the versions it pins. */
export const CADDY_IMAGE_NAME = `homelab-caddy:${versions.caddy}-cloudflare-${versions.caddyDnsCloudflare}`;

/** The stack's networks, and Docker's default bridge (egress only, shared with none of them). */
export type NetworkKey = "private" | "public" | "edge" | "bridge";
export interface NetworkSpec {
    key: NetworkKey;
    name: string;
    subnet: string;
    /** Where Docker assigns automatic addresses; the rest is for fixed ones. */
    ipRange?: string;
    /**
     * The gateway, always given: with an ip range and no gateway, Docker takes the range's first
     * address, inside the automatic range (found by the engine tests); and Docker 29+ reports a
     * gateway the config did not name, which the provider reads as a change that replaces it.
     */
    gateway: string;
    /** IPv6 on this network too (the Linux edge's, when it serves IPv6): its /64, automatic range and gateway. */
    ipv6?: { subnet: string; ipRange: string; gateway: string };
}

export type SecretRef =
    { kind: "dnsToken" } | { kind: "tunnelToken" } | { kind: "ddnsToken" } | { kind: "stackSecret"; key: string };
export type ImageRef = { kind: "caddy" } | { kind: "remote"; ref: string };

export interface ContainerNetwork {
    key: NetworkKey;
    name: string;
    aliases: string[];
    ipv4Address?: string;
    ipv6Address?: string;
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

export type ContainerRole = "caddy" | "edge" | "relay" | "cloudflared" | "ddns" | "service" | "gateway";
/** Which component creates a container: the HAProxy ones are the Edge's and the Gateway's, every other the DockerHost's. */
export type ComponentKey = "dockerHost" | "edge" | "gateway";
const COMPONENT_OF: Record<ContainerRole, ComponentKey> = {
    gateway: "gateway",
    caddy: "dockerHost",
    edge: "edge",
    relay: "edge",
    cloudflared: "dockerHost",
    ddns: "dockerHost",
    service: "dockerHost",
};

export interface ContainerSpec extends ContainerSettings {
    name: string;
    role: ContainerRole;
    component: ComponentKey;
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
    /** The container's resource name, when it must not follow its name (the status container's). */
    resourceName?: string;
    /**
     * Seconds `pulumi destroy` (or a replacement) waits for the container to stop after SIGTERM
     * before it removes it by force. The Docker provider kills at once when this is unset, whatever
     * the container's own stop timeout says; default: the stop grace period, else Docker's 10 s.
     */
    destroyGraceSeconds?: number;
    /** Resource limits (e.g. nofile), name → soft/hard. */
    ulimits?: Record<string, { soft: number; hard: number }>;
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

export function networkName(model: Model, key: Exclude<NetworkKey, "bridge">): string {
    return dockerNetworkName(model.docker.network, key);
}

/** The services whose containers (or upstreams) live on the public network. */
function isPublic(s: Service): boolean {
    return s.expose.includes("public");
}

/**
 * The three networks, always all three: a network or a container's network list that followed the
 * service table (the first public service, the first one both public and private) would replace
 * Caddy, since every network input of a container forces its replacement. An empty public network
 * costs nothing.
 */
export function planNetworks(model: Model): NetworkSpec[] {
    const a = model.addresses;
    return [
        { key: "private", name: networkName(model, "private"), subnet: a.private, gateway: a.privateGateway },
        { key: "public", name: networkName(model, "public"), subnet: a.public, gateway: a.publicGateway },
        {
            key: "edge",
            name: networkName(model, "edge"),
            subnet: a.edge,
            ipRange: a.edgeDynamic,
            gateway: a.edgeGateway,
            // Automatic addresses (Caddy's) from a range of their own: one could otherwise take HAProxy's.
            ...(linuxEdgeIpv6(model)
                ? { ipv6: { subnet: a.edgeV6, ipRange: a.edgeV6Dynamic, gateway: a.edgeV6Gateway } }
                : {}),
        },
    ];
}

/**
 * The edge's published ports: the only ports the stack publishes for HTTP(S).
 * - Linux: :80/:443 on the tailnet address and the listed host addresses (each to container ports
 *   of its own: stacks/layout.ts edgeContainerPorts), whether or not a
 *   service exposes mtls (the router forwards :443 to a listed LAN address; validation asks for
 *   one when a service is mtls). Never 0.0.0.0, and never following the service table: a
 *   container's ports force its replacement. IPv4 only: the edge network is IPv4-only, so
 *   Docker's proxy would hand HAProxy every IPv6 client as one gateway address (checkLinuxEdgeIpv6).
 * - Mac runtimes: the edge is native; the relay container publishes its two ports on the Mac's
 *   127.0.0.1 only, and accepts nothing without the edge's secret in the PROXY header.
 * Sorted as the Docker provider reads them back (docs: provider semantics).
 */
export function publishedPorts(model: Model): PortBinding[] {
    const bind = (port: number, ips: string[], external = port): PortBinding[] =>
        ips.map((ip) => ({ internal: port, external, ip, protocol: "tcp" }));
    if (model.edge === "native")
        return sortPorts([...bind(RELAY_PORTS.plain, ["127.0.0.1"]), ...bind(RELAY_PORTS.mtls, ["127.0.0.1"])]);
    const direct = edgeHostAddresses(model);
    const ports = edgeContainerPorts(direct.length);
    return sortPorts(
        direct.flatMap((ip, k) => [
            ...bind((ports[k] as { http: number }).http, [ip], 80),
            ...bind((ports[k] as { https: number }).https, [ip], 443),
        ]),
    );
}

/** `src:dst[:ro|rw]` → a mount; `src` is a host path or a named volume. */
export function serviceMounts(s: ManagedService): Mount[] {
    return s.volumes.map((v) => {
        const [src = "", dst = "", mode] = v.split(":");
        const base = { containerPath: dst, readOnly: mode === "ro" };
        return src.startsWith("/") ? { hostPath: src, ...base } : { volumeName: src, ...base };
    });
}

/**
 * Every container logs with Docker's `local` driver (rotated, compressed). Not `json-file`: when a
 * container's driver is the daemon's default one, dockerd merges daemon.json's log options into
 * what it reports, and the provider would replace the container on every run on such a host.
 */
export const LOG_DRIVER = "local";
const LOG_OPTS = { "max-size": "10m", "max-file": "3" };

/** What every container of the stack shares: restart policy, log rotation, the host gateway. */
function base(model: Model, name: string, role: ContainerRole, image: ImageRef): ContainerSpec {
    return {
        name,
        role,
        component: COMPONENT_OF[role],
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

/**
 * Caddy: the custom image, no published port, its TLS listeners on its edge address only. It is on
 * all three networks whatever the service table says (a public service that is also private is
 * reached on the public network), so adding or removing services never replaces it; on the public
 * network it answers nothing (default_bind is its edge address, the admin API its loopback).
 */
export function caddyContainer(model: Model): ContainerSpec {
    const dataDir = model.docker.dataDir;
    return {
        ...base(model, CONTAINERS.caddy, "caddy", { kind: "caddy" }),
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
            attach(model, "edge", CONTAINERS.caddy, model.addresses.caddy),
            attach(model, "private", CONTAINERS.caddy),
            attach(model, "public", CONTAINERS.caddy),
        ],
    };
}

/** HAProxy: the edge itself on Linux, the relay on a Mac runtime. Config checked before it starts. */
export function haproxyContainer(model: Model): ContainerSpec {
    return {
        ...base(model, CONTAINERS.haproxy, model.edge === "native" ? "relay" : "edge", {
            kind: "remote",
            ref: versions.haproxyImage,
        }),
        // The official image's entrypoint adds -W (master-worker: SIGUSR2 reloads softly) and -db.
        command: ["haproxy", "-C", HAPROXY_ETC, "-f", "haproxy.cfg"],
        mounts: [
            { hostPath: `${model.docker.dataDir}/${DATA_DIRS.haproxy}`, containerPath: HAPROXY_ETC, readOnly: true },
        ],
        ports: publishedPorts(model),
        networks: [
            {
                ...attach(model, "edge", CONTAINERS.haproxy, model.addresses.haproxy),
                ...(linuxEdgeIpv6(model) ? { ipv6Address: model.addresses.haproxyV6 } : {}),
            },
        ],
        // HAProxy is reached only by address; the host gateway is of no use to it.
        hosts: [],
        // The relay takes more connections than every container together can hold open to it.
        ...(model.edge === "native" ? { ulimits: { nofile: { soft: RELAY_OPEN_FILES, hard: RELAY_OPEN_FILES } } } : {}),
    };
}

/** cloudflared's default --grace-period (30 s) and a margin: how long a destroy waits for it. */
export const CLOUDFLARED_STOP_SECONDS = 40;
/** Docker's own stop timeout, when a container sets none. */
export const DOCKER_STOP_SECONDS = 10;

/**
 * cloudflared, when a service is public: on the public network only, the token only in its env;
 * the CA certificates that public services' upstreamTls names are read from a folder on the host
 * (mounted read-only; the tunnel writes it), so a new one never replaces the container.
 */
export function cloudflaredContainer(model: Model): ContainerSpec {
    return {
        ...base(model, CONTAINERS.cloudflared, "cloudflared", { kind: "remote", ref: versions.cloudflaredImage }),
        command: ["tunnel", "--no-autoupdate", "run"],
        secretEnv: { TUNNEL_TOKEN: { kind: "tunnelToken" } },
        // cloudflared unregisters its connections as soon as it gets SIGTERM, then waits out its
        // 30 s grace period for requests in flight; killed instead, it leaves connections that
        // make Cloudflare refuse to delete the tunnel.
        destroyGraceSeconds: CLOUDFLARED_STOP_SECONDS,
        mounts: [{ hostPath: tunnelCaHostDir(model), containerPath: TUNNEL_CA_DIR, readOnly: true }],
        networks: [attach(model, "public", CONTAINERS.cloudflared)],
    };
}

/** The folder on the Docker host with the CA files cloudflared verifies public upstreams with. */
export function tunnelCaHostDir(model: Model): string {
    return `${model.docker.dataDir}/${DATA_DIRS.tunnelCa}`;
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

/**
 * Where a port without a host address is published: every IPv4 address. (The provider always sends
 * a host address, so Docker's implicit IPv6 twin is never made; `[::]:p:p` asks for IPv6.)
 */
const EVERY_ADDRESS = "0.0.0.0";

/**
 * Published ports in the order the Docker provider reads them back: container port, protocol,
 * host port, then host address (IPv4 numerically before IPv6). A list in another order is a
 * change on every run, and every change of ports replaces the container.
 */
export function sortPorts(ports: PortBinding[]): PortBinding[] {
    const key = (ip: string) => {
        const a = parseIp(ip);
        return a
            ? `${a.kind() === "ipv4" ? 4 : 6}:${a
                  .toByteArray()
                  .map((b) => b.toString(16).padStart(2, "0"))
                  .join("")}`
            : ip;
    };
    return [...ports].sort(
        (a, b) =>
            a.internal - b.internal ||
            a.protocol.localeCompare(b.protocol) ||
            a.external - b.external ||
            key(a.ip).localeCompare(key(b.ip)),
    );
}

/** A managed service: on its networks (segmented), never reachable from outside but by Caddy or cloudflared, unless it publishes a port. */
export function serviceContainer(
    model: Model,
    s: ManagedService,
    networks: NetworkKey[] = serviceNetworks(model).get(s.name) ?? ["private"],
): ContainerSpec {
    const hc = s.healthcheck;
    return {
        ...base(model, s.name, "service", { kind: "remote", ref: s.image }),
        ...(s.command ? { command: [...s.command] } : {}),
        ...(s.entrypoint ? { entrypoint: [...s.entrypoint] } : {}),
        env: Object.keys(s.env)
            .sort()
            .map((k) => `${k}=${s.env[k]}`),
        secretEnv: Object.fromEntries(
            Object.keys(s.secretEnv)
                .sort()
                .map((k) => [k, { kind: "stackSecret", key: s.secretEnv[k] as string }]),
        ),
        mounts: serviceMounts(s),
        networks: networks.map((n) => attach(model, n, s.name)),
        ports: sortPorts(
            s.publish.map((p) => ({
                internal: p.containerPort,
                external: p.hostPort,
                ip: p.hostIp ?? EVERY_ADDRESS,
                protocol: p.protocol,
            })),
        ),
        // Timings in the form Docker reports them (Go's: "1m0s"), so a second run sees no change.
        ...(hc
            ? {
                  healthcheck: {
                      tests: [...hc.test],
                      interval: canonicalGoDuration(hc.interval),
                      timeout: canonicalGoDuration(hc.timeout),
                      retries: hc.retries,
                      startPeriod: canonicalGoDuration(hc.startPeriod),
                  },
              }
            : {}),
        // The container settings (user, limits, devices, capabilities, tmpfs, labels, restart, stop
        // grace) as the model has them: one list of keys (stacks/model.ts CONTAINER_SETTING_KEYS).
        ...copyContainerSettings(s),
        dependsOn: [...s.dependsOn],
    };
}

/**
 * The DDNS updater (homelab:wan.publicIp: dynamic): keeps the one record at the home's address
 * (`homelab-wan.<domain>`, stacks/model.ts wanRecordName) current; the mtls names are CNAMEs to it,
 * so its config is the same whatever the service table says. It needs nothing but the internet, so
 * it sits alone on Docker's default bridge, with a read-only root, no capabilities and its own
 * token (DNS Write on this zone) in its environment.
 */
export function ddnsContainer(model: Model, comment: string): ContainerSpec {
    return {
        ...base(model, CONTAINERS.ddns, "ddns", { kind: "remote", ref: versions.ddnsImage }),
        env: [
            `DOMAINS=${wanRecordName(model)}`,
            "IP6_PROVIDER=none",
            "PROXIED=false",
            `RECORD_COMMENT=${comment}`,
            "UPDATE_CRON=@every 5m",
        ],
        secretEnv: { CLOUDFLARE_API_TOKEN: { kind: "ddnsToken" } },
        networks: [attach(model, "bridge", "ddns")],
        hosts: [],
        user: "1000:1000",
        readOnlyRoot: true,
        capDrop: ["ALL"],
        securityOpts: ["no-new-privileges:true"],
    };
}

/**
 * Whether the stack runs the DDNS updater: whenever the WAN address is dynamic, mtls services or
 * not, so that removing the last one and adding one back never recreates the record at the
 * placeholder address (nor the updater and its token).
 */
export function needsDdns(model: Model): boolean {
    return isDynamicWan(model);
}

/** Hardening for the stack's own helpers that need nothing of the host: no root, no capabilities. */
function hardened(user: string): Pick<ContainerSpec, "user" | "readOnlyRoot" | "capDrop" | "securityOpts"> {
    return { user, readOnlyRoot: true, capDrop: ["ALL"], securityOpts: ["no-new-privileges:true"] };
}

/**
 * The status container's resource name, whatever its service name: renaming homelab:monitoring.name
 * replaces the container (Docker's provider deletes a container before its replacement), where a
 * new resource would be created beside the old one and be refused its fixed address.
 */
export const MONITOR_RESOURCE = "monitoring-status";

/** The status container's folder on the edge host: its config, hosts file and the monitor's certificate. */
export function monitoringDir(model: Model): string {
    return `${model.docker.dataDir}/${DATA_DIRS.monitoring}`;
}
/** The dashboard's folder on the edge host. */
export function dashboardDir(model: Model): string {
    return `${model.docker.dataDir}/${DATA_DIRS.dashboard}`;
}

/**
 * The status container (homelab:monitoring), a service of the stack planned as one, but on the
 * edge network alone, at its fixed address (the one source the edge lets skip the split): Caddy
 * reaches its page there, and its public checks go out from there through Cloudflare, as anyone's.
 * On no other network: it reaches no service but through the edge and Caddy, and no service
 * reaches it. Its config folder read-only, its own /etc/hosts (every private and mtls name at the
 * edge's address) and nsswitch.conf (the hosts file before DNS). No root, no capabilities (it
 * cannot answer for another container's address on the edge network), a read-only root.
 */
export function monitorContainer(model: Model, s: ManagedService): ContainerSpec {
    const c = serviceContainer(model, s, []);
    const dir = monitoringDir(model);
    return {
        ...c,
        resourceName: MONITOR_RESOURCE,
        mounts: [
            { hostPath: dir, containerPath: GATUS.configDir, readOnly: true },
            { hostPath: `${dir}/${MONITOR_ETC.hosts}`, containerPath: "/etc/hosts", readOnly: true },
            { hostPath: `${dir}/${MONITOR_ETC.nsswitch}`, containerPath: "/etc/nsswitch.conf", readOnly: true },
        ],
        networks: [attach(model, "edge", s.name, model.addresses.monitor)],
        hosts: [],
        ...hardened(MONITOR_USER),
    };
}

/** The dashboard (homelab:dashboard): a service of the stack with its config folder read-only, hardened. */
export function dashboardContainer(model: Model, s: ManagedService, networks?: NetworkKey[]): ContainerSpec {
    const c = serviceContainer(model, s, networks);
    return {
        ...c,
        mounts: [{ hostPath: dashboardDir(model), containerPath: GLANCE.configDir, readOnly: true }],
        ...hardened(DASHBOARD_USER),
    };
}

/** A managed service's container: the status page and the dashboard have their own plans. */
function plannedService(model: Model, s: ManagedService, networks?: NetworkKey[]): ContainerSpec {
    if (s.name === model.monitoring?.service) return monitorContainer(model, s);
    if (s.name === model.dashboard?.service) return dashboardContainer(model, s, networks);
    return serviceContainer(model, s, networks);
}

/** The edge host's networks and containers: Caddy, the edge, and the services that run there. */
export function dockerPlan(stack: Model, comment = "homelab"): DockerPlan {
    const model = edgeHostView(stack);
    const containers = [caddyContainer(model), haproxyContainer(model)];
    if (model.services.some(isPublic)) containers.push(cloudflaredContainer(model));
    if (needsDdns(model)) containers.push(ddnsContainer(model, comment));
    const nets = serviceNetworks(model);
    for (const s of model.services)
        if (s.kind === "managed") containers.push(plannedService(model, s, nets.get(s.name)));
    return { networks: planNetworks(model), containers };
}

/**
 * A further host's gateway: the pinned HAProxy image, its config folder read-only, its one port
 * published on the host's tailnet address only (never every address: a LAN device reaches
 * nothing), on the host's private and public networks (a service both public and private sits on
 * the public one, as on the edge host; the gateway is reached by Caddy alone, whatever it shares).
 */
export function gatewayContainer(view: Model, host: Host): ContainerSpec {
    return {
        ...base(view, CONTAINERS.gateway, "gateway", { kind: "remote", ref: versions.haproxyImage }),
        command: ["haproxy", "-C", HAPROXY_ETC, "-f", "haproxy.cfg"],
        mounts: [{ hostPath: gatewayConfigDir(host), containerPath: HAPROXY_ETC, readOnly: true }],
        ports: [{ internal: GATEWAY_PORT, external: GATEWAY_PORT, ip: host.tailnet.ipv4, protocol: "tcp" }],
        networks: [attach(view, "private", CONTAINERS.gateway), attach(view, "public", CONTAINERS.gateway)],
        hosts: [],
    };
}

/** The gateway's config folder on its host. */
export function gatewayConfigDir(host: Host): string {
    return `${host.docker.dataDir}/${DATA_DIRS.gateway}`;
}

/**
 * A further host's networks and containers: nothing at all without a service there; else its
 * private and public networks, the gateway when a service there is private or mtls, cloudflared
 * when one is public, and the services, each planned by the same rules as on the edge host.
 */
export function hostPlan(model: Model, host: Host): DockerPlan {
    const view = hostView(model, host);
    if (view.services.length === 0) return { networks: [], containers: [] };
    const containers: ContainerSpec[] = [];
    if (gatewayServices(model, host).length > 0) containers.push(gatewayContainer(view, host));
    if (view.services.some(isPublic)) containers.push(cloudflaredContainer(view));
    const nets = serviceNetworks(view);
    for (const s of view.services)
        if (s.kind === "managed") containers.push(serviceContainer(view, s, nets.get(s.name)));
    return { networks: planNetworks(view).filter((n) => n.key !== "edge"), containers };
}
