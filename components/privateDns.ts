// DNS records for the private and mtls planes: the private name and its wildcard point at the
// host's tailnet address; each mtls service's name points at the home's public address. Never
// proxied: Cloudflare has nothing to proxy to (the tailnet address routes only on the tailnet,
// and the mtls plane must reach the edge with the client's own TLS handshake). The Cloudflare
// provider is inherited from the component's options.
//
// With `homelab:wan.publicIp: dynamic` the home's address lives in one record,
// `homelab-wan.<domain>`, created once with a placeholder; from then on its address belongs to the DDNS updater
// (Pulumi ignores changes to it) and each mtls name is a CNAME to it. Every other input of that
// record is fixed for the stack, so Pulumi never updates it in place (an update would send the
// placeholder back), and the updater's config never follows the service table.
import * as pulumi from "@pulumi/pulumi";
import * as cloudflare from "@pulumi/cloudflare";
import { Model, isDynamicWan, wanRecordName } from "../stacks/model";
import { plannedRecords } from "../stacks/firstContact";

/** Where the dynamic record points until the updater's first run (TEST-NET-1: routes nowhere). */
export const DYNAMIC_PLACEHOLDER = "192.0.2.1";

export interface DnsRecordSpec {
    /** Logical Pulumi name (after the component's name); stable so a change of address updates in place. */
    resourceName: string;
    name: string;
    type: "A" | "AAAA" | "CNAME";
    content: string;
    /** The address belongs to the DDNS updater. */
    dynamic: boolean;
    /**
     * Replaced by deleting first: an mtls name whose record changes between A (fixed address) and
     * CNAME (dynamic) cannot have both at once, so creating the new one first would fail.
     */
    deleteBeforeReplace: boolean;
}

/** What a record points at: the tailnet address, the home's address, or the dynamic record. */
function recordContent(
    model: Model,
    p: { type: string },
    kind: { wan: boolean; mtls: boolean; dynamic: boolean },
): string {
    if (kind.wan) return DYNAMIC_PLACEHOLDER;
    if (kind.mtls) return kind.dynamic ? wanRecordName(model) : (model.wan?.publicIp as string);
    return p.type === "A" ? model.tailnet.ipv4 : (model.tailnet.ipv6 as string);
}

/** The records this component manages, as data (pure). */
export function privateDnsRecords(model: Model): DnsRecordSpec[] {
    const dynamic = isDynamicWan(model);
    return plannedRecords(model)
        .filter((p) => p.component === "private-dns")
        .map((p) => {
            const mtls = p.resourceName.startsWith("mtls-");
            const wan = p.resourceName === "wan-a";
            const content = recordContent(model, p, { wan, mtls, dynamic });
            return {
                resourceName: p.resourceName,
                name: p.name,
                type: p.type,
                content,
                dynamic: wan,
                deleteBeforeReplace: mtls,
            };
        });
}

export interface PrivateDnsArgs {
    model: Model;
    /** The comment that marks the stack's records (stacks/naming.ts managedComment). */
    comment: string;
    /** Resource name → import id, for records taken over from a hand-made setup (homelab:adopt). */
    imports?: Record<string, string>;
}

/** Before 0.2 the records were named without the component's name: `private-apex-a`, `mtls-cloud-a`. */
export function formerRecordName(resourceName: string): string {
    return resourceName.startsWith("mtls-") ? resourceName : `private-${resourceName}`;
}

export class PrivateDns extends pulumi.ComponentResource {
    /** FQDN → record id. */
    public readonly records: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: PrivateDnsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("homelab:dns:PrivateDns", name, {}, opts);
        const ids: Record<string, pulumi.Output<string>> = {};
        for (const r of privateDnsRecords(args.model)) {
            const resourceName = `${name}-${r.resourceName}`;
            const importId = args.imports?.[resourceName];
            const rec = new cloudflare.DnsRecord(
                resourceName,
                {
                    zoneId: args.model.zoneId,
                    name: r.name,
                    type: r.type,
                    content: r.content,
                    ttl: 1, // 1 = automatic
                    proxied: false,
                    comment: args.comment,
                },
                {
                    parent: this,
                    aliases: [{ name: formerRecordName(r.resourceName) }],
                    ...(r.dynamic ? { ignoreChanges: ["content"] } : {}),
                    ...(r.deleteBeforeReplace ? { deleteBeforeReplace: true } : {}),
                    ...(importId ? { import: importId } : {}),
                },
            );
            ids[`${r.type} ${r.name}`] = rec.id;
        }
        this.records = pulumi.output(ids);
        this.registerOutputs({ records: this.records });
    }
}
