// The Docker host: the network, the custom Caddy image, Caddy, HAProxy, cloudflared and every
// managed service container, plus the commands that put rendered configs in place and reload
// them. Container inputs never depend on the service table or the users: those reach Caddy and
// HAProxy through the reload commands, so changing them never replaces a container.
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as command from "@pulumi/command";
import { ManagedService, Model } from "../stacks/model";
import { renderCaddyfile } from "../render/caddyfile";
import { renderHaproxyCfg } from "../render/haproxy";
import { CADDY_RELOAD_ON_HOST, HAPROXY_RELOAD_ON_HOST } from "../render/reload";
import { containerPlan, CADDY_IMAGE_NAME, HAPROXY_CONFIG_DIR, publishedPorts, serviceVolumes, needsHostGateway } from "./dockerPlan";
import { CADDY_ETC, dockerIpRange, haproxyAddress } from "../render/addresses";
import versions from "../render/versions.json";

export interface DockerHostArgs {
    model: Model;
    /** The DNS-01 token value (secret): only Caddy's environment gets it. */
    dnsToken: pulumi.Input<string>;
    /** The tunnel connector token (secret), when a service is public. */
    tunnelToken?: pulumi.Input<string>;
    /** The client CA certificate (PEM) and the current users' certificates (the leaf allowlist). */
    caCertificate: pulumi.Input<string>;
    clientCertificates: pulumi.Input<Record<string, string>>;
    /** `homelab:secrets` values for services' secretEnv (secret). */
    secrets: pulumi.Input<Record<string, string>>;
}

export class DockerHost extends pulumi.ComponentResource {
    public readonly networkId: pulumi.Output<string>;
    /** Container name → id. */
    public readonly containers: pulumi.Output<Record<string, string>>;
    public readonly caddyfile: pulumi.Output<string>;
    public readonly haproxyCfg: string;

    constructor(name: string, args: DockerHostArgs, opts?: pulumi.ComponentResourceOptions) {
        super("homelab:docker:DockerHost", name, {}, opts);
        const { model } = args;
        const provider = new docker.Provider(`${name}-engine`, { host: model.docker.host }, { parent: this });
        const child = { parent: this, provider };
        const dockerEnv = { DOCKER_HOST: model.docker.host };

        const network = new docker.Network(
            `${name}-network`,
            {
                name: model.docker.network,
                driver: "bridge",
                ipamConfigs: [{ subnet: model.docker.subnet, ipRange: dockerIpRange(model.docker.subnet) }],
            },
            child,
        );
        const attach = (alias: string, ipv4Address?: string): docker.types.input.ContainerNetworksAdvanced[] => [
            { name: network.name, aliases: [alias], ...(ipv4Address ? { ipv4Address } : {}) },
        ];
        const hosts = needsHostGateway(model.docker.runtime) ? [{ host: "host.docker.internal", ip: "host-gateway" }] : [];
        const ids: Record<string, pulumi.Output<string>> = {};

        // --- Caddy: the custom image, started with no config; the reload command gives it one.
        const caddyImage = new docker.Image(
            `${name}-caddy-image`,
            {
                imageName: CADDY_IMAGE_NAME,
                build: { context: path.join(__dirname, "..", "docker"), dockerfile: path.join(__dirname, "..", "docker", "caddy.Dockerfile") },
                skipPush: true,
            },
            child,
        );
        const dataDir = model.docker.dataDir;
        const caddy = new docker.Container(
            "caddy",
            {
                name: "caddy",
                image: caddyImage.imageName,
                // --resume: after a restart Caddy loads the last config it was given (autosaved under
                // /config), which the reload command keeps current.
                command: ["caddy", "run", "--resume"],
                // The Caddyfile names the CA and leaf allowlist relative to this directory.
                workingDir: CADDY_ETC,
                envs: pulumi.secret([pulumi.interpolate`CLOUDFLARE_API_TOKEN=${args.dnsToken}`]),
                restart: "unless-stopped",
                volumes: [
                    { hostPath: `${dataDir}/caddy/etc`, containerPath: CADDY_ETC },
                    { hostPath: `${dataDir}/caddy/data`, containerPath: "/data" },
                    { hostPath: `${dataDir}/caddy/config`, containerPath: "/config" },
                ],
                networksAdvanced: attach("caddy"),
                hosts,
                logDriver: "json-file",
                logOpts: { "max-size": "10m", "max-file": "3" },
            },
            { ...child, additionalSecretOutputs: ["envs"] },
        );
        ids["caddy"] = caddy.id;

        // --- HAProxy: config written and checked by the pinned image before the container starts.
        const haproxyImage = new docker.RemoteImage(`${name}-haproxy-image`, { name: versions.haproxyImage, keepLocally: true }, child);
        this.haproxyCfg = renderHaproxyCfg(model, { caddyHost: "caddy", resolvers: { nameserver: "127.0.0.11:53" } });
        const haproxyConfig = new command.local.Command(
            `${name}-haproxy-config`,
            {
                create: HAPROXY_RELOAD_ON_HOST,
                update: HAPROXY_RELOAD_ON_HOST,
                interpreter: ["/bin/sh", "-c"],
                environment: {
                    ...dockerEnv,
                    HAPROXY_CFG: this.haproxyCfg,
                    IMAGE: versions.haproxyImage,
                    CONFIG_DIR: `${dataDir}/${HAPROXY_CONFIG_DIR}`,
                    CONTAINER: "haproxy",
                },
            },
            { parent: this, dependsOn: [haproxyImage] },
        );
        const haproxy = new docker.Container(
            "haproxy",
            {
                name: "haproxy",
                image: haproxyImage.imageId,
                restart: "unless-stopped",
                volumes: [{ hostPath: `${dataDir}/${HAPROXY_CONFIG_DIR}`, containerPath: "/usr/local/etc/haproxy", readOnly: true }],
                ports: publishedPorts(model),
                networksAdvanced: attach("haproxy", haproxyAddress(model.docker.subnet)),
                logDriver: "json-file",
                logOpts: { "max-size": "10m", "max-file": "3" },
            },
            { ...child, dependsOn: [haproxyConfig] },
        );
        ids["haproxy"] = haproxy.id;

        // --- Caddy's config: rendered Caddyfile, CA and leaf allowlist; reloaded in place.
        this.caddyfile = pulumi.output(renderCaddyfile(model, { haproxyAddress: haproxyAddress(model.docker.subnet), certificates: { kind: "acme" } }));
        const clientsPem = pulumi.output(args.clientCertificates).apply((certs) =>
            Object.keys(certs)
                .sort()
                .map((u) => (certs[u] as string).trim() + "\n")
                .join(""),
        );
        new command.local.Command(
            `${name}-caddy-reload`,
            {
                create: CADDY_RELOAD_ON_HOST,
                update: CADDY_RELOAD_ON_HOST,
                interpreter: ["/bin/sh", "-c"],
                environment: { ...dockerEnv, CONTAINER: "caddy", CADDYFILE: this.caddyfile, CA_PEM: args.caCertificate, CLIENTS_PEM: clientsPem },
                // A new Caddy container (new image, new token) gets its config at once.
                triggers: [caddy.id],
            },
            { parent: this, dependsOn: [caddy] },
        );

        // --- cloudflared, when a service is public: the token only in its environment.
        if (args.tunnelToken !== undefined) {
            const image = new docker.RemoteImage(`${name}-cloudflared-image`, { name: versions.cloudflaredImage, keepLocally: true }, child);
            const cloudflared = new docker.Container(
                "cloudflared",
                {
                    name: "cloudflared",
                    image: image.imageId,
                    command: ["tunnel", "--no-autoupdate", "run"],
                    envs: pulumi.secret([pulumi.interpolate`TUNNEL_TOKEN=${args.tunnelToken}`]),
                    restart: "unless-stopped",
                    networksAdvanced: attach("cloudflared"),
                    hosts,
                    logDriver: "json-file",
                    logOpts: { "max-size": "10m", "max-file": "3" },
                },
                { ...child, additionalSecretOutputs: ["envs"] },
            );
            ids["cloudflared"] = cloudflared.id;
        }

        // --- the managed services: no published ports; reached through Caddy or cloudflared.
        const images = new Map<string, docker.RemoteImage>();
        for (const s of model.services.filter((x): x is ManagedService => x.kind === "managed")) {
            let image = images.get(s.image);
            if (!image) {
                image = new docker.RemoteImage(`${name}-image-${s.name}`, { name: s.image, keepLocally: true }, child);
                images.set(s.image, image);
            }
            const plan = containerPlan(s);
            const secretRefs = Object.entries(s.secretEnv);
            const envs =
                secretRefs.length === 0
                    ? plan.envs
                    : pulumi.secret(
                          pulumi.output(args.secrets).apply((values) => [...plan.envs, ...secretRefs.map(([k, ref]) => `${k}=${values[ref] ?? ""}`)].sort()),
                      );
            const c = new docker.Container(
                s.name,
                {
                    name: s.name,
                    image: image.imageId,
                    envs,
                    ...(s.command ? { command: s.command } : {}),
                    restart: "unless-stopped",
                    volumes: serviceVolumes(s),
                    networksAdvanced: attach(s.name),
                    hosts,
                    ...(plan.healthcheck ? { healthcheck: plan.healthcheck } : {}),
                    logDriver: "json-file",
                    logOpts: { "max-size": "10m", "max-file": "3" },
                },
                { ...child, ...(secretRefs.length > 0 ? { additionalSecretOutputs: ["envs"] } : {}) },
            );
            ids[s.name] = c.id;
        }

        this.networkId = network.id;
        this.containers = pulumi.output(ids);
        this.registerOutputs({ networkId: this.networkId, containers: this.containers });
    }
}
