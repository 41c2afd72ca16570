// Address and CIDR helpers on top of ipaddr.js. Pure functions, no Pulumi.
import * as ipaddr from "ipaddr.js";

export type Addr = ipaddr.IPv4 | ipaddr.IPv6;
export interface Cidr {
    addr: Addr;
    prefix: number;
}

export function parseIp(text: string): Addr | undefined {
    // No zone ids (fe80::1%en0): they would land in DNS records, bind specs and rendered files.
    if (text.includes("%") || !ipaddr.isValid(text)) return undefined;
    // ipaddr.isValid accepts shorthand like "10.1" and octal; require the canonical dotted quad.
    if (text.includes(".") && !text.includes(":") && !ipaddr.IPv4.isValidFourPartDecimal(text)) return undefined;
    return ipaddr.parse(text);
}

/**
 * The address a connection to `a` reaches: an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the
 * IPv4 address inside it (Go and the kernel dial it as IPv4), so range checks see loopback,
 * unspecified and link-local through that form too.
 */
export function reached(a: Addr): Addr {
    return a.kind() === "ipv6" && a.range() === "ipv4Mapped" ? (a as ipaddr.IPv6).toIPv4Address() : a;
}

/** The canonical text of an address (lowercase, compressed IPv6), or undefined. */
export function canonicalIp(text: string): string | undefined {
    return parseIp(text)?.toString();
}

/** Parses `a.b.c.d/n` or `v6/n`; a bare address is read as a host route (/32 or /128). */
export function parseCidr(text: string, allowBare = false): Cidr | undefined {
    if (!text.includes("/")) {
        const a = allowBare ? parseIp(text) : undefined;
        return a ? { addr: a, prefix: a.kind() === "ipv4" ? 32 : 128 } : undefined;
    }
    if (text.includes("%")) return undefined;
    try {
        const [addr, prefix] = ipaddr.parseCIDR(text);
        const ip = text.split("/")[0] ?? "";
        if (addr.kind() === "ipv4" && !ipaddr.IPv4.isValidFourPartDecimal(ip)) return undefined;
        if (!/^\d{1,3}$/.test(text.split("/")[1] ?? "")) return undefined;
        return { addr, prefix };
    } catch {
        return undefined;
    }
}

export function networkAddress(c: Cidr): Addr {
    return c.addr.kind() === "ipv4"
        ? ipaddr.IPv4.networkAddressFromCIDR(`${c.addr.toString()}/${c.prefix}`)
        : ipaddr.IPv6.networkAddressFromCIDR(`${c.addr.toString()}/${c.prefix}`);
}

export function isCanonical(c: Cidr): boolean {
    return networkAddress(c).toString() === c.addr.toString();
}

export function formatCidr(c: Cidr): string {
    return `${networkAddress(c).toString()}/${c.prefix}`;
}

function cidrOf(text: string): Cidr {
    const c = parseCidr(text);
    if (!c) throw new Error(`internal: bad CIDR constant ${text}`);
    return c;
}

/** Whether `inner` lies entirely inside `outer`. */
export function contains(outer: Cidr | string, inner: Cidr | string): boolean {
    const o = typeof outer === "string" ? cidrOf(outer) : outer;
    const i = typeof inner === "string" ? cidrOf(inner) : inner;
    if (o.addr.kind() !== i.addr.kind()) return false;
    return o.prefix <= i.prefix && i.addr.match(o.addr, o.prefix);
}

export function overlaps(a: Cidr | string, b: Cidr | string): boolean {
    return contains(a, b) || contains(b, a);
}

export function ipIn(ip: string, cidr: string): boolean {
    const a = parseIp(ip);
    if (!a) return false;
    return contains(cidr, { addr: a, prefix: a.kind() === "ipv4" ? 32 : 128 });
}

/** Private address space a trusted network may come from. */
export const PRIVATE_RANGES = [
    "10.0.0.0/8", // RFC 1918
    "172.16.0.0/12", // RFC 1918
    "192.168.0.0/16", // RFC 1918
    "100.64.0.0/10", // RFC 6598 CGNAT (the tailnet)
    "169.254.0.0/16", // link-local
    "fc00::/7", // ULA
    "fe80::/10", // link-local
] as const;

export function isPrivateCidr(c: Cidr): boolean {
    return PRIVATE_RANGES.some((r) => contains(r, c));
}

/** Addresses that can never be somebody's public WAN address. */
export function isPublicUnicast(a: Addr): boolean {
    const notPublic = [
        "private",
        "loopback",
        "linkLocal",
        "carrierGradeNat",
        "unspecified",
        "multicast",
        "broadcast",
        "uniqueLocal",
    ];
    return !notPublic.includes(a.range());
}

/** IPv4 as a 32-bit number and back. */
export function v4ToInt(ip: string): number {
    const a = parseIp(ip);
    if (!a || a.kind() !== "ipv4") throw new Error(`internal: ${ip} is not IPv4`);
    return (a as ipaddr.IPv4).octets.reduce((n, o) => n * 256 + o, 0);
}
export function intToV4(n: number): string {
    return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");
}

/** Addresses that are no one's public WAN address: ipaddr.js's special ranges, except the
 * documentation ranges (TEST-NET-1/2/3), which the examples use as placeholders. */
export function isPublicUnicastOrDoc(a: Addr): boolean {
    if (
        a.kind() === "ipv4" &&
        ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"].some((r) => contains(r, { addr: a, prefix: 32 }))
    )
        return true;
    return a.range() === "unicast";
}
