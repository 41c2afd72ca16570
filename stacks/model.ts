// The validated, normalised stack model: what every component and renderer consumes.
// Produced only by `validate` (stacks/validate.ts); never built by hand outside tests.

export const PLANES = ["private", "mtls", "public"] as const;
export type Plane = (typeof PLANES)[number];

export const RUNTIMES = ["docker-desktop", "orbstack", "colima", "linux"] as const;
export type Runtime = (typeof RUNTIMES)[number];

/** Runtimes whose published ports keep the client's source address as HAProxy sees it. */
export const RUNTIME_PRESERVES_CLIENT_ADDRESS: Record<Runtime, boolean> = {
    // Docker Desktop publishes ports through vpnkit / a userland proxy inside its VM: every
    // connection reaches the container from the VM's gateway address.
    "docker-desktop": false,
    // OrbStack and Colima forward host ports into their VM the same way (a userspace forwarder).
    orbstack: false,
    colima: false,
    // Docker Engine on Linux DNATs published ports with iptables/nftables: sources are real.
    linux: true,
};

/** Docker Desktop's own VM network; a trusted network overlapping it would trust every WAN client. */
export const DOCKER_DESKTOP_VM_NETWORK = "192.168.65.0/24";
/** Docker's default bridge network. */
export const DOCKER_DEFAULT_BRIDGE = "172.17.0.0/16";
/** Tailscale's address ranges: always trusted by the HAProxy split. */
export const TAILNET_IPV4_RANGE = "100.64.0.0/10";
export const TAILNET_IPV6_RANGE = "fd7a:115c:a1e0::/48";

/** Names of the infrastructure containers; no service may take one of them. */
export const RESERVED_NAMES = ["caddy", "haproxy", "cloudflared"] as const;

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

interface ServiceBase {
    /** The service key in `homelab:services`; also the container name and network alias. */
    name: string;
    /** The DNS label the service answers on (the key unless `hostname` is given). */
    label: string;
    apex: boolean;
    /** Planes in canonical order (private, mtls, public). */
    expose: Plane[];
    /** Fully qualified hostnames, one per exposed plane. */
    hostnames: Partial<Record<Plane, string>>;
    /** Where Caddy and cloudflared send requests: `host:port`. */
    upstream: string;
    access?: Access;
}

export interface ManagedService extends ServiceBase {
    kind: "managed";
    image: string;
    port: number;
    env: Record<string, string>;
    /** Environment variable name → key in `homelab:secrets`. */
    secretEnv: Record<string, string>;
    volumes: string[];
    command?: string[];
    healthcheck?: Healthcheck;
}

export interface ExternalService extends ServiceBase {
    kind: "external";
}

export type Service = ManagedService | ExternalService;

export interface User {
    name: string;
    validityDays: number;
}

export interface Model {
    domain: string;
    zoneId: string;
    accountId: string;
    tailnet: { ipv4: string; ipv6?: string };
    private: { subdomain: string; fqdn: string; wildcard: string };
    /** Canonical CIDRs from `homelab:trustedNetworks` (the tailnet ranges are added by renderers). */
    trustedNetworks: string[];
    wan?: { publicIp: string; proxyProtocol: boolean };
    /** Extra host addresses HAProxy's published ports bind to, besides the tailnet address. */
    listenAddresses: string[];
    acme: { email: string; resolvers: string[]; propagationTimeout: string; ca?: string };
    docker: { host: string; runtime: Runtime; network: string; subnet: string; dataDir: string };
    dnsToken: { allowedIps: string[]; expiresOn?: string };
    /** Sorted by name. */
    services: Service[];
    /** Sorted by name. */
    users: User[];
    /** Keys present in `homelab:secrets` (values stay secret, elsewhere). */
    secretNames: string[];
}

export function servicesOn(model: Model, plane: Plane): Service[] {
    return model.services.filter((s) => s.expose.includes(plane));
}
