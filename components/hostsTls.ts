// The further hosts' PKI (homelab:hosts): a CA of the stack's own, separate from the users' client
// CA and from the edge's, that issues exactly one client certificate (the edge's Caddy) and one
// server certificate per gateway. A gateway accepts a connection only with Caddy's certificate, so
// a tailnet or LAN device that finds the gateway's port gets nothing, and no user's certificate,
// however valid for the mtls plane, opens it.
import * as pulumi from "@pulumi/pulumi";
import { bundlePem, smallCa } from "./smallCa";
import { CADDY_CLIENT_CN, gatewayDomain } from "../render/gateway";

export interface HostsTlsArgs {
    stackName: string;
    /** The further hosts whose gateways get a server certificate. */
    hosts: string[];
}

export class HostsTls extends pulumi.ComponentResource {
    /** The hosts CA certificate (PEM, public). */
    public readonly caPem: pulumi.Output<string>;
    /** Caddy's client certificate (public) and key (secret). */
    public readonly caddyCert: pulumi.Output<string>;
    public readonly caddyKey: pulumi.Output<string>;
    /** Host name → its gateway's certificate and key, one PEM (secret). */
    public readonly gatewayPems: Record<string, pulumi.Output<string>>;
    /** What each certificate is → when it ends (RFC 3339; public): the status page's expiry checks. */
    public readonly notAfter: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: HostsTlsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("homelab:pki:HostsTls", name, {}, opts);
        const ca = smallCa(this, name, `homelab ${args.stackName} hosts CA`);
        this.caPem = ca.caPem;
        const caddy = ca.leaf("caddy", CADDY_CLIENT_CN, ["digital_signature", "client_auth"]);
        this.caddyCert = caddy.cert;
        this.caddyKey = caddy.key;
        const gateways = args.hosts.map((h) => ({
            host: h,
            leaf: ca.leaf(
                `gateway-${h}`,
                `homelab gateway ${h}`,
                ["digital_signature", "server_auth"],
                [`*.${gatewayDomain(h)}`],
            ),
        }));
        this.gatewayPems = Object.fromEntries(gateways.map((g) => [g.host, bundlePem(g.leaf)]));
        this.notAfter = pulumi
            .all([ca.caNotAfter, caddy.notAfter, ...gateways.map((g) => g.leaf.notAfter)])
            .apply(([caEnd, caddyEnd, ...gatewayEnds]): Record<string, string> => ({
                // Names no user's can read as (a user's name has no space, parenthesis or apostrophe).
                "hosts CA (further hosts)": caEnd,
                "Caddy's certificate for the gateways": caddyEnd,
                ...Object.fromEntries(
                    gateways.map((g, i) => [`gateway of host ${g.host} (further hosts)`, gatewayEnds[i] as string]),
                ),
            }));
        this.registerOutputs({ caPem: this.caPem, caddyCert: this.caddyCert });
    }
}
