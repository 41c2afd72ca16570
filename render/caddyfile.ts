// The Caddyfile: two HTTPS listeners behind the edge.
//   :8443 plain   - private hostnames (apex + wildcard) and mtls hostnames, for trusted sources.
//   :9443 mtls    - only mtls hostnames; every handshake must present a current user's
//                   certificate (CA chain + leaf allowlist); routes straight to the services.
// Both bind only to Caddy's address on the edge network and believe PROXY v2 headers only from
// HAProxy's fixed address there; the plain listener also refuses any request whose client address
// (after the header) is not a trusted source, so a connection that reaches it any other way gets
// nothing. Certificates come from Let's Encrypt by DNS-01; the token is only referenced as a
// runtime placeholder. The certificate source is the `(certificate)` snippet and nothing else, so
// a test render can swap it and prove the rest byte-identical. Every value that lands here was
// validated as a Caddyfile token and is checked again by the marshaller (render/caddyTree.ts).
// Each part below returns nodes of the tree; renderCaddyfile puts them in order. Pure.
import { GATEWAY_PORT, Model, hasClients, servicesOn, Service } from "../stacks/model";
import { CLOCK_PATH } from "./gatus";
import { gatewayServerName } from "./gateway";
import { BLANK, Node, Token, Value, block, comment, directive, marshal, val } from "./caddyTree";
import { CADDY_ADMIN, CADDY_HOSTS_PKI, CADDY_MTLS_PORT, CADDY_PKI, CADDY_PLAIN_PORT } from "../stacks/layout";
import { DEFAULT_TAILNET_RANGES, trustedSources, withMapped } from "./haproxy";

export type CertificateSource = { kind: "acme" } | { kind: "folder"; dir: string };

export interface CaddyfileOptions {
    certificates: CertificateSource;
    /** Where the CA and leaf allowlist PEMs are (production: relative to /etc/caddy). */
    pki?: { ca: string; clients: string };
    /** The tailnet's ranges (tests stand a loopback address in for them). */
    tailnetRanges?: string[];
    /** Further hosts' gateways, host name → `address:port` (tests); production: the host's tailnet address. */
    gateways?: Record<string, string>;
}

/**
 * With homelab:monitoring: the status container's one address (its fixed one on the edge network),
 * a trusted source of the plain listener as a tailnet device is. Only the edge's monitor entry
 * sends it here, and no other container can take that address.
 */
function monitorSources(model: Model): string[] {
    if (!model.monitoring) return [];
    const a = model.addresses.monitor;
    return [a.includes(":") ? `${a}/128` : `${a}/32`];
}

export const WHOAMI_PATH = "/.well-known/homelab/whoami";
const HSTS = "max-age=31536000";

/**
 * Reload behaviour, in one place. A reload lets requests in flight finish for at most
 * GRACE_PERIOD (so a removed user's download ends within it); upgraded connections (WebSockets)
 * outlive a reload by STREAM_CLOSE_DELAY: long on the plain listener, short on the mtls listener
 * so a removed user's WebSocket ends soon after the reload that removed them.
 */
export const CADDY_TIMING = {
    gracePeriod: "10s",
    readHeader: "10s",
    streamCloseDelay: { plain: "1h", mtls: "2m" },
} as const;

/** The certificate source as a snippet: Let's Encrypt by DNS-01, or a folder (tests). */
function certificateSnippet(model: Model, source: CertificateSource): Node {
    const body =
        source.kind === "acme"
            ? [
                  directive("dns", ["cloudflare", "{env.CLOUDFLARE_API_TOKEN}"]),
                  directive(
                      "resolvers",
                      model.acme.resolvers.map((r) => val(r, "resolver")),
                  ),
                  directive("propagation_timeout", [val(model.acme.propagationTimeout, "propagation timeout")]),
              ]
            : [directive("load", [val(source.dir, "certificate folder")])];
    return block("(certificate)", [], body);
}

/** The only part that differs between production and a test render. */
export function renderCertificateSnippet(model: Model, source: CertificateSource): string {
    return marshal([certificateSnippet(model, source)]);
}

/** Base64 DER of each certificate in a PEM bundle (what Caddy's inline trust pool takes). */
export function derBase64(pem: string): string[] {
    return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((b) =>
        b.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, ""),
    );
}

/** How Caddy talks TLS to an https upstream: only what the config says. */
function upstreamTransport(s: Service): Node[] {
    if (s.upstreamScheme !== "https" || !s.upstreamTls) return [];
    const tls = s.upstreamTls;
    const body = tls.insecureSkipVerify
        ? [directive("tls_insecure_skip_verify")]
        : [
              ...(tls.serverName ? [directive("tls_server_name", [val(tls.serverName, "upstream server name")])] : []),
              ...(tls.ca
                  ? [
                        block(
                            "tls_trust_pool",
                            ["inline"],
                            derBase64(tls.ca).map((d) => directive("trust_der", [val(d, "CA certificate")])),
                        ),
                    ]
                  : []),
          ];
    return [block("transport", ["http"], body)];
}

/** forward_auth before the proxy (Authelia, Authentik, oauth2-proxy): Caddy asks it about every request. */
function forwardAuth(s: Service): Node[] {
    const fa = s.forwardAuth;
    if (!fa) return [];
    const target = fa.scheme === "https" ? `https://${fa.upstream}` : fa.upstream;
    return [
        block(
            "forward_auth",
            [val(target, "forward auth upstream")],
            [
                directive("uri", [val(fa.uri, "forward auth uri")]),
                ...(fa.copyHeaders.length > 0
                    ? [
                          directive(
                              "copy_headers",
                              fa.copyHeaders.map((h) => val(h, "header")),
                          ),
                      ]
                    : []),
            ],
        ),
    ];
}

/**
 * A service on a further host: through that host's gateway, over TLS, with the client
 * certificate the stack's hosts CA issued to Caddy; the name asked for picks the service there.
 * The service gets the Host header the client sent, as on the edge host: Caddy would otherwise
 * put the gateway's address there (its default for a TLS upstream), and the service would build
 * its links and redirects, and check its allowed names, against 100.x.y.z:7443.
 */
function gatewayRoute(model: Model, s: Service, opts: CaddyfileOptions): { target: string; body: Node[] } {
    const host = s.kind === "managed" ? model.hosts.find((h) => h.name === s.host) : undefined;
    if (!host) throw new Error(`internal: service ${s.name} on unknown host`);
    const pki = CADDY_HOSTS_PKI;
    return {
        target: `https://${opts.gateways?.[host.name] ?? `${host.tailnet.ipv4}:${GATEWAY_PORT}`}`,
        body: [
            directive("header_up", ["Host", "{hostport}"]),
            block(
                "transport",
                ["http"],
                [
                    directive("tls_client_auth", [pki.clientCert, pki.clientKey]),
                    directive("tls_trust_pool", ["file", pki.ca]),
                    directive("tls_server_name", [val(gatewayServerName(host.name, s.name), "gateway server name")]),
                ],
            ),
        ],
    };
}

/** A service's route: forward_auth if configured, then the proxy to its upstream. */
function proxyTo(model: Model, s: Service, listener: "plain" | "mtls", opts: CaddyfileOptions): Node[] {
    const further = s.kind === "managed" && s.host !== undefined ? gatewayRoute(model, s, opts) : undefined;
    const target = further?.target ?? (s.upstreamScheme === "https" ? `https://${s.upstream}` : s.upstream);
    return [
        ...forwardAuth(s),
        block(
            "reverse_proxy",
            [val(target, "upstream")],
            [
                // Stream responses as they come (media, server-sent events); WebSocket upgrades pass through.
                directive("flush_interval", ["-1"]),
                directive("stream_close_delay", [CADDY_TIMING.streamCloseDelay[listener]]),
                ...(further?.body ?? upstreamTransport(s)),
            ],
        ),
    ];
}

function host(name: string): Value {
    return val(name, "hostname");
}

function site(address: Token, body: Node[]): Node[] {
    return [block(address, [], body), BLANK];
}

/** PROXY v2 only from HAProxy's address, then TLS; timeouts; HTTP/1.1 and HTTP/2 only. */
function serverOptions(model: Model): Node[] {
    return [
        block(
            "listener_wrappers",
            [],
            [
                block(
                    "proxy_protocol",
                    [],
                    [
                        directive("timeout", ["5s"]),
                        directive("allow", [val(`${model.addresses.haproxy}/32`, "HAProxy address")]),
                        // From any other address a PROXY header is refused; without one, the connection keeps
                        // its own address, which the plain listener's guard refuses.
                        directive("fallback_policy", ["REJECT"]),
                    ],
                ),
                directive("tls"),
            ],
        ),
        // The TLS handshake and request headers must arrive within this (Go derives the handshake
        // deadline from it); a slow or silent client cannot hold a connection for long.
        block("timeouts", [], [directive("read_header", [CADDY_TIMING.readHeader])]),
        // No HTTP/3: nothing publishes UDP, and client auth is not enforced over QUIC everywhere.
        directive("protocols", ["h1", "h2"]),
    ];
}

/** One `servers` block per listener: its name, the shared options, and strict SNI on mtls. */
function serverBlocks(model: Model): Node[] {
    const listener = (port: number) => val(`${model.addresses.caddy}:${port}`, "listener address");
    return [
        // The server options apply to the listener address, which default_bind makes specific.
        block("servers", [listener(CADDY_PLAIN_PORT)], [directive("name", ["plain"]), ...serverOptions(model)]),
        block(
            "servers",
            [listener(CADDY_MTLS_PORT)],
            [
                directive("name", ["mtls"]),
                ...serverOptions(model),
                // The TLS server name must match the Host header, so a handshake for one name cannot be
                // reused to reach another.
                directive("strict_sni_host", ["on"]),
            ],
        ),
    ];
}

/**
 * Headers on every response, the whoami probe, the clock the status page's certificate checks read
 * (homelab:monitoring: Caddy's time in Unix seconds; the time is no secret), and errors that say
 * nothing about the software.
 */
function commonSnippet(model: Model): Node {
    return block(
        "(common)",
        [],
        [
            directive("header", ["Strict-Transport-Security", `"${HSTS}"`]),
            directive("header", ["-Server"]),
            block(
                "handle",
                [WHOAMI_PATH],
                [
                    directive("respond", [
                        '"listener={args[0]} client={remote_host} tls_client={http.request.tls.client.subject}"',
                        "200",
                    ]),
                ],
            ),
            ...(model.monitoring
                ? [block("handle", [CLOCK_PATH], [directive("respond", ['"{time.now.unix}"', "200"])])]
                : []),
            // Errors Caddy raises itself (421 when the TLS name and Host differ, 404, 502) say nothing
            // about the software either.
            block(
                "handle_errors",
                [],
                [
                    directive("header", ["-Server"]),
                    directive("respond", ['"{err.status_code} {err.status_text}"', "{err.status_code}"]),
                ],
            ),
        ],
    );
}

/**
 * The plain listener serves trusted sources only: the edge sends nobody else here, and a
 * connection that arrives any other way (no PROXY header: its own address) gets nothing.
 */
function trustedOnlySnippet(model: Model, tailnetRanges: string[]): Node {
    const cidrs = (list: string[]) => list.map((c) => val(c, "trusted source"));
    return block(
        "(trusted_only)",
        [],
        [
            directive("@untrusted", [
                "not",
                "remote_ip",
                ...cidrs([...trustedSources(model, tailnetRanges), ...monitorSources(model)]),
            ]),
            directive("abort", ["@untrusted"]),
            ...(model.untrustedSources.length > 0
                ? [
                      directive("@excluded", ["remote_ip", ...cidrs(withMapped(model.untrustedSources))]),
                      directive("abort", ["@excluded"]),
                  ]
                : []),
        ],
    );
}

function clientAuthSnippet(model: Model, pki: { ca: string; clients: string }): Node {
    return block(
        "(client_auth)",
        [],
        [
            block(
                "client_auth",
                [],
                [
                    directive("mode", ["require_and_verify"]),
                    directive("trust_pool", ["file", val(pki.ca, "CA file")]),
                    // Caddy has no CRL support: only the current users' certificates are accepted, so
                    // removing a user revokes their certificate at the next reload.
                    ...(hasClients(model)
                        ? [directive("verifier", ["leaf", "file", val(pki.clients, "leaf file")])]
                        : []),
                ],
            ),
        ],
    );
}

function plainSite(address: string, body: Node[]): Node[] {
    return site(val(`https://${address}:${CADDY_PLAIN_PORT}`, "site address"), [
        block("tls", [], [directive("import", ["certificate"])]),
        directive("import", ["trusted_only"]),
        directive("import", ["common", "plain"]),
        ...body,
    ]);
}

function globalOptions(model: Model): Node {
    const bind = val(model.addresses.caddy, "Caddy address");
    return block(
        "",
        [],
        [
            directive("email", [val(model.acme.email, "ACME email")]),
            ...(model.acme.ca ? [directive("acme_ca", [val(model.acme.ca, "ACME directory")])] : []),
            directive("admin", [CADDY_ADMIN]),
            // Nothing in Caddy listens on :80; the edge answers it with a redirect.
            directive("auto_https", ["disable_redirects"]),
            // abort runs before every other handler (by default it comes after handle): the plain
            // listener's guard must see each request before any route can answer it.
            directive("order", ["abort", "first"]),
            // Only Caddy's address on the edge network: no other container network reaches the listeners.
            directive("default_bind", [bind]),
            directive("grace_period", [CADDY_TIMING.gracePeriod]),
            ...serverBlocks(model),
        ],
    );
}

/** :8443: the private apex and wildcard, and every mtls name, for trusted sources. */
function plainListener(model: Model, opts: CaddyfileOptions): Node[] {
    const privateServices = servicesOn(model, "private");
    const apex = privateServices.find((s) => s.apex);
    const route = (s: Service) => proxyTo(model, s, "plain", opts);
    const apexBody = apex
        ? route(apex)
        : [directive("respond", [`"homelab: ${host(model.private.fqdn).value}"`, "200"])];
    const byName = privateServices
        .filter((s) => !s.apex)
        .flatMap((s) => [
            directive(val(`@${s.name}`, "matcher"), ["host", host(s.hostnames.private as string)]),
            block("handle", [val(`@${s.name}`, "matcher")], route(s)),
        ]);
    return [
        comment(`Plain listener (:${CADDY_PLAIN_PORT}): tailnet and trusted networks, no client certificate.`),
        ...plainSite(host(model.private.fqdn).value, [block("handle", [], apexBody)]),
        ...plainSite(host(model.private.wildcard).value, [
            ...byName,
            block("handle", [], [directive("respond", ['"no such service"', "404"])]),
        ]),
        ...servicesOn(model, "mtls").flatMap((s) =>
            plainSite(host(s.hostnames.mtls as string).value, [block("handle", [], route(s))]),
        ),
        // Any other name on the plain listener: no route.
        ...site(`https://:${CADDY_PLAIN_PORT}`, [directive("abort")]),
    ];
}

/** :9443: only mtls names, and only with a current user's certificate. */
function mtlsListener(model: Model, opts: CaddyfileOptions): Node[] {
    const services = servicesOn(model, "mtls");
    const sites = services.flatMap((s) =>
        site(val(`https://${s.hostnames.mtls as string}:${CADDY_MTLS_PORT}`, "site address"), [
            block("tls", [], [directive("import", ["certificate"]), directive("import", ["client_auth"])]),
            directive("import", ["common", "mtls"]),
            block("handle", [], proxyTo(model, s, "mtls", opts)),
        ]),
    );
    return [
        comment(
            `mTLS listener (:${CADDY_MTLS_PORT}): everyone else. Only mtls hostnames, and only with a current user's certificate.`,
        ),
        ...(hasClients(model) ? sites : []),
        ...(!hasClients(model) && services.length > 0
            ? [comment("No users: nobody holds a certificate, so no mtls hostname is served here.")]
            : []),
        // Every handshake on this listener, whatever name it asks for, must present a certificate.
        block(
            `https://:${CADDY_MTLS_PORT}`,
            [],
            [block("tls", [], [directive("import", ["client_auth"])]), directive("abort")],
        ),
    ];
}

export function renderCaddyfile(model: Model, opts: CaddyfileOptions): string {
    return marshal([
        comment(`Rendered by homelab for ${model.domain}; do not edit: pulumi up rewrites it and reloads Caddy.`),
        globalOptions(model),
        BLANK,
        certificateSnippet(model, opts.certificates),
        BLANK,
        commonSnippet(model),
        BLANK,
        trustedOnlySnippet(model, opts.tailnetRanges ?? DEFAULT_TAILNET_RANGES),
        BLANK,
        clientAuthSnippet(model, opts.pki ?? CADDY_PKI),
        BLANK,
        ...plainListener(model, opts),
        ...mtlsListener(model, opts),
    ]);
}
