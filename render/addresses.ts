// Fixed names, ports, paths and in-network addresses shared by the renderers and the Docker
// host. Pure.
import { parseCidr, networkAddress } from "../stacks/net";
import * as ipaddr from "ipaddr.js";

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

function v4(subnet: string): { base: number; prefix: number } {
    const c = parseCidr(subnet);
    if (!c || c.addr.kind() !== "ipv4") throw new Error(`internal: ${subnet} is not an IPv4 CIDR`);
    const bytes = (networkAddress(c) as ipaddr.IPv4).octets;
    const base = (((bytes[0] ?? 0) << 24) | ((bytes[1] ?? 0) << 16) | ((bytes[2] ?? 0) << 8) | (bytes[3] ?? 0)) >>> 0;
    return { base, prefix: c.prefix };
}
function toIp(n: number): string {
    return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".");
}

/**
 * HAProxy's fixed address in the stack network: the network address + 10. Caddy accepts PROXY
 * protocol headers only from it. Docker hands out dynamic addresses only from the upper half
 * (dockerIpRange), so nothing else can take it.
 */
export function haproxyAddress(subnet: string): string {
    return toIp(v4(subnet).base + 10);
}

/** The upper half of the subnet: where Docker allocates containers' dynamic addresses. */
export function dockerIpRange(subnet: string): string {
    const { base, prefix } = v4(subnet);
    const half = 2 ** (32 - prefix - 1);
    return `${toIp(base + half)}/${prefix + 1}`;
}
