// The edge: HAProxy on :80/:443, splitting by the client's real address.
// - Linux: an HAProxy container (Docker Engine keeps client addresses on published ports).
// - Mac runtimes: HAProxy natively on the Mac under launchd (the only place that sees real
//   addresses), forwarding to the relay with the edge's secret in each PROXY header, an HAProxy
//   container that alone may hand Caddy a PROXY header.
// Configs are checked by the binary that will run them before they take effect, and reloaded in
// place; a failed check or reload fails `pulumi up` with HAProxy's own message and leaves the old
// config serving.
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as command from "@pulumi/command";
import { sshTarget } from "../stacks/grammar";
import { CONTAINERS, EDGE_AUTH_FILES } from "../stacks/layout";
import { EDGE_APPLY, EDGE_CHECK, EDGE_REMOVE, RUN_ON_MAC } from "../render/edge";
import { packFiles } from "../render/reload";
import { NetworkKey } from "../plan/docker";
import { EdgePart } from "../plan/assemble";
import { containerArgs, haproxyConfigCommand } from "./containers";
import { EdgeKey } from "./edgeKey";
import { formerChild } from "./aliases";
import versions from "../render/versions.json";

export interface EdgeArgs {
    /** The HAProxy container, its config and the native edge's files, from the assembly. */
    part: EdgePart;
    /** The Docker networks, from the DockerHost. */
    networkNames: Partial<Record<NetworkKey, pulumi.Output<string>>>;
    /** Caddy's container: the edge starts after it. */
    caddy: pulumi.Resource;
    /** The edge's secret; required on a Mac runtime. */
    edgeKey?: EdgeKey;
}

/** Where the edge's commands run: here, or on the Docker host over SSH. */
export function macTarget(dockerHost: string): Record<string, string> {
    const t = sshTarget(dockerHost);
    if (!t) return {};
    return { SSH_TARGET: t.user ? `${t.user}@${t.host}` : t.host, ...(t.port ? { SSH_PORT: String(t.port) } : {}) };
}

/**
 * The variables shell/edge-apply.sh reads as overrides (the tests' stand-ins, CHECK_ONLY), set
 * empty: on the Mac they are the script's defaults, whatever the Pulumi process's environment
 * holds (an exported CHECK_ONLY would turn every apply into a check).
 */
const NO_OVERRIDES: Record<string, string> = {
    CHECK_ONLY: "",
    HAPROXY: "",
    LAUNCHCTL: "",
    AGENTS_DIR: "",
    BREW: "",
    MIN_HAPROXY: "",
    LOG_LIMIT_MB: "",
};

/** A command line that runs the script in $<which> on the Mac (shell/run-on-mac.sh). */
const runOnMac = (which: "APPLY" | "CHECK" | "REMOVE") => `SCRIPT="$${which}"\n${RUN_ON_MAC}`;

/** Before this version the HAProxy container, its config command and image were DockerHost children. */
const formerDockerHostChild = (name: string) => formerChild("homelab:docker:DockerHost", "docker", name);

export class Edge extends pulumi.ComponentResource {
    public readonly haproxyCfg: string;
    public readonly containerId: pulumi.Output<string>;

    constructor(name: string, args: EdgeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("homelab:edge:Edge", name, {}, opts);
        const { part } = args;
        const native = part.native;
        if (native && !args.edgeKey) throw new Error("internal: a native edge needs the edge's secret");
        const child = { parent: this };

        // --- the HAProxy container: the edge (Linux) or the relay (Mac).
        const image = new docker.RemoteImage(
            `${name}-haproxy-image`,
            { name: versions.haproxyImage, keepLocally: true },
            { ...child, aliases: [formerDockerHostChild("docker-haproxy-image")] },
        );
        this.haproxyCfg = part.haproxyCfg;
        const key = args.edgeKey;

        // --- Mac runtimes: the native edge's files, and a check of them on the Mac (HAProxy there,
        // new enough, the config accepted) before the relay takes its new config: a Mac that cannot
        // run the new edge stops the update while its edge still works.
        const mac =
            native && key
                ? (() => {
                      const nativeFiles = pulumi.secret(
                          key.secretMap.apply((map) =>
                              packFiles({
                                  "haproxy.cfg": native.cfg,
                                  [EDGE_AUTH_FILES.secretMap]: map,
                                  "edge.plist": native.plist,
                              }),
                          ),
                      );
                      const environment = {
                          ...NO_OVERRIDES,
                          EDGE_DIR: native.dir,
                          LABEL: native.label,
                          APPLY: EDGE_APPLY,
                          REMOVE: EDGE_REMOVE,
                          ...macTarget(part.engine),
                      };
                      const check = new command.local.Command(
                          `${name}-native-check`,
                          {
                              create: runOnMac("CHECK"),
                              update: runOnMac("CHECK"),
                              interpreter: ["/bin/sh", "-c"],
                              environment: { ...environment, CHECK: EDGE_CHECK },
                              stdin: nativeFiles,
                          },
                          { parent: this, additionalSecretOutputs: ["stdin"] },
                      );
                      return { nativeFiles, environment, check };
                  })()
                : undefined;

        const files: pulumi.Output<string> =
            native && key
                ? pulumi.secret(
                      key.secretHash.apply((hash) =>
                          packFiles({ "haproxy.cfg": this.haproxyCfg, [EDGE_AUTH_FILES.secretHash]: hash }),
                      ),
                  )
                : pulumi.output(packFiles({ "haproxy.cfg": this.haproxyCfg }));
        const config = haproxyConfigCommand(
            `${name}-haproxy-config`,
            {
                engine: part.engine,
                configDir: part.configDir,
                container: CONTAINERS.haproxy,
                files,
                // On a Mac runtime the bundle carries the hash of the edge's secret.
                secret: !!native,
            },
            {
                parent: this,
                dependsOn: [image, ...(mac ? [mac.check] : [])],
                aliases: [formerDockerHostChild("docker-haproxy-config")],
            },
        );
        const spec = part.container;
        const container = new docker.Container(
            `${name}-haproxy`,
            containerArgs(spec, image.imageId, args.networkNames, { secrets: {} }),
            {
                ...child,
                dependsOn: [config, args.caddy],
                aliases: [formerDockerHostChild("haproxy")],
            },
        );
        this.containerId = container.id;

        // --- Mac runtimes: the native edge, installed and reloaded by launchd.
        if (mac)
            new command.local.Command(
                `${name}-native`,
                {
                    create: runOnMac("APPLY"),
                    update: runOnMac("APPLY"),
                    delete: runOnMac("REMOVE"),
                    interpreter: ["/bin/sh", "-c"],
                    environment: mac.environment,
                    stdin: mac.nativeFiles,
                },
                // Replaced only by hand or by a provider change; create-first would run the new
                // APPLY, then the old REMOVE, which would take the edge down.
                { parent: this, dependsOn: [container], deleteBeforeReplace: true, additionalSecretOutputs: ["stdin"] },
            );
        this.registerOutputs({ containerId: this.containerId });
    }
}
