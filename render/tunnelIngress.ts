// The Cloudflare Tunnel's ingress rules: one per public service, in name order, then the
// mandatory catch-all. Pure and deterministic; also written by `npm run render`.
import { Model, servicesOn } from "../stacks/model";

export interface IngressRule {
    hostname?: string;
    service: string;
}

/** cloudflared runs on the stack's Docker network, so it reaches services by container name. */
export function renderTunnelIngress(model: Model): IngressRule[] {
    const rules: IngressRule[] = servicesOn(model, "public").map((s) => ({
        hostname: s.hostnames.public as string,
        service: `http://${s.upstream}`,
    }));
    rules.push({ service: "http_status:404" });
    return rules;
}
