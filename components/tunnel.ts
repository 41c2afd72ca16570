// The public plane: a remotely managed Cloudflare Tunnel whose single config owns every ingress
// rule, one proxied CNAME per route, and the connector token for the cloudflared container.
import * as pulumi from "@pulumi/pulumi";
import * as cloudflare from "@pulumi/cloudflare";
import * as random from "@pulumi/random";
import * as command from "@pulumi/command";
import { Model, servicesOn } from "../stacks/model";
import { shellScript } from "../render/shell";
import { PUBLIC_FILES_WRITE, packFiles } from "../render/reload";
import { filesCommand } from "./containers";
import { TunnelPart } from "../plan/assemble";

export interface TunnelArgs {
    model: Model;
    /** The ingress rules and cloudflared's CA files, from the assembly. */
    part: TunnelPart;
    /** The tunnel's name in the Cloudflare account. */
    tunnelName: string;
    /** The comment that marks the stack's records. */
    comment: string;
    /** Resource name → import id, for CNAMEs taken over from a hand-made setup (homelab:adopt). */
    imports?: Record<string, string>;
    /** The bootstrap token (secret): the cleanup of the tunnel's connections before its delete uses it. */
    apiToken: pulumi.Input<string>;
    /** Resources every route waits for: the Access applications of gated services. */
    routesAfter?: pulumi.Resource[];
    /**
     * The CNAMEs' name prefix (default: the component's name). Every host's tunnel names them
     * `tunnel-<service>-cname`: service names are unique in a stack, and a service that moves to
     * another host keeps its record (its target changes in place, it is never deleted and re-made).
     */
    recordPrefix?: string;
}

export class Tunnel extends pulumi.ComponentResource {
    public readonly tunnelId: pulumi.Output<string>;
    /** `<tunnel-id>.cfargotunnel.com`: the target of every public CNAME. */
    public readonly cname: pulumi.Output<string>;
    /** The connector token: secret; only the cloudflared container's environment receives it. */
    public readonly token: pulumi.Output<string>;
    /**
     * Deletes the tunnel's connections at Cloudflare when it is itself deleted, which happens after
     * everything that depends on it (the cloudflared container must) and before the tunnel.
     */
    public readonly connectionsCleanup: command.local.Command;

    constructor(name: string, args: TunnelArgs, opts?: pulumi.ComponentResourceOptions) {
        super("homelab:cloudflare:Tunnel", name, {}, opts);
        const { model } = args;
        const child = { parent: this };
        // The tunnel secret: 43 random letters and digits (256 bits), base64-encoded as the API
        // asks. A RandomPassword, not RandomBytes: pulumi-random makes a RandomBytes' resource id
        // its base64 value, so the secret would sit unencrypted in the state (docs: provider semantics).
        const secret = new random.RandomPassword(
            `${name}-secret-password`,
            { length: 43, special: false },
            { parent: this, additionalSecretOutputs: ["result"] },
        );
        const tunnelSecret = pulumi.secret(secret.result.apply((r) => Buffer.from(r, "utf8").toString("base64")));
        const tunnel = new cloudflare.ZeroTrustTunnelCloudflared(
            name,
            { accountId: model.accountId, name: args.tunnelName, configSrc: "cloudflare", tunnelSecret },
            // The secret is set once: a tunnel made before the RandomPassword keeps its secret (a
            // change would rotate it in place, change the connector token and replace cloudflared).
            { ...child, additionalSecretOutputs: ["tunnelSecret"], ignoreChanges: ["tunnelSecret"] },
        );
        this.tunnelId = tunnel.id;
        this.cname = pulumi.interpolate`${tunnel.id}.cfargotunnel.com`;

        // A route behind Access never exists without its application: the ingress rules and the
        // CNAMEs wait for every Access application (and are not made if one fails).
        const afterAccess = args.routesAfter && args.routesAfter.length > 0 ? { dependsOn: args.routesAfter } : {};

        // The CA certificates cloudflared verifies HTTPS upstreams with, in a folder on the Docker
        // host that its container mounts read-only; in place before a route names one.
        const caFiles = filesCommand(
            `${name}-ca-files`,
            {
                engine: args.part.engine,
                dir: args.part.caHostDir,
                files: packFiles(args.part.caFiles),
                write: PUBLIC_FILES_WRITE,
                secret: false,
            },
            child,
        );
        new cloudflare.ZeroTrustTunnelCloudflaredConfig(
            `${name}-config`,
            { accountId: model.accountId, tunnelId: tunnel.id, config: { ingresses: args.part.ingress } },
            { ...child, dependsOn: [caFiles, ...(args.routesAfter ?? [])] },
        );

        const cleanup = shellScript("tunnel-connections-cleanup");
        this.connectionsCleanup = new command.local.Command(
            `${name}-connections-cleanup`,
            {
                create: "true",
                delete: cleanup,
                interpreter: ["/bin/sh", "-c"],
                environment: {
                    ACCOUNT_ID: model.accountId,
                    TUNNEL_ID: tunnel.id,
                    CLOUDFLARE_API_TOKEN: pulumi.secret(args.apiToken),
                },
            },
            { ...child, additionalSecretOutputs: ["environment"] },
        );

        for (const s of servicesOn(model, "public")) {
            const resourceName = `${args.recordPrefix ?? name}-${s.name}-cname`;
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
                {
                    ...child,
                    ...afterAccess,
                    aliases: [{ name: `public-${s.name}-cname` }],
                    ...(importId ? { import: importId } : {}),
                },
            );
        }

        // Function results are not secret by default: wrap the token before anything sees it.
        this.token = pulumi.secret(
            cloudflare.getZeroTrustTunnelCloudflaredTokenOutput(
                { accountId: model.accountId, tunnelId: tunnel.id },
                child,
            ).token,
        );
        this.registerOutputs({ tunnelId: this.tunnelId, cname: this.cname, token: this.token });
    }
}
