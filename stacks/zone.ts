// The one look at Cloudflare before anything is registered: the zone's records, through the
// Cloudflare provider's record list (the default provider, configured by cloudflare:apiToken, so no
// resource is registered for it), and the error that stops a first `pulumi up` over hand-made ones.
import * as cloudflare from "@pulumi/cloudflare";
import { Model } from "./model";
import { ExistingRecord, FirstContact, conflictReport } from "./firstContact";

/** Records Cloudflare lists at most in one call; a homelab zone is far below it. */
export const ZONE_LOOKUP_LIMIT = 5000;

export async function zoneRecords(model: Model): Promise<ExistingRecord[]> {
    const r = await cloudflare.getDnsRecords({ zoneId: model.zoneId, maxItems: ZONE_LOOKUP_LIMIT });
    return (r.results ?? []).map((x) => ({
        id: x.id,
        name: x.name,
        type: x.type,
        content: x.content,
        comment: x.comment ?? "",
        proxied: x.proxied ?? false,
    }));
}

/** Stops the program (a Pulumi RunError: its message alone, no stack trace). */
export class ZoneConflictError extends Error {
    public readonly __pulumiRunError = true;
    constructor(
        public readonly contact: FirstContact,
        adoptedAlready: string[],
    ) {
        super(
            [
                ...(contact.adoptProblems.length > 0
                    ? [
                          "homelab:adopt has problems:",
                          ...contact.adoptProblems.map((p) => `  - ${p.key}: ${p.message}`),
                          "",
                      ]
                    : []),
                ...(contact.conflicts.length > 0 ? [conflictReport(contact, adoptedAlready)] : []),
            ].join("\n"),
        );
        this.name = "ZoneConflictError";
    }
}
