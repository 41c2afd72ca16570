// haproxy.cfg for the two HAProxy roles. Pure and deterministic.
//
// The edge (a container on Linux, a native launchd job on a Mac) owns :80 and :443. It never
// terminates TLS: it waits for the ClientHello, then sends trusted sources (the tailnet ranges
// and homelab:trustedNetworks) to Caddy's plain listener and everyone else to the listener that
// demands a client certificate, prefixing a PROXY v2 header so Caddy sees the real client. Short
// pre-handshake timeouts and per-source limits keep one source from starving the others; the
// ceiling on untrusted connections keeps slots free for trusted sources.
//
// The relay (a container, Mac runtimes only) is the other end of the native edge's hop into
// Docker: it accepts a connection only when it carries the edge's client certificate, then
// forwards it to Caddy from the one address whose PROXY headers Caddy believes.
import { Model, TAILNET_IPV4_RANGE, TAILNET_IPV6_RANGE } from "../stacks/model";
import { parseCidr } from "../stacks/net";
import { CADDY_MTLS_PORT, CADDY_PLAIN_PORT, EDGE_TLS_FILES, RELAY_PORTS, RELAY_SERVER_NAME } from "./addresses";

/** The edge's limits, in one place: the README's security section and the e2e flood test read them. */
export const EDGE_LIMITS = {
    /** All connections the process accepts. */
    maxconn: 4096,
    /** Concurrent connections from untrusted sources, all together: the rest is kept for trusted ones. */
    untrustedTotal: 1024,
    /** Concurrent connections from one untrusted source (an IPv4 address, or an IPv6 /64). */
    perSource: 32,
    /** New connections from one untrusted source per 10 s. */
    perSourceRate10s: 100,
    /**
     * Concurrent connections from one trusted source (a tailnet device, a LAN device; IPv6 per
     * /64): a compromised device on the LAN (or the tailnet) cannot hold every slot, however
     * trusted. A browser uses a handful per site; a TV or a photo backup a few dozen.
     */
    trustedPerSource: 256,
    /**
     * Concurrent connections from the trusted networks (not the tailnet), all together: many LAN
     * addresses (one compromised box can take several) cannot take the tailnet's share either.
     * The same figure as untrustedTotal: one counter, keyed by class, checks both.
     */
    lanTotal: 1024,
    /** Time to send a TLS ClientHello on :443, or a whole request on :80. */
    helloTimeout: "5s",
    /** Inactivity limit before the connection is established end to end. */
    clientTimeout: "10s",
    /** Inactivity limit of an established stream (downloads, WebSockets). */
    tunnelTimeout: "1h",
    /** Old workers finish their connections after a soft reload, for at most this long. */
    hardStopAfter: "1h",
} as const;

/**
 * Holding new connections while Caddy reloads. Go's HTTP server drops a connection whose first
 * request it reads after a reload began shutting the old server down, and HAProxy cannot retry it
 * (the TLS handshake already went through). So the HAProxy that connects to Caddy (the edge
 * container on Linux, the relay on a Mac) stops accepting for a moment: new connections wait in
 * the kernel's queue instead of failing, the ones already passed to Caddy send their requests,
 * Caddy reloads, and HAProxy accepts again.
 */
export const CADDY_HOLD = {
    /** HAProxy's admin socket: on the container's own loopback, which nothing else shares. */
    admin: "127.0.0.1:9999",
    /** Seconds between holding and reloading, for connections already passed to Caddy to send a request. */
    settleSeconds: 1,
    /** A hold the host never released (a crashed run, a lost SSH session) ends by itself after this long. */
    maxSeconds: 30,
    /** While a hold is on, this file (in the container's /tmp) holds its token. */
    stateFile: "homelab-edge-hold",
} as const;

// One counter checks both totals (render: sourceRules), so they must stay one figure.
if ((EDGE_LIMITS.lanTotal as number) !== EDGE_LIMITS.untrustedTotal) throw new Error("internal: EDGE_LIMITS.lanTotal must equal untrustedTotal");

/**
 * The relay's limits (Mac runtimes). Every container reaches the relay's ports on the Mac's
 * loopback (host.docker.internal), from the same address as the native edge, so per-source limits
 * cannot tell them apart: the relay instead takes more connections than all containers together
 * can hold open. Docker Desktop's forwarder connects to 127.0.0.1:<port> from the Mac's ephemeral
 * ports (49152-65535: 16,384), so each frontend takes that many and the edge's own on top. (Docker
 * Desktop's forwarder itself may give out first: docs/security.md says what this does not cover.)
 */
export const RELAY_LIMITS = {
    /** Each frontend: every ephemeral port of the Mac's forwarder, plus every edge connection. */
    perFrontend: 16_384 + 4096,
    /** The relay process: both frontends, and their connections to Caddy. */
    maxconn: 2 * (16_384 + 4096),
} as const;

/** Open files the relay needs: two per connection, and some to spare (its container's nofile limit). */
export const RELAY_OPEN_FILES = 2 * RELAY_LIMITS.maxconn + 1024;

/** The frontends that pass connections to Caddy, for each role that holds them. */
export const HELD_FRONTENDS = { edge: ["https"], relay: ["from_edge_plain", "from_edge_mtls"] } as const;

/** The connection limit each held frontend's config sets, which a release puts back. */
export const HELD_LIMIT = { edge: EDGE_LIMITS.maxconn, relay: RELAY_LIMITS.perFrontend } as const;

/**
 * HAProxy CLI lines that hold and release new connections on a role's frontends. Holding sets a
 * frontend's connection limit to 0 (its listener stops accepting; the kernel queues what arrives);
 * releasing puts back the limit the config sets explicitly on that frontend.
 */
export function holdCommands(role: keyof typeof HELD_FRONTENDS): { hold: string; release: string } {
    const lines = (n: number) => HELD_FRONTENDS[role].map((f) => `set maxconn frontend ${f} ${n}`).join("\n") + "\n";
    return { hold: lines(0), release: lines(HELD_LIMIT[role]) };
}

/** The global lines of a role that can be held: HAProxy's admin socket, on a loopback address only. */
function adminSocket(admin: string | undefined): string[] {
    if (admin === undefined) return [];
    if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}:\d{1,5}$/.test(admin)) throw new Error(`internal: the admin socket must be on IPv4 loopback, not ${admin}`);
    return [`    stats socket ipv4@${admin} level admin`, "    stats timeout 10s"];
}

/**
 * IPv6 sources that HAProxy would compare as IPv4 (IPv4-compatible ::a.b.c.d and 6to4
 * 2002:AABB:CCDD::/48): never trusted, whatever IPv4 address they embed. (The IPv4-mapped form
 * ::ffff:a.b.c.d is how a dual-stack socket shows IPv4 clients; it is not in these ranges.)
 */
export const V4_EMBEDDING_RANGES = ["::/96", "2002::/16"];

export const DEFAULT_TAILNET_RANGES = [TAILNET_IPV4_RANGE, TAILNET_IPV6_RANGE];

/**
 * Source networks that skip the client certificate: both tailnet ranges, the configured trusted
 * networks, and the IPv4-mapped IPv6 form of every IPv4 range (a dual-stack listener sees IPv4
 * clients as ::ffff:a.b.c.d).
 */
export function trustedSources(model: Model, tailnetRanges: string[] = DEFAULT_TAILNET_RANGES): string[] {
    return withMapped([...tailnetRanges, ...model.trustedNetworks]);
}

/** Each IPv4 range, followed by its IPv4-mapped IPv6 form. */
export function withMapped(cidrs: string[]): string[] {
    const out: string[] = [];
    for (const cidr of cidrs) {
        out.push(cidr);
        const c = parseCidr(cidr, true);
        if (c && c.addr.kind() === "ipv4") out.push(`::ffff:${c.addr.toString()}/${96 + c.prefix}`);
    }
    return out;
}

/** Whether the edge splits by source: only when some service exposes mtls. */
export function edgeSplits(model: Model): boolean {
    return model.services.some((s) => s.expose.includes("mtls"));
}

/** How the edge reaches Caddy: straight (Linux), or through the relay with a client certificate (Mac). */
export type EdgeUpstream =
    | { kind: "caddy"; host: string; ports?: { plain: number; mtls: number }; resolvers?: { nameserver: string }; sourceAddress?: string }
    | { kind: "relay"; host: string; ports?: { plain: number; mtls: number } };

export interface EdgeOptions {
    bind: { http: string; https: string };
    upstream: EdgeUpstream;
    /**
     * Destinations served when nothing is split (a native edge binds the unspecified address and
     * refuses, by destination, what it does not serve). Undefined: no destination check (a
     * container edge, whose published ports already bind only those addresses).
     */
    servedDestinations?: string[];
    /** The tailnet's ranges (tests stand a loopback address in for them). */
    tailnetRanges?: string[];
    /** HAProxy's admin socket (CADDY_HOLD.admin), when this edge connects to Caddy and can be held. */
    admin?: string;
}

export interface RelayOptions {
    /** Where the relay listens inside its container. */
    bind?: { plain: string; mtls: string };
    /** Caddy, by name through Docker's DNS (tests: an address). */
    caddyHost: string;
    caddyPorts?: { plain: number; mtls: number };
    resolvers?: { nameserver: string };
    sourceAddress?: string;
    /** HAProxy's admin socket (CADDY_HOLD.admin), to hold new connections while Caddy reloads. */
    admin?: string;
    /** Connection limits (tests run smaller ones: their machine allows fewer open files). */
    limits?: { perFrontend: number; maxconn: number };
}

function header(model: Model, role: string, maxconn: number, quietLog = false, admin?: string): string[] {
    return [
        `# Rendered by homelab for ${model.domain} (${role}); do not edit: pulumi up rewrites it.`,
        "global",
        "    log stdout format raw local0",
        `    maxconn ${maxconn}`,
        ...adminSocket(admin),
        // A soft reload lets old workers finish their connections, for at most this long.
        `    hard-stop-after ${EDGE_LIMITS.hardStopAfter}`,
        "",
        "defaults",
        "    log global",
        "    mode tcp",
        "    option tcplog",
        "    option dontlognull",
        // The native edge logs to a file on the Mac: only what went wrong, not every connection.
        ...(quietLog ? ["    option dontlog-normal"] : []),
        "    timeout connect 5s",
        // Until both sides are connected the client gets seconds, not hours; an established
        // stream (a download, a WebSocket) may then stay quiet for up to the tunnel timeout.
        `    timeout client ${EDGE_LIMITS.clientTimeout}`,
        `    timeout server ${EDGE_LIMITS.clientTimeout}`,
        `    timeout tunnel ${EDGE_LIMITS.tunnelTimeout}`,
        "    timeout client-fin 30s",
        "    timeout server-fin 30s",
        // A connection Caddy refuses while it reloads is retried instead of failing the client.
        "    retries 3",
        "",
    ];
}

/**
 * A server found through Docker's DNS: its IPv4 address always. Caddy's listeners and the address
 * whose PROXY headers it believes are IPv4, and on an edge network with IPv6 Docker's DNS answers
 * with both (HAProxy would otherwise prefer the IPv6 one; seen on the engine tier).
 */
const DOCKER_DNS_SERVER = ["resolvers docker", "resolve-prefer ipv4", "init-addr none"];

function dockerResolvers(nameserver: string): string[] {
    return [
        // Docker's DNS: Caddy is found by name at run time, so HAProxy may start before Caddy
        // exists and follows it to a new address when the container is recreated.
        "resolvers docker",
        `    nameserver docker ${nameserver}`,
        "    resolve_retries 3",
        "    timeout resolve 1s",
        "    timeout retry 1s",
        "    hold valid 10s",
        "    hold nx 5s",
        "    hold obsolete 10s",
        "",
    ];
}

/** The stick tables that count connections: untrusted per source and all together, trusted per source. */
function limitTables(): string[] {
    return [
        "# Untrusted sources, counted per address (IPv6: per /64) and all together.",
        "backend per_source",
        `    stick-table type ipv6 size 100k expire 60s store conn_cur,conn_rate(10s)`,
        "",
        "# All together, by class: 1 the untrusted sources, 2 the trusted networks (the tailnet has the rest).",
        "backend untrusted_total",
        "    stick-table type integer size 2 expire 1h store conn_cur",
        "",
        "# Trusted sources: a tailnet device by its address (Tailscale gives a node one, and puts a",
        "# whole tailnet in one IPv6 /64), a device on a trusted network by its address (IPv6: its /64).",
        "backend per_trusted",
        "    stick-table type ipv6 size 100k expire 60s store conn_cur",
        "",
    ];
}

/** The edge host's own addresses in the stack, as host routes. */
function hostAddresses(model: Model): string[] {
    const addrs = [model.tailnet.ipv4, ...(model.tailnet.ipv6 ? [model.tailnet.ipv6] : []), ...model.listenAddresses];
    return addrs.map((a) => (a.includes(":") ? `${a}/128` : `${a}/32`));
}

/** Not trusted: outside the trusted sources, or an address that only looks trusted. */
function untrustedIf(model: Model): string {
    return ["!trusted", "v4_embedded", "self_conn", ...(model.untrustedSources.length > 0 ? ["excluded"] : [])].join(" or ");
}

/** Trusted: inside the trusted sources, and none of the addresses that only look trusted. */
function trustedIf(model: Model): string {
    return ["trusted", "!v4_embedded", "!self_conn", ...(model.untrustedSources.length > 0 ? ["!excluded"] : [])].join(" ");
}

/** Connection rules shared by :80 and :443: what is trusted, and the limits for everyone else. */
function sourceRules(model: Model, opts: EdgeOptions, split: boolean): string[] {
    const served = !split && opts.servedDestinations ? [`    tcp-request connection reject unless { dst ${withMapped(opts.servedDestinations).join(" ")} }`] : [];
    return [
        ...served,
        `    acl v4_embedded src ${V4_EMBEDDING_RANGES.join(" ")}`,
        `    acl trusted src ${trustedSources(model, opts.tailnetRanges).join(" ")}`,
        `    acl tailnet src ${withMapped(opts.tailnetRanges ?? DEFAULT_TAILNET_RANGES).join(" ")}`,
        ...(model.untrustedSources.length > 0 ? [`    acl excluded src ${withMapped(model.untrustedSources).join(" ")}`] : []),
        // A connection from the edge host itself (a process on it, or a container that Docker
        // Desktop forwards through the host) carries a trusted source without being a trusted
        // client: from the address it arrives on, or from one of the host's addresses the stack
        // knows (tailnet, listed). Two lines of one ACL: either matches.
        "    tcp-request connection set-var(sess.dst) dst",
        "    acl self_conn src,strcmp(sess.dst) eq 0",
        `    acl self_conn src ${withMapped(hostAddresses(model)).join(" ")}`,
        // Nothing split: an untrusted source has nothing to reach (Caddy's guard would refuse it
        // too), so it is refused here, also where a router forwards :443 to a listed address.
        ...(split ? [] : [`    tcp-request connection reject if ${untrustedIf(model)}`]),
        `    tcp-request connection track-sc0 src,ipmask(32,64) table per_source if ${untrustedIf(model)}`,
        `    tcp-request connection track-sc1 int(1) table untrusted_total if ${untrustedIf(model)}`,
        `    tcp-request connection reject if { sc0_conn_cur gt ${EDGE_LIMITS.perSource} }`,
        `    tcp-request connection reject if { sc0_conn_rate gt ${EDGE_LIMITS.perSourceRate10s} }`,
        // Trusted sources too: the trusted networks all together (sc1, key 2), and each source
        // (sc2, tracked only for trusted ones). The tailnet is never limited as a whole.
        `    tcp-request connection track-sc1 int(2) table untrusted_total if ${trustedIf(model)} !tailnet`,
        `    tcp-request connection reject if { sc1_conn_cur gt ${EDGE_LIMITS.untrustedTotal} }`,
        `    tcp-request connection track-sc2 src table per_trusted if ${trustedIf(model)} tailnet`,
        `    tcp-request connection track-sc2 src,ipmask(32,64) table per_trusted if ${trustedIf(model)} !tailnet`,
        `    tcp-request connection reject if { sc2_conn_cur gt ${EDGE_LIMITS.trustedPerSource} }`,
    ];
}

function edgeServer(upstream: EdgeUpstream, port: number): string {
    if (upstream.kind === "relay") {
        const f = EDGE_TLS_FILES;
        return `    server relay ${upstream.host}:${port} send-proxy-v2 ssl verify required ca-file ${f.ca} crt ${f.edgeClient} sni str(${RELAY_SERVER_NAME}) verifyhost ${RELAY_SERVER_NAME}`;
    }
    const opts = ["send-proxy-v2", ...(upstream.sourceAddress ? [`source ${upstream.sourceAddress}`] : []), ...(upstream.resolvers ? DOCKER_DNS_SERVER : [])];
    return `    server caddy ${upstream.host}:${port} ${opts.join(" ")}`;
}

export function renderEdgeCfg(model: Model, opts: EdgeOptions): string {
    const split = edgeSplits(model);
    const up = opts.upstream;
    const ports = up.ports ?? (up.kind === "relay" ? RELAY_PORTS : { plain: CADDY_PLAIN_PORT, mtls: CADDY_MTLS_PORT });
    const admin = up.kind === "caddy" ? opts.admin : undefined;
    if (opts.admin !== undefined && admin === undefined) throw new Error("internal: only an edge that connects to Caddy is held");
    const L = header(model, up.kind === "relay" ? "native edge" : "edge", EDGE_LIMITS.maxconn, up.kind === "relay", admin);
    if (up.kind === "caddy" && up.resolvers) L.push(...dockerResolvers(up.resolvers.nameserver));
    L.push(...limitTables());
    L.push(
        "# :80 only ever redirects to HTTPS; nothing is proxied in plain HTTP.",
        "frontend http",
        "    mode http",
        `    bind ${opts.bind.http}`,
        `    timeout http-request ${EDGE_LIMITS.helloTimeout}`,
        `    timeout http-keep-alive ${EDGE_LIMITS.helloTimeout}`,
        ...sourceRules(model, opts, split),
        "    http-request redirect scheme https code 301",
        "",
    );
    L.push(
        split
            ? "# Trusted sources (tailnet, trusted networks) skip the client certificate; everyone else needs one."
            : "# No service exposes mtls: nothing to split, every connection goes to the plain listener.",
        "frontend https",
        `    bind ${opts.bind.https}`,
        // Explicit, so releasing a hold puts back exactly this limit.
        ...(admin !== undefined ? [`    maxconn ${EDGE_LIMITS.maxconn}`] : []),
        ...sourceRules(model, opts, split),
        // Wait for a TLS ClientHello before choosing; anything else, or nothing in time, is dropped.
        `    tcp-request inspect-delay ${EDGE_LIMITS.helloTimeout}`,
        "    tcp-request content reject unless { req.ssl_hello_type 1 }",
        ...(split ? [`    use_backend caddy_plain if ${trustedIf(model)}`, "    default_backend caddy_mtls"] : ["    default_backend caddy_plain"]),
        "",
    );
    L.push("backend caddy_plain", edgeServer(up, ports.plain), "");
    if (split) L.push("backend caddy_mtls", edgeServer(up, ports.mtls), "");
    return L.join("\n");
}

export function renderRelayCfg(model: Model, opts: RelayOptions): string {
    const bind = opts.bind ?? { plain: `:${RELAY_PORTS.plain}`, mtls: `:${RELAY_PORTS.mtls}` };
    const ports = opts.caddyPorts ?? { plain: CADDY_PLAIN_PORT, mtls: CADDY_MTLS_PORT };
    const f = EDGE_TLS_FILES;
    const server = (port: number) =>
        `    server caddy ${opts.caddyHost}:${port} ${["send-proxy-v2", ...(opts.sourceAddress ? [`source ${opts.sourceAddress}`] : []), ...(opts.resolvers ? DOCKER_DNS_SERVER : [])].join(" ")}`;
    // The PROXY header comes first, in clear, then the TLS handshake that proves the sender is
    // the edge; the client's own TLS runs inside. Without the edge's certificate nothing passes.
    const accept = `ssl crt ${f.relayServer} ca-file ${f.ca} verify required accept-proxy`;
    const limits = opts.limits ?? RELAY_LIMITS;
    const L = header(model, "relay", limits.maxconn, false, opts.admin);
    // Explicit on each frontend (a hold's release puts back exactly this).
    const held = [`    maxconn ${limits.perFrontend}`];
    if (opts.resolvers) L.push(...dockerResolvers(opts.resolvers.nameserver));
    L.push(
        "# From the Mac's edge only (its client certificate), to Caddy's plain listener.",
        "frontend from_edge_plain",
        `    bind ${bind.plain} ${accept}`,
        ...held,
        "    default_backend caddy_plain",
        "",
        "# From the Mac's edge only, to Caddy's client-certificate listener.",
        "frontend from_edge_mtls",
        `    bind ${bind.mtls} ${accept}`,
        ...held,
        "    default_backend caddy_mtls",
        "",
        "backend caddy_plain",
        server(ports.plain),
        "",
        "backend caddy_mtls",
        server(ports.mtls),
        "",
    );
    return L.join("\n");
}
