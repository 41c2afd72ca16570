// A further host's gateway (homelab:hosts): an HAProxy container whose only listener is published
// on the host's tailnet address. It terminates TLS with a certificate from the stack's hosts CA,
// requires the client certificate that CA issued to the edge's Caddy (and nothing else: not a
// user's, not another gateway's), and forwards by the name Caddy asks for (SNI
// `<service>.<host>.homelab.internal`) to that service's container on the host's own networks.
// Names it does not serve get no backend. Pure.
import { GATEWAY_PORT, Host, ManagedService, Model } from "../stacks/model";
import { dockerResolvers, header } from "./haproxy";

/** The files beside the gateway's haproxy.cfg (in its config folder on the host). */
export const GATEWAY_FILES = { ca: "hosts-ca.pem", server: "gateway.pem" } as const;

/** The subject common name of the one client certificate a gateway accepts: the edge's Caddy. */
export const CADDY_CLIENT_CN = "homelab caddy";

/** The names a host's gateway answers to: `<service>.<host>.homelab.internal` (RFC 9476's .internal is never public). */
export function gatewayDomain(host: string): string {
    return `${host}.homelab.internal`;
}
export function gatewayServerName(host: string, service: string): string {
    return `${service}.${gatewayDomain(host)}`;
}

/** Before a connection proves it is Caddy, it holds a slot this long at most. */
export const GATEWAY_LIMITS = { maxconn: 4096, handshakeTimeout: "5s" } as const;

/** The services a host's gateway forwards to: its private and mtls ones (public ones go through its cloudflared). */
export function gatewayServices(model: Model, host: Host): ManagedService[] {
    return model.services.filter(
        (s): s is ManagedService =>
            s.kind === "managed" && s.host === host.name && (s.expose.includes("private") || s.expose.includes("mtls")),
    );
}

export interface GatewayOptions {
    /** Where the listener binds (production: every address in the container; the port is published on the tailnet address only). */
    bind?: string;
    /** Docker's DNS (production); tests resolve nothing and give addresses instead. */
    resolvers?: { nameserver: string };
    /** Service name → `host:port` to forward to (tests); production: `<name>:<port>` on the host's networks. */
    targets?: Record<string, string>;
    /** The addresses Caddy's connections come from (tests); production: the edge host's tailnet addresses. */
    edgeSources?: string[];
}

/**
 * Where Caddy's connections to a gateway come from: the edge host's tailnet addresses (Docker
 * masquerades Caddy's container to them on the way out), when the further host's engine keeps
 * client addresses on published ports (Linux). A Mac runtime's forwarder shows a gateway address
 * instead, so there the certificate is the only check.
 */
export function gatewaySources(model: Model, host: Host): string[] | undefined {
    if (host.docker.runtime !== "linux") return undefined;
    return [model.tailnet.ipv4, ...(model.tailnet.ipv6 ? [model.tailnet.ipv6] : [])];
}

export function renderGatewayCfg(model: Model, host: Host, opts: GatewayOptions = {}): string {
    const services = gatewayServices(model, host);
    const resolvers = opts.resolvers ?? { nameserver: "127.0.0.11:53" };
    const f = GATEWAY_FILES;
    const sources = opts.edgeSources ?? gatewaySources(model, host);
    const L = [
        // The edge's global settings and defaults (one thread, soft reloads, its timeouts).
        ...header(model, `gateway of host ${host.name}`, GATEWAY_LIMITS.maxconn),
        ...(opts.targets ? [] : dockerResolvers(resolvers.nameserver)),
        "# Only the edge's Caddy: a client certificate from the stack's hosts CA, issued to Caddy.",
        "frontend from_caddy",
        `    bind ${opts.bind ?? `:${GATEWAY_PORT}`} ssl crt ${f.server} ca-file ${f.ca} verify required`,
        // Before any TLS: only from the edge host (a container on this host's public network, or any
        // tailnet device, gets no handshake to hold a slot or spend the thread on).
        ...(sources ? [`    tcp-request connection reject unless { src ${sources.join(" ")} }`] : []),
        // Until a connection has shown Caddy's certificate it holds a slot this long at most.
        `    timeout client-hs ${GATEWAY_LIMITS.handshakeTimeout}`,
        `    tcp-request session reject unless { ssl_c_used } { ssl_c_verify 0 } { ssl_c_s_dn(CN) -m str "${CADDY_CLIENT_CN}" }`,
        ...services.map(
            (s) => `    use_backend svc_${s.name} if { ssl_fc_sni -m str ${gatewayServerName(host.name, s.name)} }`,
        ),
        "    default_backend no_such_service",
        "",
        ...services.flatMap((s) => {
            const target = opts.targets?.[s.name];
            const server = target
                ? `    server ${s.name} ${target}`
                : `    server ${s.name} ${s.name}:${s.port} resolvers docker resolve-prefer ipv4 init-addr none`;
            return [`backend svc_${s.name}`, server, ""];
        }),
        "# A name this host does not serve: no server, the connection ends.",
        "backend no_such_service",
        "",
    ];
    return L.join("\n");
}
