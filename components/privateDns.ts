// DNS records for the private and mtls planes: the private name and its wildcard point at the
// host's tailnet address; each mtls service's name points at the home's public address. Never
// proxied: Cloudflare has nothing to proxy to (the tailnet address routes only on the tailnet,
// and the mtls plane must reach HAProxy with the client's own TLS handshake). The Cloudflare
// provider is inherited from the component's options.
import * as pulumi from "@pulumi/pulumi";
import * as cloudflare from "@pulumi/cloudflare";
import { Model, servicesOn } from "../stacks/model";
import { MANAGED_COMMENT } from "../stacks/naming";

export interface DnsRecordSpec {
    /** Logical Pulumi name (after the component's name); stable so a change of address updates in place. */
    resourceName: string;
    name: string;
    type: "A" | "AAAA";
    content: string;
}

/** The records this component manages, as data (pure). */
export function privateDnsRecords(model: Model): DnsRecordSpec[] {
    const out: DnsRecordSpec[] = [];
    const targets: ["A" | "AAAA", string | undefined][] = [
        ["A", model.tailnet.ipv4],
        ["AAAA", model.tailnet.ipv6],
    ];
    for (const [type, content] of targets) {
        if (!content) continue;
        const t = type.toLowerCase();
        out.push({ resourceName: `apex-${t}`, name: model.private.fqdn, type, content });
        out.push({ resourceName: `wildcard-${t}`, name: model.private.wildcard, type, content });
    }
    if (model.wan) {
        for (const s of servicesOn(model, "mtls")) {
            out.push({ resourceName: `mtls-${s.name}-a`, name: s.hostnames.mtls as string, type: "A", content: model.wan.publicIp });
        }
    }
    return out;
}

export interface PrivateDnsArgs {
    model: Model;
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
            const rec = new cloudflare.DnsRecord(
                `${name}-${r.resourceName}`,
                {
                    zoneId: args.model.zoneId,
                    name: r.name,
                    type: r.type,
                    content: r.content,
                    ttl: 1, // 1 = automatic
                    proxied: false,
                    comment: MANAGED_COMMENT,
                },
                { parent: this, aliases: [{ name: formerRecordName(r.resourceName) }] },
            );
            ids[`${r.type} ${r.name}`] = rec.id;
        }
        this.records = pulumi.output(ids);
        this.registerOutputs({ records: this.records });
    }
}
