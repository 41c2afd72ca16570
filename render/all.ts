// Every rendered file of a stack, as the Docker host and the edge use them. Pure.
import { Model, edgeHostAddresses } from "../stacks/model";
import { renderCaddyfile } from "./caddyfile";
import { renderCaddyDockerfile } from "./dockerfile";
import { CADDY_HOLD, renderEdgeCfg, renderRelayCfg } from "./haproxy";
import { edgeLabel, renderLaunchdPlist, renderNativeEdgeCfg } from "./edge";
import { renderTunnelIngress } from "./tunnelIngress";
import { edgeContainerPorts } from "./addresses";

const DOCKER_DNS = { nameserver: "127.0.0.11:53" };

/** The HAProxy container's config: the edge itself on Linux, the relay on a Mac runtime. */
export function renderContainerHaproxyCfg(model: Model): string {
    if (model.edge === "native")
        return renderRelayCfg(model, { caddyHost: "caddy", resolvers: DOCKER_DNS, admin: CADDY_HOLD.admin });
    const ports = edgeContainerPorts(edgeHostAddresses(model).length);
    const bind = (which: "http" | "https") => `${ports.map((p) => `:::${p[which]}`).join(",")} v4v6`;
    return renderEdgeCfg(model, {
        bind: { http: bind("http"), https: bind("https") },
        upstream: { kind: "caddy", host: "caddy", resolvers: DOCKER_DNS },
        admin: CADDY_HOLD.admin,
    });
}

/**
 * File name → content. `haproxy.cfg` is the HAProxy container's; on a Mac runtime the native
 * edge's config and its launchd property list come too (edge.haproxy.cfg, edge.plist).
 */
export function renderAll(model: Model, stack = "home"): Record<string, string> {
    const files: Record<string, string> = {
        Caddyfile: renderCaddyfile(model, { certificates: { kind: "acme" } }),
        "haproxy.cfg": renderContainerHaproxyCfg(model),
        "caddy.Dockerfile": renderCaddyDockerfile(),
        "tunnel-ingress.json": JSON.stringify(renderTunnelIngress(model), null, 2) + "\n",
    };
    if (model.edge === "native") {
        files["edge.haproxy.cfg"] = renderNativeEdgeCfg(model);
        files["edge.plist"] = renderLaunchdPlist(model, edgeLabel(stack));
    }
    return files;
}
