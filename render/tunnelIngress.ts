// The Cloudflare Tunnel's ingress rules: one per public service, in name order, then the
// mandatory catch-all. Pure and deterministic; also written by `npm run render`.
import { createHash } from "crypto";
import { Model, Service, servicesOn } from "../stacks/model";
import { TUNNEL_CA_DIR } from "../stacks/layout";

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

/**
 * A public service's upstream CA file: named after the service and a hash of the certificate, so a
 * new certificate is a new path, and the route that names it a change cloudflared applies
 * (cloudflared reads a CA pool only when its routes change).
 */
export function tunnelCaFile(s: Service): string {
    const ca = s.upstreamTls && !s.upstreamTls.insecureSkipVerify ? (s.upstreamTls.ca ?? "") : "";
    return `${s.name}-${createHash("sha256").update(ca).digest("hex").slice(0, 12)}.pem`;
}

export function tunnelCaPath(s: Service): string {
    return `${TUNNEL_CA_DIR}/${tunnelCaFile(s)}`;
}

/** The CA files cloudflared needs: file name → PEM (public certificates only). */
export function tunnelCaFiles(model: Model): Record<string, string> {
    const out: Record<string, string> = {};
    for (const s of servicesOn(model, "public")) {
        if (s.upstreamScheme !== "https" || !s.upstreamTls || s.upstreamTls.insecureSkipVerify || !s.upstreamTls.ca)
            continue;
        out[tunnelCaFile(s)] = s.upstreamTls.ca;
    }
    return out;
}

function originRequest(s: Service): OriginRequest | undefined {
    const tls = s.upstreamScheme === "https" ? s.upstreamTls : undefined;
    if (!tls) return undefined;
    if (tls.insecureSkipVerify) return { noTlsVerify: true };
    return {
        ...(tls.serverName ? { originServerName: tls.serverName } : {}),
        ...(tls.ca ? { caPool: tunnelCaPath(s) } : {}),
    };
}

/** cloudflared runs on the stack's public network, so it reaches services by container name. */
export function renderTunnelIngress(model: Model): IngressRule[] {
    const rules: IngressRule[] = servicesOn(model, "public").map((s) => {
        const origin = originRequest(s);
        return {
            hostname: s.hostnames.public as string,
            service: `${s.upstreamScheme}://${s.upstream}`,
            ...(origin ? { originRequest: origin } : {}),
        };
    });
    rules.push({ service: "http_status:404" });
    return rules;
}
