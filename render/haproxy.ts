// haproxy.cfg: a TCP router in front of Caddy. It never terminates TLS; it waits for the
// ClientHello, then sends trusted sources to Caddy's plain listener and everyone else to the
// listener that demands a client certificate, prefixing a PROXY v2 header so Caddy sees the
// real client address. Pure and deterministic.
import { Model, TAILNET_IPV4_RANGE, TAILNET_IPV6_RANGE } from "../stacks/model";
import { parseCidr } from "../stacks/net";
import { CADDY_MTLS_PORT, CADDY_PLAIN_PORT } from "./addresses";

export interface HaproxyOptions {
    /** Where Caddy is: "caddy" (Docker DNS) in production, 127.0.0.1 in tests. */
    caddyHost: string;
    /** Resolve caddyHost at run time through this DNS server (Docker's is 127.0.0.11:53). */
    resolvers?: { nameserver: string };
    /** Listen addresses inside the HAProxy container (production defaults below). */
    bind?: { http: string; https: string; wanProxy?: string };
    /** Ports of Caddy's listeners (production defaults 8443 / 9443). */
    caddyPorts?: { plain: number; mtls: number };
    /** Source address for connections to Caddy (tests: HAProxy's address as Caddy expects it). */
    sourceAddress?: string;
    /**
     * The tailnet's ranges (production: 100.64.0.0/10 and fd7a:115c:a1e0::/48). The end-to-end
     * tests stand a loopback address in for the tailnet, as they do for the LAN and the WAN.
     */
    tailnetRanges?: string[];
}

export const DEFAULT_BIND = { http: ":::80 v4v6", https: ":::443 v4v6", wanProxy: ":::4443 v4v6" };

/**
 * Source networks that skip the client certificate: both tailnet ranges, the configured trusted
 * networks, and the IPv4-mapped IPv6 form of every IPv4 range (a dual-stack listener sees IPv4
 * clients as ::ffff:a.b.c.d).
 */
export function trustedSources(model: Model, tailnetRanges: string[] = [TAILNET_IPV4_RANGE, TAILNET_IPV6_RANGE]): string[] {
    const out: string[] = [];
    for (const cidr of [...tailnetRanges, ...model.trustedNetworks]) {
        out.push(cidr);
        const c = parseCidr(cidr);
        if (c && c.addr.kind() === "ipv4") out.push(`::ffff:${c.addr.toString()}/${96 + c.prefix}`);
    }
    return out;
}

export function renderHaproxyCfg(model: Model, opts: HaproxyOptions): string {
    const bind = { ...DEFAULT_BIND, ...(opts.bind ?? {}) };
    const ports = opts.caddyPorts ?? { plain: CADDY_PLAIN_PORT, mtls: CADDY_MTLS_PORT };
    const split = model.services.some((s) => s.expose.includes("mtls"));
    const proxied = split && model.wan?.proxyProtocol === true;
    const serverOpts = [
        "send-proxy-v2",
        ...(opts.sourceAddress ? [`source ${opts.sourceAddress}`] : []),
        ...(opts.resolvers ? ["resolvers docker", "init-addr none"] : []),
    ].join(" ");
    const L: string[] = [];
    const add = (...lines: string[]) => L.push(...lines);

    add(
        `# Rendered by homelab for ${model.domain}; do not edit: pulumi up rewrites it.`,
        "global",
        "    log stdout format raw local0",
        "    maxconn 4096",
        // A soft reload lets old workers finish their connections; long streams may not end on
        // their own, so old workers are stopped after this long.
        "    hard-stop-after 1h",
        "",
        "defaults",
        "    log global",
        "    mode tcp",
        "    option tcplog",
        "    option dontlognull",
        "    timeout connect 5s",
        // Inactivity limits once a connection is established: long enough for streams and
        // WebSockets that stay quiet for a while.
        "    timeout client 1h",
        "    timeout server 1h",
        "    timeout client-fin 30s",
        "    timeout server-fin 30s",
        "",
    );
    if (opts.resolvers) {
        add(
            // Docker's DNS: Caddy is found by name at run time, so HAProxy may start before Caddy
            // exists and follows it to a new address when the container is recreated.
            "resolvers docker",
            `    nameserver docker ${opts.resolvers.nameserver}`,
            "    resolve_retries 3",
            "    timeout resolve 1s",
            "    timeout retry 1s",
            "    hold valid 10s",
            "    hold nx 5s",
            "    hold obsolete 10s",
            "",
        );
    }
    add(
        "# :80 only ever redirects to HTTPS; nothing is proxied in plain HTTP.",
        "frontend http",
        "    mode http",
        `    bind ${bind.http}`,
        "    http-request redirect scheme https code 301",
        "",
    );
    // Wait for a TLS ClientHello before choosing; anything else is dropped.
    const helloRules = ["    tcp-request inspect-delay 5s", "    tcp-request content reject unless { req.ssl_hello_type 1 }"];
    const plainOnly = (...comment: string[]) => [...comment, "frontend https", `    bind ${bind.https}`, ...helloRules, "    default_backend caddy_plain", ""];
    const splitRules = [
        ...helloRules,
        `    acl trusted src ${trustedSources(model, opts.tailnetRanges).join(" ")}`,
        "    use_backend caddy_plain if trusted",
        "    default_backend caddy_mtls",
    ];
    if (!split) {
        add(
            ...plainOnly(
                "# No service exposes mtls: nothing to split, every connection goes to the plain listener",
                "# (HAProxy's ports are published only on the tailnet and listed addresses).",
            ),
        );
    } else if (!proxied) {
        add("# Trusted sources (tailnet, trusted networks) skip the client certificate; everyone else needs one.", "frontend https", `    bind ${bind.https}`, ...splitRules, "");
    } else {
        add(
            ...plainOnly("# Direct connections arrive only on the tailnet and listed addresses: trusted."),
            "# The router forwards the WAN here with a PROXY v2 header carrying the real client address.",
            "frontend wan",
            `    bind ${bind.wanProxy} accept-proxy`,
            ...splitRules,
            "",
        );
    }
    add("backend caddy_plain", `    server caddy ${opts.caddyHost}:${ports.plain} ${serverOpts}`, "");
    if (split) add("backend caddy_mtls", `    server caddy ${opts.caddyHost}:${ports.mtls} ${serverOpts}`, "");
    return L.join("\n");
}
