// homelab:monitoring and homelab:dashboard: the files their containers read, written into their
// folders on the edge host (the containers themselves are services of the DockerHost). The status
// container's folder holds its config, its /etc/hosts and nsswitch.conf, and the monitor's
// certificate and key (the key 0600, the status container's user's alone); the bundle that carries
// them is a secret. Both programs read their config again when it changes: nothing is restarted.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import { FILES_ON_HOST, FILES_WRITE, packFiles } from "../render/reload";
import { MONITOR_FILES, WatchedCertificate } from "../render/gatus";
import { DashboardPart, MonitoringPart } from "../plan/assemble";
import { MONITOR_ETC, MONITOR_USER } from "../stacks/layout";
import versions from "../render/versions.json";

/** The command that makes a folder on the Docker host hold exactly a bundle's files. */
function filesCommand(
    name: string,
    args: {
        engine: string;
        dir: string;
        files: pulumi.Input<string>;
        inPlace: string[];
        /** Put in place after the others: the config that names them. */
        last: string[];
        secret: boolean;
    },
    opts: pulumi.CustomResourceOptions,
): command.local.Command {
    return new command.local.Command(
        name,
        {
            create: FILES_ON_HOST,
            update: FILES_ON_HOST,
            interpreter: ["/bin/sh", "-c"],
            environment: {
                DOCKER_HOST: args.engine,
                // The pinned HAProxy image: its busybox sh writes the files (no image of the user's runs it).
                IMAGE: versions.haproxyImage,
                CONFIG_DIR: args.dir,
                WRITE: FILES_WRITE,
                OWNER: MONITOR_USER,
                IN_PLACE: args.inPlace.join(" "),
                LAST: args.last.join(" "),
            },
            stdin: args.files,
        },
        { ...opts, ...(args.secret ? { additionalSecretOutputs: ["stdin"] } : {}) },
    );
}

export interface MonitoringArgs {
    part: MonitoringPart;
    /** The monitor's certificate (public) and key (secret), from the client CA. */
    certificate: pulumi.Input<string>;
    key: pulumi.Input<string>;
    /** The certificates whose expiry the status page warns about. */
    certificates: pulumi.Input<WatchedCertificate[]>;
}

export class Monitoring extends pulumi.ComponentResource {
    /** The command that writes the status container's folder: the container waits for it. */
    public readonly files: command.local.Command;

    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("homelab:monitoring:Monitoring", name, {}, opts);
        const { part } = args;
        const writer = new docker.RemoteImage(
            `${name}-writer-image`,
            { name: versions.haproxyImage, keepLocally: true },
            { parent: this },
        );
        const bundle = pulumi.secret(
            pulumi.all([args.certificate, args.key, args.certificates]).apply(([cert, key, certificates]) =>
                packFiles({
                    "config.yaml": part.gatus(certificates),
                    [MONITOR_ETC.hosts]: part.hostsFile,
                    [MONITOR_ETC.nsswitch]: part.nsswitch,
                    [MONITOR_FILES.cert]: cert,
                    [MONITOR_FILES.key]: key,
                }),
            ),
        );
        this.files = filesCommand(
            `${name}-files`,
            {
                engine: part.engine,
                dir: part.dir,
                files: bundle,
                inPlace: [MONITOR_ETC.hosts, MONITOR_ETC.nsswitch],
                last: ["config.yaml"],
                secret: true,
            },
            { parent: this, dependsOn: [writer] },
        );
        this.registerOutputs({});
    }
}

export class Dashboard extends pulumi.ComponentResource {
    public readonly files: command.local.Command;

    constructor(name: string, args: { part: DashboardPart }, opts?: pulumi.ComponentResourceOptions) {
        super("homelab:monitoring:Dashboard", name, {}, opts);
        const writer = new docker.RemoteImage(
            `${name}-writer-image`,
            { name: versions.haproxyImage, keepLocally: true },
            { parent: this },
        );
        this.files = filesCommand(
            `${name}-files`,
            {
                engine: args.part.engine,
                dir: args.part.dir,
                files: packFiles({ "glance.yml": args.part.config }),
                inPlace: [],
                last: [],
                secret: false,
            },
            { parent: this, dependsOn: [writer] },
        );
        this.registerOutputs({});
    }
}
