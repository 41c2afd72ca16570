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
// validated as a Caddyfile token and is checked again. Pure and deterministic.
import { Model, servicesOn, Service } from "../stacks/model";
import { assertCaddyToken } from "../stacks/grammar";
import { CADDY_ADMIN, CADDY_MTLS_PORT, CADDY_PKI, CADDY_PLAIN_PORT } from "./addresses";
import { DEFAULT_TAILNET_RANGES, trustedSources, withMapped } from "./haproxy";

export type CertificateSource = { kind: "acme" } | { kind: "folder"; dir: string };

export interface CaddyfileOptions {
    certificates: CertificateSource;
    /** Where the CA and leaf allowlist PEMs are (production: relative to /etc/caddy). */
    pki?: { ca: string; clients: string };
    /** The tailnet's ranges (tests stand a loopback address in for them). */
    tailnetRanges?: string[];
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

/** The only part that differs between production and a test render. */
export function renderCertificateSnippet(model: Model, source: CertificateSource): string {
    const body =
        source.kind === "acme"
            ? [
                  "\tdns cloudflare {env.CLOUDFLARE_API_TOKEN}",
                  `\tresolvers ${model.acme.resolvers.map((r) => assertCaddyToken(r, "resolver")).join(" ")}`,
                  `\tpropagation_timeout ${assertCaddyToken(model.acme.propagationTimeout, "propagation timeout")}`,
              ]
            : [`\tload ${source.dir}`];
    return ["(certificate) {", ...body, "}", ""].join("\n");
}

/** Base64 DER of each certificate in a PEM bundle (what Caddy's inline trust pool takes). */
export function derBase64(pem: string): string[] {
    return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((b) =>
        b.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, ""),
    );
}

/** How Caddy talks TLS to an https upstream: only what the config says. */
function upstreamTransport(s: Service, indent: string): string[] {
    if (s.upstreamScheme !== "https" || !s.upstreamTls) return [];
    const tls = s.upstreamTls;
    const body = tls.insecureSkipVerify
        ? [`${indent}\t\ttls_insecure_skip_verify`]
        : [
              ...(tls.serverName
                  ? [`${indent}\t\ttls_server_name ${assertCaddyToken(tls.serverName, "upstream server name")}`]
                  : []),
              ...(tls.ca
                  ? [
                        `${indent}\t\ttls_trust_pool inline {`,
                        ...derBase64(tls.ca).map(
                            (d) => `${indent}\t\t\ttrust_der ${assertCaddyToken(d, "CA certificate")}`,
                        ),
                        `${indent}\t\t}`,
                    ]
                  : []),
          ];
    return [`${indent}\ttransport http {`, ...body, `${indent}\t}`];
}

/** forward_auth before the proxy (Authelia, Authentik, oauth2-proxy): Caddy asks it about every request. */
function forwardAuthBlock(s: Service, indent: string): string[] {
    const fa = s.forwardAuth;
    if (!fa) return [];
    const target = fa.scheme === "https" ? `https://${fa.upstream}` : fa.upstream;
    return [
        `${indent}forward_auth ${assertCaddyToken(target, "forward auth upstream")} {`,
        `${indent}\turi ${assertCaddyToken(fa.uri, "forward auth uri")}`,
        ...(fa.copyHeaders.length > 0
            ? [`${indent}\tcopy_headers ${fa.copyHeaders.map((h) => assertCaddyToken(h, "header")).join(" ")}`]
            : []),
        `${indent}}`,
    ];
}

function upstreamBlock(s: Service, indent: string, listener: "plain" | "mtls"): string[] {
    const target = s.upstreamScheme === "https" ? `https://${s.upstream}` : s.upstream;
    return [
        ...forwardAuthBlock(s, indent),
        `${indent}reverse_proxy ${assertCaddyToken(target, "upstream")} {`,
        // Stream responses as they come (media, server-sent events); WebSocket upgrades pass through.
        `${indent}\tflush_interval -1`,
        `${indent}\tstream_close_delay ${CADDY_TIMING.streamCloseDelay[listener]}`,
        ...upstreamTransport(s, indent),
        `${indent}}`,
    ];
}

function host(name: string): string {
    return assertCaddyToken(name, "hostname");
}

export function renderCaddyfile(model: Model, opts: CaddyfileOptions): string {
    const pki = opts.pki ?? CADDY_PKI;
    const plain = CADDY_PLAIN_PORT;
    const mtls = CADDY_MTLS_PORT;
    const privateServices = servicesOn(model, "private");
    const mtlsServices = servicesOn(model, "mtls");
    const apex = privateServices.find((s) => s.apex);
    const wildcardServices = privateServices.filter((s) => !s.apex);
    const L: string[] = [];
    const add = (...lines: string[]) => L.push(...lines);

    const bindAddress = assertCaddyToken(model.addresses.caddy, "Caddy address");
    const listenerWrappers = [
        "\t\tlistener_wrappers {",
        "\t\t\tproxy_protocol {",
        "\t\t\t\ttimeout 5s",
        `\t\t\t\tallow ${assertCaddyToken(model.addresses.haproxy, "HAProxy address")}/32`,
        // From any other address a PROXY header is refused; without one, the connection keeps
        // its own address, which the plain listener's guard refuses.
        "\t\t\t\tfallback_policy REJECT",
        "\t\t\t}",
        "\t\t\ttls",
        "\t\t}",
    ];
    const serverOptions = [
        ...listenerWrappers,
        // The TLS handshake and request headers must arrive within this (Go derives the handshake
        // deadline from it); a slow or silent client cannot hold a connection for long.
        "\t\ttimeouts {",
        `\t\t\tread_header ${CADDY_TIMING.readHeader}`,
        "\t\t}",
        // No HTTP/3: nothing publishes UDP, and client auth is not enforced over QUIC everywhere.
        "\t\tprotocols h1 h2",
    ];
    add(
        `# Rendered by homelab for ${model.domain}; do not edit: pulumi up rewrites it and reloads Caddy.`,
        "{",
        `\temail ${assertCaddyToken(model.acme.email, "ACME email")}`,
        ...(model.acme.ca ? [`\tacme_ca ${assertCaddyToken(model.acme.ca, "ACME directory")}`] : []),
        `\tadmin ${CADDY_ADMIN}`,
        // Nothing in Caddy listens on :80; the edge answers it with a redirect.
        "\tauto_https disable_redirects",
        // abort runs before every other handler (by default it comes after handle): the plain
        // listener's guard must see each request before any route can answer it.
        "\torder abort first",
        // Only Caddy's address on the edge network: no other container network reaches the listeners.
        `\tdefault_bind ${bindAddress}`,
        `\tgrace_period ${CADDY_TIMING.gracePeriod}`,
        // The server options apply to the listener address, which default_bind makes specific.
        `\tservers ${bindAddress}:${plain} {`,
        "\t\tname plain",
        ...serverOptions,
        "\t}",
        `\tservers ${bindAddress}:${mtls} {`,
        "\t\tname mtls",
        ...serverOptions,
        // The TLS server name must match the Host header, so a handshake for one name cannot be
        // reused to reach another.
        "\t\tstrict_sni_host on",
        "\t}",
        "}",
        "",
    );
    L.push(renderCertificateSnippet(model, opts.certificates));
    add(
        "(common) {",
        `\theader Strict-Transport-Security "${HSTS}"`,
        "\theader -Server",
        `\thandle ${WHOAMI_PATH} {`,
        '\t\trespond "listener={args[0]} client={remote_host} tls_client={http.request.tls.client.subject}" 200',
        "\t}",
        // Errors Caddy raises itself (421 when the TLS name and Host differ, 404, 502) say nothing
        // about the software either.
        "\thandle_errors {",
        "\t\theader -Server",
        '\t\trespond "{err.status_code} {err.status_text}" {err.status_code}',
        "\t}",
        "}",
        "",
        // The plain listener serves trusted sources only: the edge sends nobody else here, and a
        // connection that arrives any other way (no PROXY header: its own address) gets nothing.
        "(trusted_only) {",
        `\t@untrusted not remote_ip ${trustedSources(model, opts.tailnetRanges ?? DEFAULT_TAILNET_RANGES).join(" ")}`,
        "\tabort @untrusted",
        ...(model.untrustedSources.length > 0
            ? [`\t@excluded remote_ip ${withMapped(model.untrustedSources).join(" ")}`, "\tabort @excluded"]
            : []),
        "}",
        "",
        "(client_auth) {",
        "\tclient_auth {",
        "\t\tmode require_and_verify",
        `\t\ttrust_pool file ${pki.ca}`,
        // Caddy has no CRL support: only the current users' certificates are accepted, so
        // removing a user revokes their certificate at the next reload.
        ...(model.users.length > 0 ? [`\t\tverifier leaf file ${pki.clients}`] : []),
        "\t}",
        "}",
        "",
    );

    // --- plain listener
    const plainSite = (address: string, body: string[]) =>
        add(
            `https://${address}:${plain} {`,
            "\ttls {",
            "\t\timport certificate",
            "\t}",
            "\timport trusted_only",
            "\timport common plain",
            ...body,
            "}",
            "",
        );
    add(`# Plain listener (:${plain}): tailnet and trusted networks, no client certificate.`);
    plainSite(
        host(model.private.fqdn),
        apex
            ? ["\thandle {", ...upstreamBlock(apex, "\t\t", "plain"), "\t}"]
            : ["\thandle {", `\t\trespond "homelab: ${model.private.fqdn}" 200`, "\t}"],
    );
    plainSite(host(model.private.wildcard), [
        ...wildcardServices.flatMap((s) => [
            `\t@${s.name} host ${host(s.hostnames.private as string)}`,
            `\thandle @${s.name} {`,
            ...upstreamBlock(s, "\t\t", "plain"),
            "\t}",
        ]),
        "\thandle {",
        '\t\trespond "no such service" 404',
        "\t}",
    ]);
    for (const s of mtlsServices)
        plainSite(host(s.hostnames.mtls as string), ["\thandle {", ...upstreamBlock(s, "\t\t", "plain"), "\t}"]);
    // Any other name on the plain listener: no route.
    add(`https://:${plain} {`, "\tabort", "}", "");

    // --- mTLS listener
    add(`# mTLS listener (:${mtls}): everyone else. Only mtls hostnames, and only with a current user's certificate.`);
    if (model.users.length > 0) {
        for (const s of mtlsServices) {
            add(
                `https://${host(s.hostnames.mtls as string)}:${mtls} {`,
                "\ttls {",
                "\t\timport certificate",
                "\t\timport client_auth",
                "\t}",
                "\timport common mtls",
                "\thandle {",
                ...upstreamBlock(s, "\t\t", "mtls"),
                "\t}",
                "}",
                "",
            );
        }
    } else if (mtlsServices.length > 0) {
        add("# No users: nobody holds a certificate, so no mtls hostname is served here.");
    }
    // Every handshake on this listener, whatever name it asks for, must present a certificate.
    add(`https://:${mtls} {`, "\ttls {", "\t\timport client_auth", "\t}", "\tabort", "}", "");
    return L.join("\n");
}
