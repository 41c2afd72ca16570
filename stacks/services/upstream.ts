// Services reached at an upstream: its address, TLS to it (appliances with their own
// certificates), and forward auth in front of it. Pure.
import * as crypto from "crypto";
import { LocalProblem } from "../checks";
import { caddyTokenProblem, isDnsName } from "../grammar";
import { ForwardAuth, Plane, RESERVED_NAMES, UpstreamTls } from "../model";
import { parseIp, reached } from "../net";
import { ParsedService } from "../schema";

const problem = (key: string, message: string): LocalProblem => ({ key, message });

// --- upstreams

export interface Upstream {
    scheme: "http" | "https";
    host: string;
    port: number;
    /** `host:port` (IPv6 in brackets), what Caddy and cloudflared dial. */
    hostPort: string;
}

/** `host:port`, `http://host:port` or `https://host:port` (no path, no credentials). */
export function parseUpstream(s: string): Upstream | undefined {
    const m = /^(?:(https?):\/\/)?(\[[0-9a-fA-F:.]+\]|[^:\s[\]/@]+):([0-9]{1,5})$/.exec(s);
    if (!m) return undefined;
    const host = m[2] as string;
    const port = Number(m[3]);
    if (!(port >= 1 && port <= 65535)) return undefined;
    const bare = host.startsWith("[") ? host.slice(1, -1) : host;
    if (host.startsWith("[")) {
        const a = parseIp(bare);
        if (!a || a.kind() !== "ipv6") return undefined;
    } else if (!parseIp(bare) && !isDnsName(bare)) {
        return undefined;
    }
    return { scheme: (m[1] as "http" | "https" | undefined) ?? "http", host, port, hostPort: `${host}:${port}` };
}

/**
 * Where an upstream may not point: Caddy or cloudflared itself (loopback inside their containers:
 * `localhost:2019` is Caddy's admin API, which would let any visitor reconfigure it), the stack's
 * own containers, addresses that route nowhere, and link-local (cloud metadata).
 */
export function upstreamTargetProblem(u: { host: string }): string | undefined {
    const bare = u.host.replace(/^\[|\]$/g, "");
    const parsed = parseIp(bare);
    const loopback = `${u.host} is the proxy's own loopback (inside Caddy's container it is Caddy itself, with its admin API on :2019); for a process on the host use host.docker.internal`;
    if (parsed) {
        // ::ffff:0.0.0.0 and ::ffff:169.254.169.254 are dialled as the IPv4 address inside.
        const a = reached(parsed);
        const r = a.range();
        if (r === "loopback") return loopback;
        // Dialling the unspecified address reaches the dialler's own loopback (Linux and Go both).
        if (r === "unspecified")
            return `${u.host} is the unspecified address, which a dial takes as the proxy's own loopback (Caddy's admin API on :2019)`;
        if (["multicast", "broadcast"].includes(r)) return `${u.host} is a ${r} address, which no service listens on`;
        if (r === "linkLocal")
            return `${u.host} is link-local (cloud metadata lives there); give the appliance's LAN address`;
        return undefined;
    }
    const host = bare.toLowerCase();
    // 127.1, 0x7f.0.0.1, 0177.0.0.1: C resolvers read these as addresses (loopback here), not
    // names. A real host name never ends in a numeric label (RFC 3696 2), so refuse them all.
    if (/(^|\.)(\d+|0x[0-9a-f]*)$/.test(host))
        return `${u.host} is an address in a shorthand form (some resolvers read 127.1 as 127.0.0.1): write it as a.b.c.d, or give a host name`;
    if (host === "localhost" || host.endsWith(".localhost") || host === "ip6-localhost" || host === "ip6-loopback")
        return loopback;
    if ((RESERVED_NAMES as readonly string[]).includes(host))
        return `${u.host} is one of the stack's own containers, not a service`;
    return undefined;
}

export function upstreamProblem(text: string): string | undefined {
    const u = parseUpstream(text);
    if (!u)
        return `"${text}" must be host:port, http://host:port or https://host:port, e.g. immich-server:2283, host.docker.internal:1234 or https://192.168.1.10:8006`;
    return upstreamTargetProblem(u);
}

/** The PEM certificates in `pem` (at least one, all parseable), or a reason. */
export function pemCertificates(pem: string): { certs: crypto.X509Certificate[]; problem?: string } {
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (blocks.length === 0)
        return { certs: [], problem: "must contain a PEM certificate (-----BEGIN CERTIFICATE-----)" };
    if (/PRIVATE KEY/.test(pem)) return { certs: [], problem: "contains a private key: give only the CA certificate" };
    const certs: crypto.X509Certificate[] = [];
    for (const b of blocks) {
        let c: crypto.X509Certificate;
        try {
            c = new crypto.X509Certificate(b);
        } catch {
            return { certs: [], problem: "contains a certificate that does not parse" };
        }
        // Node reads these; Go (Caddy, cloudflared) refuses the whole pool: Caddy would refuse its config.
        if (c.serialNumber.startsWith("-"))
            return {
                certs: [],
                problem:
                    "contains a certificate with a negative serial number, which Caddy and cloudflared (Go) refuse to load: reissue it",
            };
        certs.push(c);
    }
    return { certs };
}

/** upstreamTls: only for https upstreams, and either skip verification or say what to verify. */
export function upstreamTlsProblems(
    sk: string,
    scheme: "http" | "https",
    tls: ParsedService["upstreamTls"],
): { problems: LocalProblem[]; tls?: UpstreamTls } {
    if (!tls) return { problems: [] };
    const key = `${sk}.upstreamTls`;
    if (scheme !== "https")
        return {
            problems: [problem(key, "applies only to https:// upstreams (the connection to this one is plain HTTP)")],
        };
    if (tls.insecureSkipVerify === true) {
        if (tls.serverName !== undefined || tls.ca !== undefined)
            return {
                problems: [
                    problem(key, "insecureSkipVerify: true verifies nothing; give serverName and ca, or neither"),
                ],
            };
        return { problems: [], tls: { insecureSkipVerify: true } };
    }
    if (tls.serverName === undefined && tls.ca === undefined)
        return {
            problems: [
                problem(
                    key,
                    "says nothing: set insecureSkipVerify: true for a self-signed appliance, or ca (and serverName) to verify it; without upstreamTls the system CAs are used",
                ),
            ],
        };
    if (tls.ca !== undefined) {
        const { problem: p } = pemCertificates(tls.ca);
        if (p) return { problems: [problem(`${key}.ca`, p)] };
    }
    return {
        problems: [],
        tls: {
            insecureSkipVerify: false,
            ...(tls.serverName ? { serverName: tls.serverName } : {}),
            ...(tls.ca ? { ca: tls.ca } : {}),
        },
    };
}

// --- forward auth

const HEADER_RE = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

export function forwardAuthProblems(
    sk: string,
    fa: ParsedService["forwardAuth"],
    expose: Plane[],
): { problems: LocalProblem[]; forwardAuth?: ForwardAuth } {
    if (!fa) return { problems: [] };
    const key = `${sk}.forwardAuth`;
    const out: LocalProblem[] = [];
    if (!expose.includes("private") && !expose.includes("mtls"))
        out.push(
            problem(
                key,
                "applies on the private and mtls planes (Caddy); for a public service use access (Cloudflare Access)",
            ),
        );
    else if (expose.includes("public"))
        out.push(
            problem(
                key,
                "runs in Caddy, and the public plane reaches the service through the tunnel without Caddy: the public hostname would be unprotected (expose it on private/mtls only, or protect the public name with access)",
            ),
        );
    const u = parseUpstream(fa.upstream);
    const up = upstreamProblem(fa.upstream);
    if (up) out.push(problem(`${key}.upstream`, up));
    if (!/^\/[A-Za-z0-9._~%/!$&'()*+,;=:@?-]*$/.test(fa.uri) || caddyTokenProblem(fa.uri))
        out.push(
            problem(
                `${key}.uri`,
                `"${fa.uri}" must be a path (and query) starting with /, e.g. /api/authz/forward-auth, with no spaces, quotes or { }`,
            ),
        );
    fa.copyHeaders.forEach((h, i) => {
        const token = caddyTokenProblem(h);
        if (!HEADER_RE.test(h) || token)
            out.push(
                problem(
                    `${key}.copyHeaders[${i}]`,
                    `"${h}" is not an HTTP header name Caddy can copy${token ? ` (${token})` : ""}`,
                ),
            );
    });
    if (out.length > 0 || !u) return { problems: out };
    return {
        problems: [],
        forwardAuth: { upstream: u.hostPort, scheme: u.scheme, uri: fa.uri, copyHeaders: [...fa.copyHeaders] },
    };
}
