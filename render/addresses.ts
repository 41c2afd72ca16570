// Fixed names, ports and paths shared by the renderers, the Docker plan and the edge. Pure.

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

/** HAProxy's config directory inside its container; HAProxy runs with `-C` there. */
export const HAPROXY_ETC = "/usr/local/etc/haproxy";

/**
 * Mac runtimes: the relay's ports, published on the Mac's 127.0.0.1 only; the native edge
 * forwards the plain and the client-certificate path to one each.
 */
export const RELAY_PORTS = { plain: 8443, mtls: 9443 } as const;
/** The name in the relay's server certificate, which the native edge verifies. */
export const RELAY_SERVER_NAME = "homelab-relay";

/**
 * The edge-to-relay TLS files, relative to each HAProxy's config directory (both run with `-C`).
 * The CA is the stack's edge CA (not the users' client CA).
 */
export const EDGE_TLS_FILES = {
    ca: "edge-ca.pem",
    /** The relay's certificate and key (in the relay's directory). */
    relayServer: "relay.pem",
    /** The native edge's client certificate and key (in the edge's directory on the Mac). */
    edgeClient: "edge-client.pem",
} as const;
