// One assembly: the program renders every file and plans every container once, here, and hands
// each component its part. Components never render or plan; `npm run render`, the benchmarks and
// the engine tests use the same functions, so what they check is what the program deploys. Pure.
import { EdgePlacement, Model } from "../stacks/model";
import { DATA_DIRS } from "../stacks/layout";
import { RenderedSet, renderSet } from "../render/all";
import { edgeDir } from "../render/edge";
import { IngressRule } from "../render/tunnelIngress";
import { ContainerSpec, NetworkSpec, dockerPlan, tunnelCaHostDir } from "./docker";

/** What the DockerHost component creates: networks, Caddy, cloudflared, the updater, the services. */
export interface DockerHostPart {
    /** homelab:docker.host: where the reload command reaches the engine. */
    engine: string;
    edge: EdgePlacement;
    networks: NetworkSpec[];
    containers: ContainerSpec[];
    caddyfile: string;
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

export interface Assembly {
    rendered: RenderedSet;
    dockerHost: DockerHostPart;
    edge: EdgePart;
    tunnel: TunnelPart;
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
    };
}
