// One place that turns a planned container (plan/docker.ts) into @pulumi/docker
// arguments, so every container of the stack gets the same treatment (restart, log rotation,
// networks, host gateway, secret environment) and a new setting is added once.
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as command from "@pulumi/command";
import { FILES_ON_HOST, HAPROXY_RELOAD_ON_HOST, HAPROXY_WRITE, haproxyReloadEnvironment } from "../render/reload";
import versions from "../render/versions.json";
import { ContainerSpec, DOCKER_STOP_SECONDS, LOG_DRIVER, NetworkKey, NetworkSpec, SecretRef } from "../plan/docker";

/** Where secret environment values come from (all Pulumi secrets). */
export interface SecretSources {
    dnsToken?: pulumi.Input<string>;
    tunnelToken?: pulumi.Input<string>;
    ddnsToken?: pulumi.Input<string>;
    secrets: pulumi.Input<Record<string, string>>;
}

function secretValue(ref: SecretRef, src: SecretSources): pulumi.Output<string> {
    switch (ref.kind) {
        case "dnsToken":
            if (src.dnsToken === undefined) throw new Error("internal: the DNS-01 token is needed but not given");
            return pulumi.output(src.dnsToken);
        case "tunnelToken":
            if (src.tunnelToken === undefined) throw new Error("internal: the tunnel token is needed but not given");
            return pulumi.output(src.tunnelToken);
        case "ddnsToken":
            if (src.ddnsToken === undefined) throw new Error("internal: the DDNS token is needed but not given");
            return pulumi.output(src.ddnsToken);
        case "stackSecret":
            return pulumi.output(src.secrets).apply((values) => {
                const v = values[ref.key];
                if (v === undefined) throw new Error(`internal: homelab:secrets.${ref.key} is not set`);
                return v;
            });
    }
}

/** The container's environment: plain when nothing in it is secret, else one secret list. */
export function containerEnv(spec: ContainerSpec, src: SecretSources): pulumi.Input<pulumi.Input<string>[]> {
    const refs = Object.entries(spec.secretEnv);
    if (refs.length === 0) return spec.env;
    return pulumi.secret(
        pulumi
            .all(refs.map(([k, ref]) => secretValue(ref, src).apply((v) => `${k}=${v}`)))
            .apply((secret) => [...spec.env, ...secret].sort()),
    );
}

/** @pulumi/docker arguments for a planned network: every address given, in the form Docker reports it. */
export function networkArgs(n: NetworkSpec): docker.NetworkArgs {
    return {
        name: n.name,
        driver: "bridge",
        ipamConfigs: [
            { subnet: n.subnet, ...(n.ipRange ? { ipRange: n.ipRange } : {}), gateway: n.gateway },
            ...(n.ipv6 ? [{ subnet: n.ipv6.subnet, ipRange: n.ipv6.ipRange, gateway: n.ipv6.gateway }] : []),
        ],
        ...(n.ipv6 ? { ipv6: true } : {}),
    };
}

/** @pulumi/docker arguments for a planned container; `networks` are the network resources' names. */
export function containerArgs(
    spec: ContainerSpec,
    image: pulumi.Input<string>,
    networks: Partial<Record<NetworkKey, pulumi.Input<string>>>,
    src: SecretSources,
): docker.ContainerArgs {
    return {
        name: spec.name,
        image,
        ...(spec.command ? { command: spec.command } : {}),
        ...(spec.entrypoint ? { entrypoints: spec.entrypoint } : {}),
        ...(spec.workingDir ? { workingDir: spec.workingDir } : {}),
        ...(spec.user !== undefined ? { user: spec.user } : {}),
        envs: containerEnv(spec, src),
        restart: spec.restart,
        volumes: spec.mounts.map((m) => ({
            ...(m.hostPath ? { hostPath: m.hostPath } : {}),
            ...(m.volumeName ? { volumeName: m.volumeName } : {}),
            containerPath: m.containerPath,
            readOnly: m.readOnly,
        })),
        ...(spec.ports.length > 0
            ? {
                  ports: spec.ports.map((p) => ({
                      internal: p.internal,
                      external: p.external,
                      ip: p.ip,
                      protocol: p.protocol,
                  })),
              }
            : {}),
        networksAdvanced: spec.networks.map((n) => {
            const name = networks[n.key];
            if (name === undefined)
                throw new Error(`internal: ${spec.name} joins network ${n.key}, which does not exist`);
            return {
                name,
                ...(n.aliases.length > 0 ? { aliases: n.aliases } : {}),
                ...(n.ipv4Address ? { ipv4Address: n.ipv4Address } : {}),
                ...(n.ipv6Address ? { ipv6Address: n.ipv6Address } : {}),
            };
        }),
        hosts: spec.hosts,
        ...(spec.healthcheck ? { healthcheck: spec.healthcheck } : {}),
        // Swap given explicitly, as Docker sets it when it is not (twice the memory): otherwise the
        // provider reads Docker's value back as a change on every run.
        ...(spec.memoryMb !== undefined ? { memory: spec.memoryMb, memorySwap: spec.memoryMb * 2 } : {}),
        ...(spec.shmSizeMb !== undefined ? { shmSize: spec.shmSizeMb } : {}),
        ...(spec.devices.length > 0
            ? {
                  devices: spec.devices.map((d) => ({
                      hostPath: d.hostPath,
                      containerPath: d.containerPath,
                      permissions: d.permissions,
                  })),
              }
            : {}),
        ...(spec.capAdd.length > 0 || spec.capDrop
            ? {
                  capabilities: {
                      ...(spec.capAdd.length > 0 ? { adds: spec.capAdd } : {}),
                      ...(spec.capDrop ? { drops: spec.capDrop } : {}),
                  },
              }
            : {}),
        ...(spec.readOnlyRoot ? { readOnly: true } : {}),
        ...(spec.securityOpts ? { securityOpts: spec.securityOpts } : {}),
        ...(Object.keys(spec.tmpfs).length > 0 ? { tmpfs: spec.tmpfs } : {}),
        ...(Object.keys(spec.labels).length > 0
            ? {
                  labels: Object.keys(spec.labels)
                      .sort()
                      .map((label) => ({ label, value: spec.labels[label] as string })),
              }
            : {}),
        ...(spec.stopGraceSeconds !== undefined ? { stopTimeout: spec.stopGraceSeconds } : {}),
        destroyGraceSeconds: spec.destroyGraceSeconds ?? spec.stopGraceSeconds ?? DOCKER_STOP_SECONDS,
        ...(spec.uploads.length > 0
            ? { uploads: spec.uploads.map((u) => ({ file: u.file, content: u.content })) }
            : {}),
        ...(spec.ulimits
            ? {
                  ulimits: Object.entries(spec.ulimits)
                      .sort(([a], [b]) => a.localeCompare(b))
                      .map(([name, limit]) => ({ name, soft: limit.soft, hard: limit.hard })),
              }
            : {}),
        logDriver: LOG_DRIVER,
        logOpts: spec.logOpts,
    };
}

/**
 * Container settings the Docker provider records but never applies to a running container (its
 * update handles only restart and resources): a change to one of them replaces the container, or
 * the edit would never reach Docker. Only the healthcheck fields the program sets: dockerd fills
 * the others (startInterval) from the image, and that read-back must not replace anything.
 */
export const APPLIED_ONLY_ON_CREATE = [
    "healthcheck.tests",
    "healthcheck.interval",
    "healthcheck.timeout",
    "healthcheck.retries",
    "healthcheck.startPeriod",
    "tmpfs",
];

/** Resource options for a container: secret env stays secret in state; see APPLIED_ONLY_ON_CREATE. */
export function containerOptions(spec: ContainerSpec): {
    additionalSecretOutputs?: string[];
    replaceOnChanges: string[];
} {
    return {
        ...(Object.keys(spec.secretEnv).length > 0 ? { additionalSecretOutputs: ["envs"] } : {}),
        replaceOnChanges: APPLIED_ONLY_ON_CREATE,
    };
}

/**
 * A command that runs `script` where `pulumi up` runs, against the Docker engine `engine`, with a
 * throwaway container of the pinned HAProxy image (its busybox sh) doing the work on the host, and
 * a file bundle on stdin; a bundle that carries a secret is a secret output too, not by propagation
 * alone.
 */
function onDockerHost(
    name: string,
    args: {
        script: string;
        engine: string;
        environment: Record<string, string>;
        stdin: pulumi.Input<string>;
        secret: boolean;
    },
    opts: pulumi.CustomResourceOptions,
): command.local.Command {
    return new command.local.Command(
        name,
        {
            create: args.script,
            update: args.script,
            interpreter: ["/bin/sh", "-c"],
            environment: { DOCKER_HOST: args.engine, IMAGE: versions.haproxyImage, ...args.environment },
            stdin: args.stdin,
        },
        { ...opts, ...(args.secret ? { additionalSecretOutputs: ["stdin"] } : {}) },
    );
}

/**
 * The command that makes a folder on the Docker host hold exactly a bundle's files, with `write`
 * (shell/files-on-host.sh): cloudflared's CA folder (PUBLIC_FILES_WRITE), the status container's
 * and the dashboard's (FILES_WRITE: a key becomes `owner`'s alone, the files in `inPlace` are
 * written in place, those in `last` go in after the others).
 */
export function filesCommand(
    name: string,
    args: {
        engine: string;
        dir: string;
        files: pulumi.Input<string>;
        write: string;
        owner?: string;
        inPlace?: string[];
        last?: string[];
        secret: boolean;
    },
    opts: pulumi.CustomResourceOptions,
): command.local.Command {
    return onDockerHost(
        name,
        {
            script: FILES_ON_HOST,
            engine: args.engine,
            environment: {
                CONFIG_DIR: args.dir,
                WRITE: args.write,
                // Always set (empty when unused), so the Pulumi process's own environment never
                // stands in for one the stack did not give.
                OWNER: args.owner ?? "",
                IN_PLACE: (args.inPlace ?? []).join(" "),
                LAST: (args.last ?? []).join(" "),
            },
            stdin: args.files,
            secret: args.secret,
        },
        opts,
    );
}

/**
 * The command that puts an HAProxy container's files (a bundle on stdin: haproxy.cfg and its
 * certificates) into its config folder on the Docker host, checked by the pinned image first, and
 * reloads that HAProxy softly: the edge's, the relay's and a further host's gateway's. A bundle
 * with a secret (a key, the hash of the edge's secret) makes stdin a secret output.
 */
export function haproxyConfigCommand(
    name: string,
    args: { engine: string; configDir: string; container: string; files: pulumi.Input<string>; secret: boolean },
    opts: pulumi.CustomResourceOptions,
): command.local.Command {
    return onDockerHost(
        name,
        {
            script: HAPROXY_RELOAD_ON_HOST,
            engine: args.engine,
            environment: {
                CONFIG_DIR: args.configDir,
                CONTAINER: args.container,
                WRITE: HAPROXY_WRITE,
                ...haproxyReloadEnvironment(),
            },
            stdin: args.files,
            secret: args.secret,
        },
        opts,
    );
}
