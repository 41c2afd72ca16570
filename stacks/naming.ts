// Names and tags derived from the stack; pure.
import { Model, Plane, PLANES } from "./model";

export const MANAGED_COMMENT = "Managed by the homelab Pulumi stack; edits will be reverted.";

export function tunnelName(project: string, stack: string): string {
    return `${project}-${stack}`;
}

export function dnsTokenName(model: Model, stack: string): string {
    return `homelab ${stack} DNS-01 for ${model.domain}`;
}

/** Per service, per plane: the URL a person opens (internal services have none, and are left out). */
export function serviceUrls(model: Model): Record<string, Partial<Record<Plane, string>>> {
    const out: Record<string, Partial<Record<Plane, string>>> = {};
    for (const s of model.services) {
        if (s.expose.length === 0) continue;
        const urls: Partial<Record<Plane, string>> = {};
        for (const p of PLANES) {
            const h = s.hostnames[p];
            if (h) urls[p] = `https://${h}/`;
        }
        out[s.name] = urls;
    }
    return out;
}
