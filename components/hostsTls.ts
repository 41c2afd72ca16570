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

    constructor(name: string, args: HostsTlsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("homelab:pki:HostsTls", name, {}, opts);
        const ca = smallCa(this, name, `homelab ${args.stackName} hosts CA`);
        this.caPem = ca.caPem;
        const caddy = ca.leaf("caddy", CADDY_CLIENT_CN, ["digital_signature", "client_auth"]);
        this.caddyCert = caddy.cert;
        this.caddyKey = caddy.key;
        this.gatewayPems = Object.fromEntries(
            args.hosts.map((h) => [
                h,
                bundlePem(
                    ca.leaf(
                        `gateway-${h}`,
                        `homelab gateway ${h}`,
                        ["digital_signature", "server_auth"],
                        [`*.${gatewayDomain(h)}`],
                    ),
                ),
            ]),
        );
        this.registerOutputs({ caPem: this.caPem, caddyCert: this.caddyCert });
    }
}
