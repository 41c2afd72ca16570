// Names and tags derived from the stack; pure.
import { Model, Plane, PLANES, Service } from "./model";

/** The comment on every record this program creates: names the stack, so its records are recognised. */
export function managedComment(project: string, stack: string): string {
    return `Managed by the homelab Pulumi stack ${project}/${stack}; edits will be reverted.`;
}
/** What versions before 0.2 wrote (recognised as this program's too). */
export const LEGACY_MANAGED_COMMENT = "Managed by the homelab Pulumi stack; edits will be reverted.";

export function tunnelName(project: string, stack: string): string {
    return `${project}-${stack}`;
}

export function dnsTokenName(model: Model, stack: string, purpose: "DNS-01" | "DDNS" = "DNS-01"): string {
    return `homelab ${stack} ${purpose} for ${model.domain}`;
}

/** A Docker network of a host whose `homelab:docker.network` (or a further host's) is `base`. */
export function dockerNetworkName(base: string, key: "private" | "public" | "edge"): string {
    return key === "private" ? base : `${base}-${key}`;
}

/** Every Docker network the stack creates, on the edge host and each further host. */
export function stackNetworks(bases: string[]): string[] {
    const keys = ["private", "public", "edge"] as const;
    return [...new Set(bases.flatMap((b) => keys.map((k) => dockerNetworkName(b, k))))];
}

/** The URL a person opens for a service on a plane, or undefined when it is not exposed there. */
export function serviceUrl(s: Pick<Service, "hostnames">, plane: Plane): string | undefined {
    const h = s.hostnames[plane];
    return h ? `https://${h}/` : undefined;
}

/** Per service, per plane: the URL a person opens (internal services have none, and are left out). */
export function serviceUrls(model: Model): Record<string, Partial<Record<Plane, string>>> {
    const out: Record<string, Partial<Record<Plane, string>>> = {};
    for (const s of model.services) {
        if (s.expose.length === 0) continue;
        const urls: Partial<Record<Plane, string>> = {};
        for (const p of PLANES) {
            const u = serviceUrl(s, p);
            if (u) urls[p] = u;
        }
        out[s.name] = urls;
    }
    return out;
}
