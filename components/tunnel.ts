// The public plane: a remotely managed Cloudflare Tunnel whose single config owns every ingress
// rule, one proxied CNAME per route, and the connector token for the cloudflared container.
import * as pulumi from "@pulumi/pulumi";
import * as cloudflare from "@pulumi/cloudflare";
import * as random from "@pulumi/random";
import { Model, servicesOn } from "../stacks/model";
import { renderTunnelIngress } from "../render/tunnelIngress";

export interface TunnelArgs {
    model: Model;
    /** The tunnel's name in the Cloudflare account. */
    tunnelName: string;
    /** The comment that marks the stack's records. */
    comment: string;
    /** Resource name → import id, for CNAMEs taken over from a hand-made setup (homelab:adopt). */
    imports?: Record<string, string>;
}

export class Tunnel extends pulumi.ComponentResource {
    public readonly tunnelId: pulumi.Output<string>;
    /** `<tunnel-id>.cfargotunnel.com`: the target of every public CNAME. */
    public readonly cname: pulumi.Output<string>;
    /** The connector token: secret; only the cloudflared container's environment receives it. */
    public readonly token: pulumi.Output<string>;

    constructor(name: string, args: TunnelArgs, opts?: pulumi.ComponentResourceOptions) {
        super("homelab:cloudflare:Tunnel", name, {}, opts);
        const { model } = args;
        const child = { parent: this };
        const secret = new random.RandomBytes(`${name}-secret`, { length: 32 }, { parent: this });
        const tunnel = new cloudflare.ZeroTrustTunnelCloudflared(
            name,
            { accountId: model.accountId, name: args.tunnelName, configSrc: "cloudflare", tunnelSecret: pulumi.secret(secret.base64) },
            { ...child, additionalSecretOutputs: ["tunnelSecret"] },
        );
        this.tunnelId = tunnel.id;
        this.cname = pulumi.interpolate`${tunnel.id}.cfargotunnel.com`;

        new cloudflare.ZeroTrustTunnelCloudflaredConfig(
            `${name}-config`,
            { accountId: model.accountId, tunnelId: tunnel.id, config: { ingresses: renderTunnelIngress(model) } },
            child,
        );

        for (const s of servicesOn(model, "public")) {
            const resourceName = `${name}-${s.name}-cname`;
            const importId = args.imports?.[resourceName];
            new cloudflare.DnsRecord(
                resourceName,
                {
                    zoneId: model.zoneId,
                    name: s.hostnames.public as string,
                    type: "CNAME",
                    content: this.cname,
                    ttl: 1,
                    proxied: true,
                    comment: args.comment,
                },
                // Before 0.2 these were named `public-<service>-cname`.
                { ...child, aliases: [{ name: `public-${s.name}-cname` }], ...(importId ? { import: importId } : {}) },
            );
        }

        // Function results are not secret by default: wrap the token before anything sees it.
        this.token = pulumi.secret(
            cloudflare.getZeroTrustTunnelCloudflaredTokenOutput({ accountId: model.accountId, tunnelId: tunnel.id }, child).token,
        );
        this.registerOutputs({ tunnelId: this.tunnelId, cname: this.cname, token: this.token });
    }
}
