// The Docker host: the stack's networks, the custom Caddy image, Caddy, cloudflared and every
// managed service container, plus the command that puts Caddy's rendered config in place and
// reloads it. Everything comes from its part of the assembly (plan/assemble.ts); container inputs
// never depend on the service table or the users (those reach Caddy through the reload), so
// changing them never replaces a container. The Docker provider is inherited from the options.
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as command from "@pulumi/command";
import { CADDY_IMAGE_NAME } from "../plan/docker";
import { CADDY_RELOAD_ON_HOST, caddyReloadEnvironment, packFiles } from "../render/reload";
import { ContainerSpec, NetworkKey } from "../plan/docker";
import { DockerHostPart } from "../plan/assemble";
import { SecretSources, containerArgs, containerOptions, networkArgs } from "./containers";

export interface DockerHostArgs {
    /** The networks, containers and Caddyfile, from the assembly. */
    part: DockerHostPart;
    /** The DNS-01 token value (secret): only Caddy's environment gets it (the edge host's only). */
    dnsToken?: pulumi.Input<string>;
    /** The tunnel connector token (secret), when a service is public. */
    tunnelToken?: pulumi.Input<string>;
    /** The tunnel's connection cleanup: cloudflared depends on it, so it is deleted (and stops) first. */
    tunnelCleanup?: pulumi.Resource;
    /** The client CA certificate (PEM) and the current users' certificates (the leaf allowlist): Caddy's, the edge host's only. */
    caCertificate?: pulumi.Input<string>;
    clientCertificates?: pulumi.Input<Record<string, string>>;
    /** `homelab:secrets` values for services' secretEnv (secret). */
    secrets: pulumi.Input<Record<string, string>>;
    /** The DDNS updater's token (secret), with a dynamic WAN address. */
    ddnsToken?: pulumi.Input<string>;
    /** Service name → resources its container waits for (the status page and the dashboard: their files). */
    serviceDependsOn?: Record<string, pulumi.Resource[]>;
    /** With further hosts: the hosts CA and Caddy's client certificate and key (secret) for their gateways. */
    hostsTls?: { caPem: pulumi.Input<string>; caddyCert: pulumi.Input<string>; caddyKey: pulumi.Input<string> };
}

/** Caddy's config bundle: the Caddyfile, the users' CA and leaf allowlist, and the hosts' files. */
function caddyBundle(caddyfile: string, args: DockerHostArgs): pulumi.Output<string> {
    const h = args.hostsTls;
    if (args.caCertificate === undefined || args.clientCertificates === undefined)
        throw new Error("internal: Caddy needs the client CA and the users' certificates");
    return pulumi
        .all([
            pulumi.output(args.caCertificate),
            pulumi.output(args.clientCertificates),
            h ? pulumi.all([h.caPem, h.caddyCert, h.caddyKey]) : pulumi.output(undefined),
        ])
        .apply(([ca, certs, hosts]) =>
            packFiles({
                Caddyfile: caddyfile,
                "ca.pem": ca,
                "clients.pem": clientsPem(certs),
                ...(hosts
                    ? { "hosts-ca.pem": hosts[0], "hosts-client.crt": hosts[1], "hosts-client.key": hosts[2] }
                    : {}),
            }),
        );
}

/** The leaf allowlist Caddy trusts besides the CA check: the current users' certificates, by name. */
export function clientsPem(certs: Record<string, string>): string {
    return Object.keys(certs)
        .sort()
        .map((u) => (certs[u] as string).trim() + "\n")
        .join("");
}

export class DockerHost extends pulumi.ComponentResource {
    /** Network key → the network's name (as an output, so users depend on the network). */
    public readonly networkNames: Partial<Record<NetworkKey, pulumi.Output<string>>>;
    /** Container name → id. */
    public readonly containers: pulumi.Output<Record<string, string>>;
    /** The Caddy container (the edge depends on it); a further host has none. */
    public readonly caddy?: docker.Container;
    public readonly caddyfile?: string;

    constructor(name: string, args: DockerHostArgs, opts?: pulumi.ComponentResourceOptions) {
        super("homelab:docker:DockerHost", name, {}, opts);
        const plan = args.part;
        const child = { parent: this };
        const sources: SecretSources = {
            ...(args.dnsToken ? { dnsToken: args.dnsToken } : {}),
            ...(args.tunnelToken ? { tunnelToken: args.tunnelToken } : {}),
            ...(args.ddnsToken ? { ddnsToken: args.ddnsToken } : {}),
            secrets: args.secrets,
        };

        // --- networks: private (the existing network keeps its resource name), public, edge.
        this.networkNames = { bridge: pulumi.output("bridge") };
        for (const n of plan.networks) {
            const net = new docker.Network(
                n.key === "private" ? `${name}-network` : `${name}-${n.key}-network`,
                networkArgs(n),
                // pulumi-docker makes only containers delete-before-replace; a network replaced
                // create-first would be created under the same name and subnet beside the old one,
                // which dockerd refuses. Deleting first also takes its containers down first (the
                // engine replaces the dependents of a delete-before-replace resource eagerly).
                { ...child, deleteBeforeReplace: true },
            );
            this.networkNames[n.key] = net.name;
        }

        const ids: Record<string, pulumi.Output<string>> = {};
        const container = (
            spec: ContainerSpec,
            image: pulumi.Input<string>,
            extra: pulumi.CustomResourceOptions = {},
        ): docker.Container => {
            const c = new docker.Container(
                `${name}-${spec.resourceName ?? spec.name}`,
                containerArgs(spec, image, this.networkNames, sources),
                {
                    ...child,
                    ...containerOptions(spec),
                    // Containers were once named after themselves alone (the edge host's only).
                    ...(plan.caddyfile !== undefined ? { aliases: [{ name: spec.name }] } : {}),
                    ...extra,
                },
            );
            ids[spec.name] = c.id;
            return c;
        };

        // --- Caddy (the edge host only): the custom image, started with no config; the reload command gives it one.
        const byRole = (role: string) => plan.containers.filter((c) => c.role === role);
        const caddySpec = byRole("caddy")[0];
        if (caddySpec && plan.caddyfile !== undefined) {
            this.caddyfile = plan.caddyfile;
            this.caddy = this.caddyWithConfig(name, args, container(caddySpec, this.caddyImage(name).imageName));
        }

        // --- cloudflared and the services: an image resource each (named after its container,
        // never after whichever service came first with the same image: removing that one would
        // rename the others' image). keepLocally: deleting one never removes an image another uses.
        const remote = (ref: string, resourceName: string): docker.RemoteImage =>
            new docker.RemoteImage(resourceName, { name: ref, keepLocally: true }, child);
        for (const role of ["cloudflared", "ddns"] as const) {
            for (const spec of byRole(role)) {
                if (spec.image.kind !== "remote") continue;
                const after = role === "cloudflared" && args.tunnelCleanup ? { dependsOn: [args.tunnelCleanup] } : {};
                container(spec, remote(spec.image.ref, `${name}-${role}-image`).imageId, after);
            }
        }
        // Services in dependency order: a container is created after the ones it depends on.
        const created = new Map<string, docker.Container>();
        const pending = byRole("service");
        while (pending.length > 0) {
            const i = pending.findIndex((spec) => spec.dependsOn.every((d) => created.has(d)));
            if (i < 0) throw new Error(`internal: dependsOn cycle among ${pending.map((p) => p.name).join(", ")}`);
            const spec = pending.splice(i, 1)[0] as ContainerSpec;
            if (spec.image.kind !== "remote") continue;
            const after: pulumi.Resource[] = [
                ...spec.dependsOn.map((d) => created.get(d) as docker.Container),
                ...(args.serviceDependsOn?.[spec.name] ?? []),
            ];
            created.set(
                spec.name,
                container(
                    spec,
                    remote(spec.image.ref, `${name}-image-${spec.resourceName ?? spec.name}`).imageId,
                    after.length > 0 ? { dependsOn: after } : {},
                ),
            );
        }

        this.containers = pulumi.output(ids);
        this.registerOutputs({ networkNames: this.networkNames, containers: this.containers });
    }

    private caddyImage(name: string): docker.Image {
        return new docker.Image(
            `${name}-caddy-image`,
            {
                imageName: CADDY_IMAGE_NAME,
                build: {
                    context: path.join(__dirname, "..", "docker"),
                    dockerfile: path.join(__dirname, "..", "docker", "caddy.Dockerfile"),
                },
                skipPush: true,
            },
            { parent: this },
        );
    }

    /** Caddy's config: rendered Caddyfile, CA, leaf allowlist (and the hosts' files), on the command's stdin. */
    private caddyWithConfig(name: string, args: DockerHostArgs, caddy: docker.Container): docker.Container {
        const bundle = caddyBundle(args.part.caddyfile as string, args);
        new command.local.Command(
            `${name}-caddy-reload`,
            {
                create: CADDY_RELOAD_ON_HOST,
                update: CADDY_RELOAD_ON_HOST,
                interpreter: ["/bin/sh", "-c"],
                // Holds new connections at the HAProxy container while Caddy reloads (render/haproxy.ts CADDY_HOLD).
                environment: { DOCKER_HOST: args.part.engine, ...caddyReloadEnvironment(args.part.edge) },
                stdin: args.hostsTls ? pulumi.secret(bundle) : bundle,
                // A new Caddy container (new image, new token) gets its config at once.
                triggers: [caddy.id],
            },
            {
                parent: this,
                dependsOn: [caddy],
                // With further hosts stdin carries Caddy's client key: secret in the outputs too.
                ...(args.hostsTls ? { additionalSecretOutputs: ["stdin"] } : {}),
            },
        );
        return caddy;
    }
}
