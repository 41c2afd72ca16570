// One assembly: the program renders every file and plans every container once, here, and hands
// each component its part. Components never render or plan; `npm run render`, the benchmarks and
// the engine tests use the same functions, so what they check is what the program deploys. Pure.
import { EdgePlacement, Host, Model, hostView } from "../stacks/model";
import { DATA_DIRS } from "../stacks/layout";
import { RenderedSet, renderSet } from "../render/all";
import { edgeDir } from "../render/edge";
import { IngressRule } from "../render/tunnelIngress";
import {
    ContainerSpec,
    NetworkSpec,
    dashboardDir,
    dockerPlan,
    gatewayConfigDir,
    hostPlan,
    monitoringDir,
    tunnelCaHostDir,
} from "./docker";
import { MONITOR_NSSWITCH, WatchedCertificate, renderGatusConfig } from "../render/gatus";

/** What the DockerHost component creates: networks, Caddy, cloudflared, the updater, the services. */
export interface DockerHostPart {
    /** homelab:docker.host: where the reload command reaches the engine. */
    engine: string;
    edge: EdgePlacement;
    networks: NetworkSpec[];
    containers: ContainerSpec[];
    /** The edge host's Caddyfile; a further host runs no Caddy. */
    caddyfile?: string;
}

/** What a further host's Gateway component creates: the gateway container and its config. */
export interface GatewayPart {
    engine: string;
    container: ContainerSpec;
    haproxyCfg: string;
    configDir: string;
}

/** One further host (homelab:hosts): its engine's networks and containers, gateway and tunnel. */
export interface HostPart {
    name: string;
    dockerHost: DockerHostPart;
    gateway?: GatewayPart;
    /** When a service there is public: the host's own tunnel. */
    tunnel?: TunnelPart;
}

/** What the Edge component creates: the HAProxy container and, on a Mac runtime, the native edge. */
export interface EdgePart {
    engine: string;
    container: ContainerSpec;
    haproxyCfg: string;
    /** The HAProxy container's config directory on the Docker host. */
    configDir: string;
    native?: { cfg: string; plist: string; label: string; dir: string };
}

/** What the Tunnel component needs besides its Cloudflare ids: the ingress and cloudflared's CA folder. */
export interface TunnelPart {
    engine: string;
    ingress: IngressRule[];
    caFiles: Record<string, string>;
    caHostDir: string;
}

/** What the Monitoring component writes: the status container's folder on the edge host. */
export interface MonitoringPart {
    engine: string;
    dir: string;
    /** The status container's /etc/hosts and nsswitch.conf. */
    hostsFile: string;
    nsswitch: string;
    /** The Gatus config, once the watched certificates' ends are known (pure). */
    gatus: (certificates: WatchedCertificate[]) => string;
}

/** What the Dashboard component writes: its config folder on the edge host. */
export interface DashboardPart {
    engine: string;
    dir: string;
    config: string;
}

export interface Assembly {
    rendered: RenderedSet;
    dockerHost: DockerHostPart;
    edge: EdgePart;
    tunnel: TunnelPart;
    /** Further hosts, in name order. */
    hosts: HostPart[];
    monitoring?: MonitoringPart;
    dashboard?: DashboardPart;
}

export function assemble(model: Model, opts: { stack: string; comment: string }): Assembly {
    const rendered = renderSet(model, opts.stack);
    const plan = dockerPlan(model, opts.comment);
    const engine = model.docker.host;
    const edgeContainers = plan.containers.filter((c) => c.component === "edge");
    if (edgeContainers.length !== 1) throw new Error(`internal: ${edgeContainers.length} edge containers planned`);
    return {
        rendered,
        dockerHost: {
            engine,
            edge: model.edge,
            networks: plan.networks,
            containers: plan.containers.filter((c) => c.component === "dockerHost"),
            caddyfile: rendered.caddyfile,
        },
        edge: {
            engine,
            container: edgeContainers[0] as ContainerSpec,
            haproxyCfg: rendered.haproxyCfg,
            configDir: `${model.docker.dataDir}/${DATA_DIRS.haproxy}`,
            ...(rendered.nativeEdge ? { native: { ...rendered.nativeEdge, dir: edgeDir(model) } } : {}),
        },
        tunnel: {
            engine,
            ingress: rendered.tunnelIngress,
            caFiles: rendered.tunnelCaFiles,
            caHostDir: tunnelCaHostDir(model),
        },
        hosts: model.hosts.map((h) => hostPart(model, h.name, rendered)),
        ...(model.monitoring && rendered.monitoring
            ? {
                  monitoring: {
                      engine,
                      dir: monitoringDir(model),
                      hostsFile: rendered.monitoring.hosts,
                      nsswitch: MONITOR_NSSWITCH,
                      gatus: (certificates) => renderGatusConfig(model, certificates),
                  },
              }
            : {}),
        ...(rendered.dashboard ? { dashboard: { engine, dir: dashboardDir(model), config: rendered.dashboard } } : {}),
    };
}

function hostPart(model: Model, name: string, rendered: RenderedSet): HostPart {
    const host = model.hosts.find((h) => h.name === name) as Host;
    const plan = hostPlan(model, host);
    const files = rendered.hosts[name] ?? {};
    const engine = host.docker.host;
    const gateway = plan.containers.find((c) => c.component === "gateway");
    return {
        name,
        dockerHost: {
            engine,
            edge: "container",
            networks: plan.networks,
            containers: plan.containers.filter((c) => c.component === "dockerHost"),
        },
        ...(gateway && files.gatewayCfg
            ? {
                  gateway: {
                      engine,
                      container: gateway,
                      haproxyCfg: files.gatewayCfg,
                      configDir: gatewayConfigDir(host),
                  },
              }
            : {}),
        ...(files.tunnelIngress
            ? {
                  tunnel: {
                      engine,
                      ingress: files.tunnelIngress,
                      caFiles: {},
                      caHostDir: tunnelCaHostDir(hostView(model, host)),
                  },
              }
            : {}),
    };
}
