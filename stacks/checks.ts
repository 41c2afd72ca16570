// Named checks: rules about what a value means, or that span several keys. Each is pure, takes
// the parsed (typed, defaulted) values it needs and returns problems keyed by config key (without
// the `homelab:` prefix). They are tested directly in test/stacks/checks.test.ts as well as through the
// whole program in test/stacks/validate.test.ts.
import { AddressPlan, EDGE_V6_PREFIX, MAX_SUBNET_PREFIX, addressPlan } from "./addressPlan";
import {
    DOCKER_DEFAULT_BRIDGE,
    MAX_LISTEN_ADDRESSES,
    Runtime,
    RUNTIME_VM_NETWORKS,
    TAILNET_IPV4_RANGE,
    TAILNET_IPV6_RANGE,
} from "./model";
import {
    Cidr,
    canonicalIp,
    contains,
    formatCidr,
    isCanonical,
    isPrivateCidr,
    isPublicUnicastOrDoc,
    overlaps,
    parseCidr,
    parseIp,
} from "./net";
import { dnsNameProblem, parseUtcTime } from "./grammar";

export interface Problem {
    /** The config key, e.g. `homelab:services.cloud.expose`. */
    key: string;
    message: string;
}
/** A problem before the namespace prefix is added: `key` is e.g. `services.cloud.expose`. */
export interface LocalProblem {
    key: string;
    message: string;
}
const problem = (key: string, message: string): LocalProblem => ({ key, message });

/** Docker's first default address pool (172.17.0.0/16 … 172.31.0.0/16): other projects' networks. */
export const DOCKER_DEFAULT_POOL = ["172.17.0.0/16", "172.18.0.0/15", "172.20.0.0/14", "172.24.0.0/13"];

// --- docker.subnet

export function checkSubnet(text: string, key = "docker.subnet"): { problems: LocalProblem[]; plan?: AddressPlan } {
    const c = parseCidr(text);
    if (!c || c.addr.kind() !== "ipv4") return { problems: [problem(key, `"${text}" is not an IPv4 CIDR`)] };
    if (!isCanonical(c))
        return { problems: [problem(key, `"${text}" has host bits set; did you mean ${formatCidr(c)}?`)] };
    if (!isPrivateCidr(c) || contains(TAILNET_IPV4_RANGE, c) || contains("169.254.0.0/16", c))
        return { problems: [problem(key, "must be RFC 1918 private address space")] };
    if (c.prefix > MAX_SUBNET_PREFIX)
        return {
            problems: [
                problem(
                    key,
                    `must be /${MAX_SUBNET_PREFIX} or larger: it is divided between the private, public and edge networks (docs/configuration.md: homelab:docker.subnet)`,
                ),
            ],
        };
    for (const vm of Object.values(RUNTIME_VM_NETWORKS).flat()) {
        if (overlaps(c, vm)) return { problems: [problem(key, `overlaps a Docker runtime's own VM network ${vm}`)] };
    }
    if (overlaps(c, DOCKER_DEFAULT_BRIDGE))
        return { problems: [problem(key, `overlaps Docker's default bridge ${DOCKER_DEFAULT_BRIDGE}`)] };
    return { problems: [], plan: addressPlan(formatCidr(c)) };
}

// --- trustedNetworks

export function checkTrustedNetworks(
    list: string[],
    runtime: Runtime,
    plan: AddressPlan | undefined,
): { problems: LocalProblem[]; trusted: string[] } {
    const problems: LocalProblem[] = [];
    const trusted: string[] = [];
    for (const [i, t] of list.entries()) {
        const key = `trustedNetworks[${i}]`;
        const c = parseCidr(t);
        const why = trustedNetworkProblem(t, c, runtime, plan);
        if (why) {
            problems.push(problem(key, why));
            continue;
        }
        const canon = formatCidr(c as Cidr);
        if (trusted.includes(canon)) problems.push(problem(key, `"${t}" is listed twice`));
        else trusted.push(canon);
    }
    return { problems, trusted };
}

function trustedNetworkProblem(
    t: string,
    c: Cidr | undefined,
    runtime: Runtime,
    plan: AddressPlan | undefined,
): string | undefined {
    if (!c) return `"${t}" is not a CIDR such as 192.168.1.0/24`;
    if (!isCanonical(c)) return `"${t}" has host bits set; did you mean ${formatCidr(c)}?`;
    if (!isPrivateCidr(c))
        return `"${t}" is not private address space (RFC 1918, CGNAT, ULA or link-local): clients from it would skip the client-certificate check`;
    for (const vm of RUNTIME_VM_NETWORKS[runtime]) {
        if (overlaps(c, vm))
            return `"${t}" overlaps ${runtime}'s VM network ${vm}, where forwarded connections come from: the WAN would skip mTLS`;
    }
    if (overlaps(c, DOCKER_DEFAULT_BRIDGE))
        return `"${t}" overlaps Docker's default bridge ${DOCKER_DEFAULT_BRIDGE}: containers and proxied clients would be trusted`;
    const pool = DOCKER_DEFAULT_POOL.find((p) => overlaps(c, p));
    if (pool)
        return `"${t}" overlaps Docker's default address pool (${pool}), where other projects' container networks live: those containers would be trusted`;
    if (plan && overlaps(c, plan.block))
        return `"${t}" overlaps the stack's Docker network ${plan.block} (homelab:docker.subnet): containers and proxied clients would be trusted`;
    if (overlaps(c, EDGE_V6_PREFIX))
        return `"${t}" overlaps ${EDGE_V6_PREFIX}, where the stack's edge network takes its IPv6 addresses: containers would be trusted`;
    return undefined;
}

// --- untrustedSources

/** Each entry an IP or CIDR inside a trusted network or a tailnet range (anything else is untrusted already). */
export function checkUntrustedSources(
    list: string[],
    trusted: string[],
): { problems: LocalProblem[]; untrusted: string[] } {
    const problems: LocalProblem[] = [];
    const untrusted: string[] = [];
    const within = [TAILNET_IPV4_RANGE, TAILNET_IPV6_RANGE, ...trusted];
    for (const [i, t] of list.entries()) {
        const key = `untrustedSources[${i}]`;
        const c = parseCidr(t, true);
        if (!c)
            problems.push(problem(key, `"${t}" is not an IP address or a CIDR such as 192.168.1.1 or 192.168.1.0/30`));
        else if (!isCanonical(c))
            problems.push(problem(key, `"${t}" has host bits set; did you mean ${formatCidr(c)}?`));
        else if (!within.some((n) => contains(n, c)))
            problems.push(
                problem(
                    key,
                    `"${t}" is not inside homelab:trustedNetworks or the tailnet ranges: it is untrusted already`,
                ),
            );
        else if (untrusted.includes(formatCidr(c))) problems.push(problem(key, `"${t}" is listed twice`));
        else untrusted.push(formatCidr(c));
    }
    return { problems, untrusted };
}

// --- docker.listenAddresses

/**
 * A listed address is one of this host's own addresses on a trusted network (e.g. the Mac's LAN
 * address): where nothing is split, the edge serves :80/:443 there too, to trusted sources only.
 */
export function checkListenAddresses(
    list: string[],
    trusted: string[],
    tailnet: string[],
): { problems: LocalProblem[]; addresses: string[] } {
    const problems: LocalProblem[] = [];
    const addresses: string[] = [];
    if (list.length > MAX_LISTEN_ADDRESSES)
        problems.push(
            problem("docker.listenAddresses", `lists ${list.length} addresses; at most ${MAX_LISTEN_ADDRESSES}`),
        );
    for (const [i, text] of list.entries()) {
        const why = listenAddressProblem(text, trusted, tailnet, addresses);
        if (why) problems.push(problem(`docker.listenAddresses[${i}]`, why));
        else addresses.push(canonicalIp(text) as string);
    }
    return { problems, addresses };
}

function listenAddressProblem(text: string, trusted: string[], tailnet: string[], seen: string[]): string | undefined {
    const a = parseIp(text);
    if (!a) return `"${text}" is not an IP address (without a zone id)`;
    const canon = a.toString();
    const range = a.range();
    if (range === "unspecified")
        return `"${text}" binds every address: the no-certificate path would be published to the WAN`;
    if (["loopback", "multicast", "broadcast"].includes(range))
        return `"${text}" is a ${range} address, not one of the host's addresses on a trusted network`;
    if (isPublicUnicastOrDoc(a) || range === "reserved")
        return `"${text}" is a public address: the no-certificate path would be published to the internet`;
    if (tailnet.map((t) => canonicalIp(t)).includes(canon))
        return `"${text}" is the tailnet address, which the edge always serves; remove it here`;
    if (seen.includes(canon)) return `"${text}" is listed twice`;
    const host = { addr: a, prefix: a.kind() === "ipv4" ? 32 : 128 };
    if (!trusted.some((n) => contains(n, host)))
        return `"${text}" is not inside any of homelab:trustedNetworks: a listed address is one of the host's own addresses on a trusted network (the edge serves trusted sources there without a certificate), so list the network it belongs to`;
    return undefined;
}

/**
 * On Linux the edge is a container behind Docker's published ports. IPv6 clients keep their own
 * address there only when the engine NATs IPv6 itself (ip6tables, the default from Docker Engine
 * 27); otherwise Docker's proxy would hand every IPv6 client to the edge as one address, neither
 * trusted nor limited apart. So IPv6 host addresses on Linux need docker.ip6tables: true, which
 * says the engine does (and gives the edge network IPv6).
 */
export function checkLinuxEdgeIpv6(
    runtime: Runtime,
    tailnetIpv6: string | undefined,
    listenAddresses: string[],
    ip6tables: boolean,
): LocalProblem[] {
    if (runtime !== "linux" || ip6tables) return [];
    const why =
        'the Linux edge serves IPv6 only where Docker keeps IPv6 clients\' addresses: Docker Engine 27 or newer (or "ip6tables": true and "experimental": true in /etc/docker/daemon.json before 27), then set homelab:docker.ip6tables: true';
    const out: LocalProblem[] = [];
    if (tailnetIpv6)
        out.push(problem("tailnet.ipv6", `${why}; or remove it (the private names then get an A record only)`));
    listenAddresses.forEach((a, i) => {
        if (parseIp(a)?.kind() === "ipv6")
            out.push(
                problem(
                    `docker.listenAddresses[${i}]`,
                    `"${a}": ${why}; or list the host's IPv4 address on that network`,
                ),
            );
    });
    return out;
}

// --- names

/**
 * The longest names the stack creates must fit DNS: `*.<sub>.<domain>` and every service name. So
 * must the DNS-01 challenge record (`_acme-challenge.<name>`, 16 characters more) of each name
 * Caddy gets a certificate for: the private apex (and so its wildcard) and each mtls name
 * (`certified`). Without the record no certificate is ever issued.
 */
export function checkNameLengths(
    domain: string,
    subdomain: string,
    hostnames: [key: string, fqdn: string][],
    certified: [key: string, fqdn: string][] = [],
): LocalProblem[] {
    const out: LocalProblem[] = [];
    const wildcard = `*.${subdomain}.${domain}`;
    const w = dnsNameProblem(wildcard);
    if (w) out.push(problem("private.subdomain", `makes the name ${w}`));
    for (const [key, fqdn] of hostnames) {
        const p = dnsNameProblem(fqdn);
        if (p) out.push(problem(key, `makes the name ${p}`));
    }
    for (const [key, fqdn] of [["private.subdomain", `${subdomain}.${domain}`], ...certified]) {
        if (out.some((q) => q.key === key) || dnsNameProblem(fqdn)) continue;
        const c = dnsNameProblem(`${ACME_CHALLENGE_LABEL}.${fqdn}`);
        if (c)
            out.push(
                problem(
                    key as string,
                    `makes ${fqdn.length > 60 ? `${fqdn.slice(0, 40)}…` : fqdn}, whose DNS-01 challenge record would be too long (${c}): Caddy could never get its certificate; use a shorter name`,
                ),
            );
    }
    return out;
}

/** The label of a DNS-01 challenge record (RFC 8555 8.4). */
export const ACME_CHALLENGE_LABEL = "_acme-challenge";

// --- wan

export function checkWanAddress(
    publicIp: string | undefined,
    allowedIps: string[],
): { problems: LocalProblem[]; publicIp?: string } {
    if (publicIp === undefined) return { problems: [] };
    if (publicIp === "dynamic") {
        if (allowedIps.length > 0)
            return {
                problems: [
                    problem(
                        "dnsToken.allowedIps",
                        "cannot be combined with homelab:wan.publicIp: dynamic: the DNS-01 token would stop working the day the home's address changes, and certificates would stop renewing. Remove allowedIps (an expiry, dnsToken.expiresOn, still limits the token)",
                    ),
                ],
            };
        return { problems: [], publicIp };
    }
    const a = parseIp(publicIp);
    if (!a || a.kind() !== "ipv4")
        return { problems: [problem("wan.publicIp", `"${publicIp}" must be an IPv4 address`)] };
    if (!isPublicUnicastOrDoc(a))
        return {
            problems: [
                problem(
                    "wan.publicIp",
                    `"${publicIp}" must be the home's public address, not a private, CGNAT, loopback, link-local or reserved one`,
                ),
            ],
        };
    return { problems: [], publicIp: a.toString() };
}

// --- dnsToken

export function checkDnsToken(
    allowedIps: string[],
    expiresOn: string | undefined,
    now: Date,
): { problems: LocalProblem[]; allowedIps: string[] } {
    const problems: LocalProblem[] = [];
    const out: string[] = [];
    for (const [i, t] of allowedIps.entries()) {
        const c = parseCidr(t, true);
        const why = allowedIpProblem(t, c, out);
        if (why) problems.push(problem(`dnsToken.allowedIps[${i}]`, why));
        else out.push(formatCidr(c as Cidr));
    }
    if (expiresOn !== undefined) {
        const d = parseUtcTime(expiresOn);
        if (!d)
            problems.push(
                problem(
                    "dnsToken.expiresOn",
                    `"${expiresOn}" is not an RFC 3339 UTC time that exists, such as "2027-06-30T00:00:00Z"`,
                ),
            );
        else if (d.getTime() <= now.getTime())
            problems.push(
                problem(
                    "dnsToken.expiresOn",
                    `"${expiresOn}" is in the past: the token would be created expired and certificates could not be issued`,
                ),
            );
    }
    return { problems, allowedIps: out };
}

function allowedIpProblem(t: string, c: Cidr | undefined, seen: string[]): string | undefined {
    if (!c) return `"${t}" is not an IP address or CIDR`;
    if (!isCanonical(c)) return `"${t}" has host bits set; did you mean ${formatCidr(c)}?`;
    if (c.prefix === 0) return `"${t}" is every address: leave allowedIps out instead`;
    if (!isPublicUnicastOrDoc(c.addr))
        return `"${t}" is not public address space: Cloudflare sees the home's public address, so the token would never work`;
    if (seen.includes(formatCidr(c))) return `"${t}" is listed twice`;
    return undefined;
}

// --- acme

export function checkResolvers(list: string[]): { problems: LocalProblem[]; resolvers: string[] } {
    const problems: LocalProblem[] = [];
    const out: string[] = [];
    list.forEach((r, i) => {
        const canon = canonicalIp(r) ?? r;
        if (out.includes(canon)) problems.push(problem(`acme.resolvers[${i}]`, `"${r}" is listed twice`));
        else out.push(canon);
    });
    return { problems, resolvers: out };
}

// --- adopt

export function checkAdopt(ids: string[]): LocalProblem[] {
    return ids.flatMap((id, i) => (ids.indexOf(id) !== i ? [problem(`adopt[${i}]`, `${id} is listed twice`)] : []));
}

// --- users

export function checkUsers(users: { name: string; validityDays: number }[]): LocalProblem[] {
    const seen = new Set<string>();
    const out: LocalProblem[] = [];
    users.forEach((u, i) => {
        if (seen.has(u.name))
            out.push(problem(`users[${i}].name`, `"${u.name}" is listed twice; user names must be unique`));
        seen.add(u.name);
    });
    return out;
}
