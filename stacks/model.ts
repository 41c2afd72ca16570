// The validated, normalised stack model: what every component and renderer consumes.
// Produced only by `validate` (stacks/validate.ts); never built by hand outside tests.

import { AddressPlan } from "./addressPlan";

export const PLANES = ["private", "mtls", "public"] as const;
export type Plane = (typeof PLANES)[number];

export const RUNTIMES = ["docker-desktop", "orbstack", "colima", "linux"] as const;
export type Runtime = (typeof RUNTIMES)[number];

/**
 * Where the edge (HAProxy: :80/:443, the split by source address) runs. Docker Engine on Linux
 * keeps client addresses on published ports, so there it is a container. No Mac runtime does
 * (Docker Desktop, OrbStack and Colima forward published ports from a gateway address), so there
 * it runs natively on the Mac under launchd, where it sees real addresses.
 */
export type EdgePlacement = "container" | "native";
export const EDGE_PLACEMENT: Record<Runtime, EdgePlacement> = {
    "docker-desktop": "native",
    orbstack: "native",
    colima: "native",
    linux: "container",
};

/**
 * The Mac runtimes' own VM networks (Docker Desktop, Colima/Lima's user-mode network, OrbStack):
 * connections forwarded by a runtime come from these, so trusting one would trust whatever it forwards.
 */
export const RUNTIME_VM_NETWORKS: Record<Runtime, string[]> = {
    "docker-desktop": ["192.168.65.0/24"],
    colima: ["192.168.5.0/24"],
    orbstack: ["192.168.215.0/24"],
    linux: [],
};
/** Docker Desktop's VM network (kept under its old name for the messages and tests). */
export const DOCKER_DESKTOP_VM_NETWORK = "192.168.65.0/24";
/** Docker's default bridge network. */
export const DOCKER_DEFAULT_BRIDGE = "172.17.0.0/16";
/** Tailscale's address ranges: always trusted by the HAProxy split. */
export const TAILNET_IPV4_RANGE = "100.64.0.0/10";
export const TAILNET_IPV6_RANGE = "fd7a:115c:a1e0::/48";

/** `homelab:wan.publicIp: dynamic`. */
export const DYNAMIC = "dynamic";
/** Whether the Linux edge serves IPv6: an IPv6 host address, on an engine that keeps IPv6 clients' addresses. */
export function linuxEdgeIpv6(model: Pick<Model, "edge" | "docker" | "tailnet" | "listenAddresses">): boolean {
    return (
        model.edge === "container" &&
        model.docker.ip6tables &&
        (!!model.tailnet.ipv6 || model.listenAddresses.some((a) => a.includes(":")))
    );
}

/**
 * The host addresses the Linux edge container is published on, in the order their container ports
 * are given out (stacks/layout.ts edgeContainerPorts): the tailnet's IPv4 address, the listed
 * ones, and the tailnet's IPv6 address last (adding it leaves the others' ports as they were).
 */
export function edgeHostAddresses(model: Pick<Model, "edge" | "docker" | "tailnet" | "listenAddresses">): string[] {
    return [
        model.tailnet.ipv4,
        ...model.listenAddresses,
        ...(linuxEdgeIpv6(model) && model.tailnet.ipv6 ? [model.tailnet.ipv6] : []),
    ];
}

export function isDynamicWan(model: Model): boolean {
    return model.wan?.publicIp === DYNAMIC;
}

/** The label of the one record the DDNS updater keeps at the home's address. */
export const WAN_LABEL = "homelab-wan";

/**
 * With a dynamic address: the A record the DDNS updater keeps current (`homelab-wan.<domain>`); the
 * mtls names are CNAMEs to it. Its name depends on the zone alone: a rename would be an in-place
 * update, and the Cloudflare provider sends the whole record with it, the placeholder address
 * included (the engine's ignoreChanges keeps the value in state, which is the placeholder until a
 * refresh).
 */
export function wanRecordName(model: Pick<Model, "domain">): string {
    return `${WAN_LABEL}.${model.domain}`;
}

/** How many listen addresses the Linux edge takes (each gets container ports of its own). */
export const MAX_LISTEN_ADDRESSES = 16;

/** Names of the infrastructure containers; no service may take one of them. */
export const RESERVED_NAMES = ["caddy", "haproxy", "cloudflared", "ddns", "homelab-gateway"] as const;

/**
 * Every name a service may not take, with why. A service's key becomes its container's name and
 * its alias on the stack's networks (Docker's embedded DNS), and Caddy and cloudflared dial
 * `<name>:<port>`: so no key may be one of the stack's own containers, nor a name that already
 * means something inside every container. (Names with a dot, such as host.docker.internal, are
 * not DNS labels and are refused before this list.)
 */
export const RESERVED_SERVICE_NAMES: Readonly<Record<string, string>> = {
    caddy: "is one of the stack's own containers (Caddy, the proxy every private and mtls request goes through)",
    haproxy: "is one of the stack's own containers (HAProxy: the edge on Linux, the relay on a Mac)",
    cloudflared: "is one of the stack's own containers (the tunnel every public request comes through)",
    ddns: "is one of the stack's own containers (the updater of the home's address record)",
    "homelab-gateway":
        "is one of the stack's own containers (the gateway on a further host, the only way Caddy reaches its services)",
    localhost:
        "is the container itself in every container (its /etc/hosts): Caddy would dial its own loopback, where its admin API listens",
    "ip6-localhost": "is ::1, the container itself, in every container's /etc/hosts: Caddy would dial its own loopback",
    "ip6-loopback": "is ::1, the container itself, in every container's /etc/hosts: Caddy would dial its own loopback",
    "ip6-localnet":
        "is in every container's /etc/hosts (fe00::), which answers before Docker's DNS: nothing could reach the service by its name",
    "ip6-mcastprefix":
        "is in every container's /etc/hosts (ff00::), which answers before Docker's DNS: nothing could reach the service by its name",
    "ip6-allnodes":
        "is in every container's /etc/hosts (ff02::1, every node), which answers before Docker's DNS: nothing could reach the service by its name",
    "ip6-allrouters":
        "is in every container's /etc/hosts (ff02::2, every router), which answers before Docker's DNS: nothing could reach the service by its name",
    host: "names the Docker host itself (network mode host, host-gateway, host.docker.internal): a container by that name would take what is meant for the host",
    "host-gateway":
        "is Docker's word for the host's address in --add-host (the stack maps host.docker.internal to it): a container by that name would pass for the host",
};

export interface Healthcheck {
    test: string[];
    interval: string;
    timeout: string;
    retries: number;
    startPeriod: string;
}

export interface Access {
    emails: string[];
    emailDomains: string[];
}

/** How Caddy (and cloudflared) verify an HTTPS upstream: never implied, always said. */
export type UpstreamTls =
    { insecureSkipVerify: true } | { insecureSkipVerify: false; serverName?: string; ca?: string };

/** Caddy's forward_auth in front of a service (Authelia, Authentik, oauth2-proxy). */
export interface ForwardAuth {
    /** `host:port` (or with an http(s):// scheme) of the auth server. */
    upstream: string;
    scheme: "http" | "https";
    uri: string;
    copyHeaders: string[];
}

export interface ServiceBase {
    /** The service key in `homelab:services`; also the container name and network alias. */
    name: string;
    /** The DNS label the service answers on (the key unless `hostname` is given). */
    label: string;
    apex: boolean;
    /** Planes in canonical order (private, mtls, public); empty for an internal service. */
    expose: Plane[];
    /** Fully qualified hostnames, one per exposed plane. */
    hostnames: Partial<Record<Plane, string>>;
    /** Where Caddy and cloudflared send requests: `host:port`. */
    upstream: string;
    /** The upstream's scheme: https only when the config says so. */
    upstreamScheme: "http" | "https";
    upstreamTls?: UpstreamTls;
    access?: Access;
    forwardAuth?: ForwardAuth;
}

/** A port published on the host for a non-HTTP protocol (bypasses the access model). */
export interface PublishedPort {
    /** A host address from the stack (tailnet, listed), or undefined: every address. */
    hostIp?: string;
    hostPort: number;
    containerPort: number;
    protocol: "tcp" | "udp";
}

export interface Device {
    hostPath: string;
    containerPath: string;
    permissions: string;
}

export type RestartPolicy = "no" | "always" | "unless-stopped" | "on-failure";

/** The compose-level settings of a container, shared by the model and the Docker plan. */
export interface ContainerSettings {
    user?: string;
    /** Memory limit in MB. */
    memoryMb?: number;
    /** Size of /dev/shm in MB. */
    shmSizeMb?: number;
    devices: Device[];
    capAdd: string[];
    /** Container path → tmpfs mount options. */
    tmpfs: Record<string, string>;
    labels: Record<string, string>;
    restart: RestartPolicy;
    /** Seconds Docker waits after the stop signal before killing. */
    stopGraceSeconds?: number;
}

/** Every ContainerSettings key, checked complete by the compiler: the plan copies them by this list. */
export const CONTAINER_SETTING_KEYS = [
    "user",
    "memoryMb",
    "shmSizeMb",
    "devices",
    "capAdd",
    "tmpfs",
    "labels",
    "restart",
    "stopGraceSeconds",
] as const satisfies readonly (keyof ContainerSettings)[];
type MissingSettingKey = Exclude<keyof ContainerSettings, (typeof CONTAINER_SETTING_KEYS)[number]>;
const settingKeysComplete: [MissingSettingKey] extends [never] ? true : never = true;
void settingKeysComplete;

/** A deep copy of a service's container settings, as the container plan takes them. */
export function copyContainerSettings(s: ContainerSettings): ContainerSettings {
    const out: Record<string, unknown> = {};
    for (const k of CONTAINER_SETTING_KEYS) if (s[k] !== undefined) out[k] = structuredClone(s[k]);
    return out as unknown as ContainerSettings;
}

export interface ManagedService extends ServiceBase, ContainerSettings {
    kind: "managed";
    /** The further host it runs on (a key of `homelab:hosts`); absent: the edge host. */
    host?: string;
    image: string;
    port: number;
    env: Record<string, string>;
    /** Environment variable name → key in `homelab:secrets`. */
    secretEnv: Record<string, string>;
    volumes: string[];
    command?: string[];
    entrypoint?: string[];
    healthcheck?: Healthcheck;
    publish: PublishedPort[];
    /** Other managed services this one needs (started first); sorted. */
    dependsOn: string[];
}

export interface ExternalService extends ServiceBase {
    kind: "external";
}

export type Service = ManagedService | ExternalService;

export interface User {
    name: string;
    validityDays: number;
}

/**
 * A further Docker host (`homelab:hosts.<name>`): its own engine, joined to the edge host by the
 * tailnet. Caddy on the edge host stays the only way in: a gateway on the host's tailnet address
 * forwards to its private and mtls services, its own cloudflared to its public ones.
 */
export interface Host {
    name: string;
    docker: { host: string; runtime: Runtime; network: string; subnet: string; dataDir: string };
    tailnet: { ipv4: string; ipv6?: string };
    /** Its other addresses (its LAN address): never trusted at the edge, as its tailnet addresses. */
    addresses: string[];
    /** Its Docker networks, from its subnet (the edge network's part is unused there). */
    addressPlan: AddressPlan;
}

/** The port a further host's gateway listens on, on the host's tailnet address only. */
export const GATEWAY_PORT = 7443;

/** Where the status container sends alerts (homelab:monitoring.alerts): one channel. */
export type AlertChannel =
    | { kind: "ntfy"; url: string; topic: string; tokenSecret?: string }
    | { kind: "webhook"; url: string; tokenSecret?: string }
    | { kind: "webhook"; urlSecret: string; tokenSecret?: string };

/**
 * homelab:monitoring: a status container (Gatus) with one check per service per plane, certificate
 * expiry warnings and alerts. Its status page is a managed service of the stack (`service`), on
 * the edge host; it reaches private and mtls names through the edge's monitor entry.
 */
export interface Monitoring {
    /** The status page's service name (a key of the model's services). */
    service: string;
    /** How often each check runs (a Go duration). */
    interval: string;
    /** Warn this many days before a client certificate expires (at most halfway through its renewal window). */
    expiryWarningDays: number;
    /** Warn this many days before a served certificate (Let's Encrypt's, Cloudflare's) expires. */
    servedExpiryWarningDays: number;
    alerts?: AlertChannel;
}

/** homelab:dashboard: a Glance dashboard listing every service with its URL per plane, by host. */
export interface Dashboard {
    service: string;
    title: string;
}

/** The environment variable that carries a webhook's URL into the status container, when it is a secret. */
export const ALERT_URL_ENV = "HOMELAB_ALERT_URL";

/** The environment variable that carries the alert channel's token into the status container. */
export const ALERT_TOKEN_ENV = "HOMELAB_ALERT_TOKEN";

export interface Model {
    domain: string;
    zoneId: string;
    accountId: string;
    tailnet: { ipv4: string; ipv6?: string };
    private: { subdomain: string; fqdn: string; wildcard: string };
    /** Canonical CIDRs from `homelab:trustedNetworks` (the tailnet ranges are added by renderers). */
    trustedNetworks: string[];
    /**
     * Canonical CIDRs from `homelab:untrustedSources`: addresses inside a trusted network (or the
     * tailnet) that are never trusted, such as a router that rewrites forwarded connections to its
     * own LAN address. Checked before the trusted networks, by HAProxy and by Caddy's guard.
     * Every further host's tailnet address is added (homelab:hosts): nothing there is trusted.
     */
    untrustedSources: string[];
    /** The home's WAN address, or "dynamic": an updater in the stack keeps the mtls records current. */
    wan?: { publicIp: string };
    /**
     * Host addresses (inside a trusted network) where the edge also serves :80/:443 when no
     * service exposes mtls, besides the tailnet address(es). Canonical, unique.
     */
    listenAddresses: string[];
    acme: { email: string; resolvers: string[]; propagationTimeout: string; ca?: string };
    /** ip6tables: the engine keeps IPv6 clients' addresses on published ports (homelab:docker.ip6tables). */
    docker: { host: string; runtime: Runtime; network: string; subnet: string; dataDir: string; ip6tables: boolean };
    /** Where the edge runs (from the runtime). */
    edge: EdgePlacement;
    /** The stack's Docker networks and fixed addresses, from `docker.subnet`. */
    addresses: AddressPlan;
    dnsToken: { allowedIps: string[]; expiresOn?: string };
    /** Sorted by name. */
    services: Service[];
    /** Further Docker hosts (homelab:hosts), sorted by name; empty for a one-machine stack. */
    hosts: Host[];
    /** Sorted by name. */
    users: User[];
    /** homelab:monitoring, when set. */
    monitoring?: Monitoring;
    /** homelab:dashboard, when set. */
    dashboard?: Dashboard;
    /** Keys present in `homelab:secrets` (values stay secret, elsewhere). */
    secretNames: string[];
    /** Cloudflare record ids the stack takes over (homelab:adopt). */
    adopt: string[];
}

export function servicesOn(model: Model, plane: Plane): Service[] {
    return model.services.filter((s) => s.expose.includes(plane));
}

/**
 * The hosts a service sends requests to by name or address, with the config key that gives each:
 * its upstream (a service with one) and its forward-auth server. `host` has no port.
 */
export function upstreamHosts(s: Service): { key: string; host: string }[] {
    const out: { key: string; host: string }[] = [];
    if (s.kind === "external") out.push({ key: `services.${s.name}.upstream`, host: s.upstream });
    if (s.forwardAuth) out.push({ key: `services.${s.name}.forwardAuth.upstream`, host: s.forwardAuth.upstream });
    return out.map((u) => ({ ...u, host: u.host.replace(/:\d+$/, "") }));
}

/** The further host a service runs on, or undefined: the edge host (and every external service). */
export function hostOf(s: Service): string | undefined {
    return s.kind === "managed" ? s.host : undefined;
}

/**
 * The model as one further host sees it: its engine, runtime, data folder, addresses and tailnet
 * address in place of the edge host's, and only the services that run there. What plans one
 * host's containers (plan/docker.ts) plans a further host's from this, with the same rules.
 */
export function hostView(model: Model, host: Host): Model {
    return {
        ...model,
        tailnet: { ...host.tailnet },
        listenAddresses: [],
        docker: { ...host.docker, ip6tables: false },
        edge: "container",
        addresses: host.addressPlan,
        services: model.services.filter((s) => hostOf(s) === host.name),
        hosts: [],
    };
}

/** The edge host's share of the model: only the services that run there (external ones included). */
export function edgeHostView(model: Model): Model {
    return { ...model, services: model.services.filter((s) => hostOf(s) === undefined) };
}

/** A managed service with no plane: a database, a cache, a worker; no name, no route. */
export function isInternal(s: Service): boolean {
    return s.expose.length === 0;
}

/**
 * Whether anyone holds a client certificate of the stack's CA: a user, or the status container's
 * monitor identity (homelab:monitoring). Without one, no mtls name is served.
 */
export function hasClients(model: Pick<Model, "users" | "monitoring">): boolean {
    return model.users.length > 0 || model.monitoring !== undefined;
}
