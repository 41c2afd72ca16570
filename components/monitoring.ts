// homelab:monitoring and homelab:dashboard: the files their containers read, written into their
// folders on the edge host (the containers themselves are services of the DockerHost). The status
// container's folder holds its config, its /etc/hosts and nsswitch.conf, and the monitor's
// certificate and key (the key 0600, the status container's user's alone); the bundle that carries
// them is a secret. Both programs read their config again when it changes: nothing is restarted.
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import { FILES_WRITE, packFiles } from "../render/reload";
import { filesCommand } from "./containers";
import { MONITOR_FILES, WatchedCertificate } from "../render/gatus";
import { DashboardPart, MonitoringPart } from "../plan/assemble";
import { DASHBOARD_USER, MONITOR_ETC, MONITOR_USER } from "../stacks/layout";
import versions from "../render/versions.json";

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
                write: FILES_WRITE,
                owner: MONITOR_USER,
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
                write: FILES_WRITE,
                owner: DASHBOARD_USER,
                secret: false,
            },
            { parent: this, dependsOn: [writer] },
        );
        this.registerOutputs({});
    }
}
