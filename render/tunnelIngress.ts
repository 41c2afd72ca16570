// The Cloudflare Tunnel's ingress rules: one per public service, in name order, then the
// mandatory catch-all. Pure and deterministic; also written by `npm run render`.
import { Model, Service, servicesOn } from "../stacks/model";

export interface OriginRequest {
    noTlsVerify?: boolean;
    originServerName?: string;
    caPool?: string;
}

export interface IngressRule {
    hostname?: string;
    service: string;
    originRequest?: OriginRequest;
}

/** Where cloudflared finds a public service's upstream CA (uploaded into its container). */
export function tunnelCaPath(s: Service): string {
    return `/etc/homelab/ca/${s.name}.pem`;
}

function originRequest(s: Service): OriginRequest | undefined {
    const tls = s.upstreamScheme === "https" ? s.upstreamTls : undefined;
    if (!tls) return undefined;
    if (tls.insecureSkipVerify) return { noTlsVerify: true };
    return { ...(tls.serverName ? { originServerName: tls.serverName } : {}), ...(tls.ca ? { caPool: tunnelCaPath(s) } : {}) };
}

/** cloudflared runs on the stack's public network, so it reaches services by container name. */
export function renderTunnelIngress(model: Model): IngressRule[] {
    const rules: IngressRule[] = servicesOn(model, "public").map((s) => {
        const origin = originRequest(s);
        return { hostname: s.hostnames.public as string, service: `${s.upstreamScheme}://${s.upstream}`, ...(origin ? { originRequest: origin } : {}) };
    });
    rules.push({ service: "http_status:404" });
    return rules;
}
