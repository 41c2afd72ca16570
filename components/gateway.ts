// A further host's gateway (homelab:hosts): the only way in to that host's private and mtls
// services. An HAProxy container of the pinned image, published on the host's tailnet address
// only, that accepts nothing but the edge's Caddy (its client certificate from the hosts CA) and
// forwards by name to the host's service containers. Its config is checked by the pinned image
// before it takes effect and reloaded softly, as the edge's is.
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import { packFiles } from "../render/reload";
import { GATEWAY_FILES } from "../render/gateway";
import { NetworkKey } from "../plan/docker";
import { GatewayPart } from "../plan/assemble";
import { containerArgs, haproxyConfigCommand } from "./containers";
import versions from "../render/versions.json";

export interface GatewayArgs {
    part: GatewayPart;
    /** The host's Docker networks, from its DockerHost. */
    networkNames: Partial<Record<NetworkKey, pulumi.Output<string>>>;
    /** The hosts CA certificate (public) and this gateway's certificate and key (secret). */
    caPem: pulumi.Input<string>;
    serverPem: pulumi.Input<string>;
}

export class Gateway extends pulumi.ComponentResource {
    public readonly containerId: pulumi.Output<string>;

    constructor(name: string, args: GatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super("homelab:hosts:Gateway", name, {}, opts);
        const { part } = args;
        const image = new docker.RemoteImage(
            `${name}-image`,
            { name: versions.haproxyImage, keepLocally: true },
            { parent: this },
        );
        const files = pulumi.secret(
            pulumi.all([args.caPem, args.serverPem]).apply(([ca, server]) =>
                packFiles({
                    "haproxy.cfg": part.haproxyCfg,
                    [GATEWAY_FILES.ca]: ca,
                    [GATEWAY_FILES.server]: server,
                }),
            ),
        );
        const config = haproxyConfigCommand(
            `${name}-config`,
            {
                engine: part.engine,
                configDir: part.configDir,
                container: part.container.name,
                files,
                secret: true,
            },
            { parent: this, dependsOn: [image] },
        );
        const container = new docker.Container(
            `${name}-container`,
            containerArgs(part.container, image.imageId, args.networkNames, { secrets: {} }),
            { parent: this, dependsOn: [config] },
        );
        this.containerId = container.id;
        this.registerOutputs({ containerId: this.containerId });
    }
}
