// Every rendered file of a stack, rendered once: the program hands each component its part
// (plan/assemble.ts), `npm run render` and the tests write or compare the same set. Pure.
import { Model, edgeHostAddresses, edgeHostView, hostView } from "../stacks/model";
import { gatewayServices, renderGatewayCfg } from "./gateway";
import { CONTAINERS, edgeContainerPorts } from "../stacks/layout";
import { renderCaddyfile } from "./caddyfile";
import { renderCaddyDockerfile } from "./dockerfile";
import { CADDY_HOLD, MonitorEntry, renderEdgeCfg, renderRelayCfg } from "./haproxy";
import { edgeLabel, renderLaunchdPlist, renderNativeEdgeCfg } from "./edge";
import { IngressRule, renderTunnelIngress, tunnelCaFiles } from "./tunnelIngress";
import { WatchedCertificate, renderGatusConfig, renderMonitorHosts } from "./gatus";
import { renderGlanceConfig } from "./glance";

const DOCKER_DNS = { nameserver: "127.0.0.11:53" };

/** The HAProxy container's config: the edge itself on Linux, the relay on a Mac runtime. */
export function renderContainerHaproxyCfg(model: Model): string {
    if (model.edge === "native")
        return renderRelayCfg(model, {
            caddyHost: CONTAINERS.caddy,
            resolvers: DOCKER_DNS,
            admin: CADDY_HOLD.admin,
            ...(model.monitoring ? { monitor: monitorEntry(model) } : {}),
        });
    const ports = edgeContainerPorts(edgeHostAddresses(model).length);
    const bind = (which: "http" | "https") => `${ports.map((p) => `:::${p[which]}`).join(",")} v4v6`;
    return renderEdgeCfg(model, {
        bind: { http: bind("http"), https: bind("https") },
        upstream: { kind: "caddy", host: CONTAINERS.caddy, resolvers: DOCKER_DNS },
        admin: CADDY_HOLD.admin,
        ...(model.monitoring ? { monitorSource: model.addresses.monitor } : {}),
    });
}

/** The relay's entry for the status container: its own address on the edge network, port 443 (the Mac runtimes). */
export function monitorEntry(model: Model): MonitorEntry {
    return { bind: `${model.addresses.haproxy}:443`, source: model.addresses.monitor };
}

export interface RenderedSet {
    caddyfile: string;
    /** The HAProxy container's haproxy.cfg (the edge on Linux, the relay on a Mac runtime). */
    haproxyCfg: string;
    caddyDockerfile: string;
    tunnelIngress: IngressRule[];
    /** The CA files cloudflared verifies public HTTPS upstreams with (public certificates). */
    tunnelCaFiles: Record<string, string>;
    /** Mac runtimes: the native edge's haproxy.cfg and its launchd job. */
    nativeEdge?: { cfg: string; plist: string; label: string };
    /** Further hosts, by name: the gateway's haproxy.cfg (when it serves a service) and the host's tunnel ingress. */
    hosts: Record<string, HostRenderedSet>;
    /** homelab:monitoring: the status container's config and /etc/hosts. */
    monitoring?: { gatus: string; hosts: string };
    /** homelab:dashboard: Glance's config. */
    dashboard?: string;
}

export interface HostRenderedSet {
    gatewayCfg?: string;
    /** Only when a service on the host is public (its own tunnel). */
    tunnelIngress?: IngressRule[];
}

/** One further host's files. */
export function renderHostSet(model: Model, name: string): HostRenderedSet {
    const host = model.hosts.find((h) => h.name === name);
    if (!host) throw new Error(`internal: no host ${name}`);
    const view = hostView(model, host);
    const publicHere = view.services.some((s) => s.expose.includes("public"));
    return {
        ...(gatewayServices(model, host).length > 0 ? { gatewayCfg: renderGatewayCfg(model, host) } : {}),
        ...(publicHere ? { tunnelIngress: renderTunnelIngress(view) } : {}),
    };
}

/**
 * Every file of the stack. `certificates`: the client certificates' ends, for the status page's
 * expiry checks; only `pulumi up` knows them (offline renders leave those checks out).
 */
export function renderSet(model: Model, stack = "home", certificates: WatchedCertificate[] = []): RenderedSet {
    const label = edgeLabel(stack);
    return {
        caddyfile: renderCaddyfile(model, { certificates: { kind: "acme" } }),
        haproxyCfg: renderContainerHaproxyCfg(model),
        caddyDockerfile: renderCaddyDockerfile(),
        // The edge host's tunnel serves the public services that run there (and every upstream).
        tunnelIngress: renderTunnelIngress(edgeHostView(model)),
        tunnelCaFiles: tunnelCaFiles(edgeHostView(model)),
        ...(model.edge === "native"
            ? { nativeEdge: { cfg: renderNativeEdgeCfg(model), plist: renderLaunchdPlist(model, label), label } }
            : {}),
        hosts: Object.fromEntries(model.hosts.map((h) => [h.name, renderHostSet(model, h.name)])),
        ...(model.monitoring
            ? { monitoring: { gatus: renderGatusConfig(model, certificates), hosts: renderMonitorHosts(model) } }
            : {}),
        ...(model.dashboard ? { dashboard: renderGlanceConfig(model) } : {}),
    };
}

/**
 * File name → content, as `npm run render` writes them. `haproxy.cfg` is the HAProxy container's;
 * on a Mac runtime the native edge's config and its launchd property list come too
 * (edge.haproxy.cfg, edge.plist). A further host's files are in a folder of its own,
 * `hosts/<name>/` (gateway.haproxy.cfg, tunnel-ingress.json). With homelab:monitoring,
 * `monitoring/config.yaml` and `monitoring/hosts`; with homelab:dashboard, `dashboard/glance.yml`.
 */
export function renderedFiles(set: RenderedSet): Record<string, string> {
    const json = (rules: IngressRule[]) => JSON.stringify(rules, null, 2) + "\n";
    const hostFiles = Object.entries(set.hosts).flatMap(([name, h]) => [
        ...(h.gatewayCfg ? [[`hosts/${name}/gateway.haproxy.cfg`, h.gatewayCfg]] : []),
        ...(h.tunnelIngress ? [[`hosts/${name}/tunnel-ingress.json`, json(h.tunnelIngress)]] : []),
    ]);
    return {
        Caddyfile: set.caddyfile,
        "haproxy.cfg": set.haproxyCfg,
        "caddy.Dockerfile": set.caddyDockerfile,
        "tunnel-ingress.json": JSON.stringify(set.tunnelIngress, null, 2) + "\n",
        ...(set.nativeEdge ? { "edge.haproxy.cfg": set.nativeEdge.cfg, "edge.plist": set.nativeEdge.plist } : {}),
        ...Object.fromEntries(hostFiles),
        ...(set.monitoring
            ? { "monitoring/config.yaml": set.monitoring.gatus, "monitoring/hosts": set.monitoring.hosts }
            : {}),
        ...(set.dashboard ? { "dashboard/glance.yml": set.dashboard } : {}),
    };
}

export function renderAll(model: Model, stack = "home"): Record<string, string> {
    return renderedFiles(renderSet(model, stack));
}
