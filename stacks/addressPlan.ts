// How `homelab:docker.subnet` is divided between the stack's Docker networks. Pure.
//
//   first half      private  Caddy and every service that is not public (and internal ones)
//   third quarter   public   cloudflared and the public services (Caddy is always on it too, to
//                            reach public services that are also private or mtls)
//   fourth quarter  edge     only HAProxy (the edge on Linux, the relay on a Mac) and Caddy, and
//                            with homelab:monitoring the status container; Caddy's TLS listeners
//                            bind to its address here and nowhere else
//
// In the edge network Docker hands out automatic addresses only from its upper half, and the
// fixed addresses (HAProxy: edge + 2, Caddy: edge + 3, the status container: edge + 4) lie in the
// lower half, so no other container can ever take the address whose PROXY headers Caddy believes,
// nor the one the edge's monitor entry takes.
import { formatCidr, intToV4, parseCidr, v4ToInt } from "./net";

/** The smallest block the plan is defined for: a /24 gives a /26 edge network. */
export const MAX_SUBNET_PREFIX = 24;

export interface AddressPlan {
    /** `homelab:docker.subnet`, canonical. */
    block: string;
    private: string;
    public: string;
    edge: string;
    /** The part of the edge network Docker assigns automatically (its upper half). */
    edgeDynamic: string;
    /** Docker's gateway address on the edge network (its first address). */
    edgeGateway: string;
    /**
     * The gateways of the private and public networks (their first addresses), given explicitly:
     * Docker 29+ reports the gateway it chose, and the provider would replace a network whose
     * config named none on every run (docs: provider semantics).
     */
    privateGateway: string;
    publicGateway: string;
    /** HAProxy's fixed address on the edge network: the only source Caddy takes PROXY headers from. */
    haproxy: string;
    /** Caddy's fixed address on the edge network, where its TLS listeners bind. */
    caddy: string;
    /**
     * The status container's fixed address on the edge network (homelab:monitoring): the one source
     * the edge's monitor entry accepts, and the one Caddy's plain listener trusts besides the
     * tailnet and trusted networks. In the fixed half, so no other container can take it.
     */
    monitor: string;
    /**
     * The edge network's IPv6 /64 (a ULA made from its IPv4 block), its gateway and HAProxy's
     * address in it: on Linux with IPv6 the edge container gets an IPv6 address, so Docker's
     * ip6tables NAT hands it every IPv6 client with its own address.
     */
    edgeV6: string;
    /** Where Docker assigns automatic IPv6 addresses (::1:0/112; Docker 20.10 cannot allocate from a range wider than 64 bits), away from HAProxy's fixed one. */
    edgeV6Dynamic: string;
    edgeV6Gateway: string;
    haproxyV6: string;
}

/** The ULA prefix the edge networks' IPv6 /64s come from (fd68:6c62 is "hlb"). */
export const EDGE_V6_PREFIX = "fd68:6c62::/32";

function sub(base: number, prefix: number): string {
    return `${intToV4(base)}/${prefix}`;
}

export function addressPlan(block: string): AddressPlan {
    const c = parseCidr(block);
    if (!c || c.addr.kind() !== "ipv4" || c.prefix > MAX_SUBNET_PREFIX)
        throw new Error(`internal: ${block} is not an IPv4 block of /${MAX_SUBNET_PREFIX} or larger`);
    const base = v4ToInt(formatCidr(c).split("/")[0] as string);
    const size = 2 ** (32 - c.prefix);
    const edgeBase = base + (size * 3) / 4;
    return {
        block: formatCidr(c),
        private: sub(base, c.prefix + 1),
        public: sub(base + size / 2, c.prefix + 2),
        edge: sub(edgeBase, c.prefix + 2),
        edgeDynamic: sub(edgeBase + size / 8, c.prefix + 3),
        edgeGateway: intToV4(edgeBase + 1),
        privateGateway: intToV4(base + 1),
        publicGateway: intToV4(base + size / 2 + 1),
        haproxy: intToV4(edgeBase + 2),
        caddy: intToV4(edgeBase + 3),
        monitor: intToV4(edgeBase + 4),
        ...edgeV6(edgeBase),
    };
}

/** fd68:6c62:<the edge block's IPv4 address as two groups>::/64. */
function edgeV6(edgeBase: number): { edgeV6: string; edgeV6Dynamic: string; edgeV6Gateway: string; haproxyV6: string } {
    const hi = ((edgeBase >>> 16) & 0xffff).toString(16);
    const lo = (edgeBase & 0xffff).toString(16);
    const prefix = `fd68:6c62:${hi}:${lo}`;
    return {
        edgeV6: `${prefix}::/64`,
        edgeV6Dynamic: `${prefix}::1:0/112`,
        edgeV6Gateway: `${prefix}::1`,
        haproxyV6: `${prefix}::2`,
    };
}
