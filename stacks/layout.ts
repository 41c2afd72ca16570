// The stack's fixed layout: container names, ports and paths, shared by the renderers, the
// Docker plan and the components. Pure data; it imports nothing but the model's limits.
import { MAX_LISTEN_ADDRESSES } from "./model";

/** The containers the stack always names the same way (services are named after their keys). */
export const CONTAINERS = {
    caddy: "caddy",
    haproxy: "haproxy",
    cloudflared: "cloudflared",
    ddns: "ddns",
    /** A further host's gateway (homelab:hosts). */
    gateway: "homelab-gateway",
} as const;

/** Folders under homelab:docker.dataDir on the Docker host. */
export const DATA_DIRS = {
    /** HAProxy's config directory, bind-mounted read-only. */
    haproxy: "haproxy",
    /** cloudflared's CA folder (public certificates only). */
    tunnelCa: "cloudflared/ca",
    /** The native edge's directory, on the Mac. */
    edge: "edge",
    /** A further host's gateway: its config, certificate and CA, bind-mounted read-only. */
    gateway: "gateway",
    /** The status container's config, hosts file and the monitor's certificate (homelab:monitoring). */
    monitoring: "monitoring",
    /** The dashboard's config (homelab:dashboard). */
    dashboard: "dashboard",
} as const;

/**
 * The user the status container runs as (it needs no root, nor any file of the host's); the
 * monitor's key is this user's alone.
 */
export const MONITOR_USER = "65532:65532";
/** The dashboard's user: another than the status container's, whose key it must never read. */
export const DASHBOARD_USER = "65533:65533";
/** The status container's own /etc files, in its folder (mounted over /etc/hosts and /etc/nsswitch.conf). */
export const MONITOR_ETC = { hosts: "hosts", nsswitch: "nsswitch.conf" } as const;

/** Where cloudflared finds the CA files of public upstreams, inside its container. */
export const TUNNEL_CA_DIR = "/etc/homelab/ca";

export const CADDY_PLAIN_PORT = 8443;
export const CADDY_MTLS_PORT = 9443;
export const CADDY_ADMIN = "localhost:2019";

/** Caddy's config directory; Caddy runs with it as its working directory. */
export const CADDY_ETC = "/etc/caddy";
/**
 * The CA and leaf allowlist, relative to Caddy's working directory (CADDY_ETC in the container),
 * so the end-to-end tests run the production Caddyfile unchanged from a directory of their own.
 */
export const CADDY_PKI = {
    ca: "pki/ca.pem",
    clients: "pki/clients.pem",
};

/**
 * With further hosts: the hosts CA and Caddy's client certificate for their gateways, relative to
 * Caddy's working directory (the key is Caddy's alone, 0600).
 */
export const CADDY_HOSTS_PKI = {
    ca: "pki/hosts-ca.pem",
    clientCert: "pki/hosts-client.crt",
    clientKey: "pki/hosts-client.key",
} as const;

/** HAProxy's config directory inside its container; HAProxy runs with `-C` there. */
export const HAPROXY_ETC = "/usr/local/etc/haproxy";

/**
 * Mac runtimes: the relay's ports, published on the Mac's 127.0.0.1 only; the native edge
 * forwards the plain and the client-certificate path to one each.
 */
export const RELAY_PORTS = { plain: 8443, mtls: 9443 } as const;
/**
 * How the relay knows the native edge (Mac runtimes): a 256-bit secret the edge sends in a custom
 * TLV of every PROXY v2 header (type 0xE0, the first of the range the protocol leaves to
 * applications); the relay keeps only its SHA-256. The files are relative to each HAProxy's config
 * directory (both run with `-C`).
 */
export const EDGE_SECRET_TLV = "0xE0";
export const EDGE_AUTH_FILES = {
    /** The native edge's map with the secret (`edge <secret>`), in the edge's directory on the Mac. */
    secretMap: "edge-secret.map",
    /** The relay's list with the secret's SHA-256 (uppercase hex), in the relay's directory. */
    secretHash: "edge-secret.sha256",
} as const;

/**
 * The Linux edge container's ports for each host address it is published on (the tailnet address
 * first, then homelab:docker.listenAddresses): :80/:443 inside for the first, 10080+k/10443+k for
 * the k-th listed one. One host address per container port: Docker reports several bindings of one
 * port in an order that differs between versions (20.10 reverses them, 27+ sorts them), and the
 * Docker provider compares them by position, so two addresses on one port would replace the edge
 * on every run on one version or the other (docs/provider-semantics.md).
 */
export function edgeContainerPorts(addresses: number): { http: number; https: number }[] {
    if (addresses > MAX_LISTEN_ADDRESSES + 1) throw new Error(`internal: ${addresses} edge addresses`);
    return Array.from({ length: addresses }, (_, k) =>
        k === 0 ? { http: 80, https: 443 } : { http: 10080 + k, https: 10443 + k },
    );
}
