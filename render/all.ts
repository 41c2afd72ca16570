// Every rendered file of a stack, as the Docker host uses them. Pure.
import { Model } from "../stacks/model";
import { haproxyAddress } from "./addresses";
import { renderCaddyfile } from "./caddyfile";
import { renderCaddyDockerfile } from "./dockerfile";
import { renderHaproxyCfg } from "./haproxy";
import { renderTunnelIngress } from "./tunnelIngress";

/** File name → content, for the production Docker host. */
export function renderAll(model: Model): Record<string, string> {
    return {
        Caddyfile: renderCaddyfile(model, { haproxyAddress: haproxyAddress(model.docker.subnet), certificates: { kind: "acme" } }),
        "haproxy.cfg": renderHaproxyCfg(model, { caddyHost: "caddy", resolvers: { nameserver: "127.0.0.11:53" } }),
        "caddy.Dockerfile": renderCaddyDockerfile(),
        "tunnel-ingress.json": JSON.stringify(renderTunnelIngress(model), null, 2) + "\n",
    };
}
