// The Caddyfile: two HTTPS listeners behind HAProxy.
//   :8443 plain   - private hostnames (apex + wildcard) and mtls hostnames, for trusted sources.
//   :9443 mtls    - only mtls hostnames; every handshake must present a current user's
//                   certificate (CA chain + leaf allowlist); routes straight to the services.
// Both accept PROXY v2 headers only from HAProxy's address. Certificates come from Let's Encrypt
// by DNS-01; the token is only referenced as a runtime placeholder. The certificate source is the
// `(certificate)` snippet and nothing else, so a test render can swap it and prove the rest is
// byte-identical. Pure and deterministic.
import { Model, servicesOn, Service } from "../stacks/model";
import { CADDY_ADMIN, CADDY_MTLS_PORT, CADDY_PKI, CADDY_PLAIN_PORT } from "./addresses";

export type CertificateSource = { kind: "acme" } | { kind: "folder"; dir: string };

export interface CaddyfileOptions {
    /** HAProxy's address: the only source whose PROXY headers are believed. */
    haproxyAddress: string;
    certificates: CertificateSource;
    /** Where the CA and leaf allowlist PEMs are (production: /etc/caddy/pki/...). */
    pki?: { ca: string; clients: string };
}

export const WHOAMI_PATH = "/.well-known/homelab/whoami";
const HSTS = "max-age=31536000";

/** The only part that differs between production and a test render. */
export function renderCertificateSnippet(model: Model, source: CertificateSource): string {
    const body =
        source.kind === "acme"
            ? [
                  "\tdns cloudflare {env.CLOUDFLARE_API_TOKEN}",
                  `\tresolvers ${model.acme.resolvers.join(" ")}`,
                  `\tpropagation_timeout ${model.acme.propagationTimeout}`,
              ]
            : [`\tload ${source.dir}`];
    return ["(certificate) {", ...body, "}", ""].join("\n");
}

function upstreamBlock(s: Service, indent: string): string[] {
    return [
        `${indent}reverse_proxy ${s.upstream} {`,
        // Stream responses as they come (media, server-sent events); WebSocket upgrades pass through.
        `${indent}\tflush_interval -1`,
        `${indent}}`,
    ];
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

    const listenerWrappers = [
        "\t\tlistener_wrappers {",
        "\t\t\tproxy_protocol {",
        "\t\t\t\ttimeout 5s",
        `\t\t\t\tallow ${opts.haproxyAddress}/32`,
        "\t\t\t\tfallback_policy REJECT",
        "\t\t\t}",
        "\t\t\ttls",
        "\t\t}",
    ];
    add(
        `# Rendered by homelab for ${model.domain}; do not edit: pulumi up rewrites it and reloads Caddy.`,
        "{",
        `\temail ${model.acme.email}`,
        ...(model.acme.ca ? [`\tacme_ca ${model.acme.ca}`] : []),
        `\tadmin ${CADDY_ADMIN}`,
        // Nothing in Caddy listens on :80; HAProxy answers it with a redirect.
        "\tauto_https disable_redirects",
        `\tservers :${plain} {`,
        "\t\tname plain",
        ...listenerWrappers,
        // No HTTP/3: nothing publishes UDP, and client auth is not enforced over QUIC everywhere.
        "\t\tprotocols h1 h2",
        "\t}",
        `\tservers :${mtls} {`,
        "\t\tname mtls",
        ...listenerWrappers,
        "\t\tprotocols h1 h2",
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
    add(`# Plain listener (:${plain}): tailnet and trusted networks, no client certificate.`);
    add(`https://${model.private.fqdn}:${plain} {`, "\ttls {", "\t\timport certificate", "\t}", "\timport common plain");
    if (apex) add("\thandle {", ...upstreamBlock(apex, "\t\t"), "\t}");
    else add("\thandle {", `\t\trespond "homelab: ${model.private.fqdn}" 200`, "\t}");
    add("}", "");

    add(`https://${model.private.wildcard}:${plain} {`, "\ttls {", "\t\timport certificate", "\t}", "\timport common plain");
    for (const s of wildcardServices) {
        add(`\t@${s.name} host ${s.hostnames.private}`, `\thandle @${s.name} {`, ...upstreamBlock(s, "\t\t"), "\t}");
    }
    add("\thandle {", '\t\trespond "no such service" 404', "\t}", "}", "");

    for (const s of mtlsServices) {
        add(`https://${s.hostnames.mtls}:${plain} {`, "\ttls {", "\t\timport certificate", "\t}", "\timport common plain", "\thandle {", ...upstreamBlock(s, "\t\t"), "\t}", "}", "");
    }
    // Any other name on the plain listener: no route.
    add(`https://:${plain} {`, "\tabort", "}", "");

    // --- mTLS listener
    add(`# mTLS listener (:${mtls}): everyone else. Only mtls hostnames, and only with a current user's certificate.`);
    if (model.users.length > 0) {
        for (const s of mtlsServices) {
            add(
                `https://${s.hostnames.mtls}:${mtls} {`,
                "\ttls {",
                "\t\timport certificate",
                "\t\timport client_auth",
                "\t}",
                "\timport common mtls",
                "\thandle {",
                ...upstreamBlock(s, "\t\t"),
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
