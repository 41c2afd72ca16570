// First contact with a zone that already has records: which names this stack will own, which
// existing records there are someone else's, and how to take them over. Pure; the lookup itself
// (Cloudflare's record list) is done by the program before it registers anything.
import { Model, isDynamicWan, servicesOn, wanRecordName } from "./model";
import { LEGACY_MANAGED_COMMENT, managedComment } from "./naming";

/** A record as Cloudflare's record list reports it. */
export interface ExistingRecord {
    id: string;
    name: string;
    type: string;
    content: string;
    comment?: string;
    proxied?: boolean;
}

/** A record the stack will create: which component and resource, and at what name. */
export interface PlannedRecord {
    /** The component's name (its resources are named `<component>-<resourceName>`). */
    component: "private-dns" | "tunnel";
    /** The resource's name after the component's: e.g. `apex-a`, `mtls-cloud-a`, `blog-cname`. */
    resourceName: string;
    name: string;
    type: "A" | "AAAA" | "CNAME";
}

/** The records the stack owns, by component; the same list PrivateDns and Tunnel create. */
export function plannedRecords(model: Model): PlannedRecord[] {
    const out: PlannedRecord[] = [];
    const targets: ["A" | "AAAA", string | undefined][] = [
        ["A", model.tailnet.ipv4],
        ["AAAA", model.tailnet.ipv6],
    ];
    for (const [type, content] of targets) {
        if (!content) continue;
        const t = type.toLowerCase();
        out.push({ component: "private-dns", resourceName: `apex-${t}`, name: model.private.fqdn, type });
        out.push({ component: "private-dns", resourceName: `wildcard-${t}`, name: model.private.wildcard, type });
    }
    // A dynamic address lives in one A record that the DDNS updater keeps current (whatever the
    // services); each mtls name is a CNAME to it, so the updater's config never follows the service
    // table. (The resource keeps its `-a` name: an address changing from fixed to dynamic replaces
    // the A record by the CNAME in place, deleting first.)
    const dynamic = isDynamicWan(model);
    if (dynamic) out.push({ component: "private-dns", resourceName: "wan-a", name: wanRecordName(model), type: "A" });
    if (model.wan)
        for (const s of servicesOn(model, "mtls"))
            out.push({
                component: "private-dns",
                resourceName: `mtls-${s.name}-a`,
                name: s.hostnames.mtls as string,
                type: dynamic ? "CNAME" : "A",
            });
    for (const s of servicesOn(model, "public"))
        out.push({
            component: "tunnel",
            resourceName: `${s.name}-cname`,
            name: s.hostnames.public as string,
            type: "CNAME",
        });
    return out;
}

/** A record this stack wrote: its comment names this stack (or is the one earlier versions wrote). */
export function isOurs(r: ExistingRecord, project: string, stack: string): boolean {
    return r.comment === managedComment(project, stack) || r.comment === LEGACY_MANAGED_COMMENT;
}

/** Record types that cannot stand beside the A/AAAA/CNAME records the stack creates at a name. */
const CLASHING = ["A", "AAAA", "CNAME"];

export interface Conflict {
    record: ExistingRecord;
    /** What the stack would create at that name (for an adoptable record, the one it becomes). */
    planned: PlannedRecord;
    /** Whether the stack can take the record over in place (same name and type). */
    adoptable: boolean;
    /** Why it cannot stay, when that is not a clash of types at one name (a record under the wildcard). */
    reason?: string;
}

/**
 * A record below the private name other than the wildcard itself: DNS answers for a name that has
 * any record (of any type), or that has records below it, from those records, never from the
 * wildcard. So `jellyfin.home.<domain>` made by hand keeps resolving to its old target, and a TXT
 * there makes the name resolve to nothing. What it breaks: the private services at or above it.
 */
export function shadowedByRecord(model: Model, name: string): { shadows: boolean; services: string[] } {
    const fqdn = model.private.fqdn;
    const n = name.toLowerCase().replace(/\.$/, "");
    if (!n.endsWith(`.${fqdn}`) || n === model.private.wildcard) return { shadows: false, services: [] };
    const services = servicesOn(model, "private")
        .filter((s) => !s.apex)
        .filter((s) => {
            const h = s.hostnames.private as string;
            return n === h || n.endsWith(`.${h}`);
        })
        .map((s) => s.name);
    return { shadows: true, services };
}

export interface FirstContact {
    conflicts: Conflict[];
    /** Full resource name (`<component>-<resourceName>`) → Cloudflare import id (`<zone>/<record>`). */
    imports: Record<string, string>;
    /** Problems with homelab:adopt itself: an id that names someone else's record elsewhere. */
    adoptProblems: { key: string; message: string }[];
    /** Entries of homelab:adopt with nothing left to do (warnings, not errors). */
    staleAdopt: { key: string; message: string }[];
}

/**
 * Foreign records at the stack's names. A record listed in `adopt` (homelab:adopt) whose name and
 * type match a planned record is imported into that record's resource instead; a foreign record of
 * a clashing type (a CNAME where the stack puts an A, or the other way round) cannot be adopted.
 */
export function firstContact(
    model: Model,
    records: ExistingRecord[],
    opts: { project: string; stack: string; adopt: string[] },
): FirstContact {
    const planned = plannedRecords(model);
    const conflicts: Conflict[] = [];
    const imports: Record<string, string> = {};
    const adoptProblems: { key: string; message: string }[] = [];
    const staleAdopt: { key: string; message: string }[] = [];
    const taken = new Set<string>();
    const sorted = [...records].sort((a, b) =>
        `${a.name} ${a.type} ${a.id}`.localeCompare(`${b.name} ${b.type} ${b.id}`),
    );
    const wildcard = planned.find((p) => p.resourceName === "wildcard-a") as PlannedRecord;
    for (const r of sorted) {
        const shadow = shadowedByRecord(model, r.name);
        // Caddy's own DNS-01 answer while it renews the private certificate: a TXT at exactly
        // `_acme-challenge.<private name>`. (A CNAME there, as acme-dns users have, would send
        // Caddy's challenge elsewhere: a conflict.)
        const acmeAnswer =
            r.type === "TXT" && r.name.toLowerCase().replace(/\.$/, "") === `_acme-challenge.${model.private.fqdn}`;
        if (shadow.shadows && !acmeAnswer && !isOurs(r, opts.project, opts.stack)) {
            const what =
                shadow.services.length > 0
                    ? `it overrides the wildcard for ${shadow.services.map((x) => `service ${x}`).join(", ")}`
                    : `it overrides the wildcard ${model.private.wildcard} at that name`;
            conflicts.push({
                record: r,
                planned: wildcard,
                adoptable: false,
                reason: `${what}: the stack serves every name below ${model.private.fqdn} with its wildcard and makes no record of its own there`,
            });
            continue;
        }
        const atName = planned.filter((p) => p.name === r.name.toLowerCase().replace(/\.$/, ""));
        // A CNAME stands alone at its name: any record there clashes with one the stack makes.
        if (atName.length === 0 || !(CLASHING.includes(r.type) || atName.some((p) => p.type === "CNAME"))) continue;
        const same = atName.find((p) => p.type === r.type);
        const full = same ? `${same.component}-${same.resourceName}` : undefined;
        // An adopted record stays adopted (the import is a no-op once it is in the stack's state).
        if (same && full && opts.adopt.includes(r.id) && !taken.has(full)) {
            imports[full] = `${model.zoneId}/${r.id}`;
            taken.add(full);
            continue;
        }
        if (isOurs(r, opts.project, opts.stack)) continue;
        conflicts.push({
            record: r,
            planned: same ?? (atName[0] as PlannedRecord),
            adoptable: !!same && !taken.has(full as string),
        });
        if (same && full) taken.add(full);
    }
    opts.adopt.forEach((id, i) => {
        if (Object.values(imports).includes(`${model.zoneId}/${id}`)) return;
        const key = `homelab:adopt[${i}]`;
        const r = records.find((x) => x.id === id);
        // A record the stack adopted earlier and no longer plans (its service was removed: this
        // run deletes it), or one already gone: the entry has done its job. Not an error, or
        // removing an adopted service would fail every run until the entry is removed.
        if (!r) {
            staleAdopt.push({
                key,
                message: `record ${id} is not in the zone (the stack deleted it, or it was deleted by hand): nothing to adopt, the entry can be removed from homelab:adopt`,
            });
            return;
        }
        if (isOurs(r, opts.project, opts.stack)) {
            staleAdopt.push({
                key,
                message: `record ${id} (${r.name} ${r.type}) was adopted and is no longer at a name this stack creates: this run deletes it; the entry can be removed from homelab:adopt`,
            });
            return;
        }
        adoptProblems.push({
            key,
            message: `record ${id} (${r.name} ${r.type}) is not at a name and type this stack creates: nothing to adopt, remove it from homelab:adopt`,
        });
    });
    return { conflicts, imports, adoptProblems, staleAdopt };
}

/** The message that stops a first `pulumi up` before anything is created. */
export function conflictReport(fc: FirstContact, adoptedAlready: string[]): string {
    const lines = [
        `The zone already has ${fc.conflicts.length} record${fc.conflicts.length === 1 ? "" : "s"} at names this stack creates or serves (below its private name), made by hand or by another tool.`,
        "Nothing has been created or changed. The records:",
        "",
        ...fc.conflicts.map(
            (c) =>
                `  - ${c.record.name} ${c.record.type} ${c.record.content}${c.record.proxied ? " (proxied)" : ""}  id ${c.record.id}${
                    c.adoptable
                        ? ""
                        : c.reason
                          ? `  (cannot be adopted: ${c.reason})`
                          : `  (cannot be adopted: the stack puts a ${c.planned.type} here${c.planned.type === c.record.type ? ", and adopts one record per name" : ""})`
                }`,
        ),
        "",
    ];
    const adoptable = fc.conflicts.filter((c) => c.adoptable);
    if (adoptable.length > 0) {
        const start = adoptedAlready.length;
        lines.push(
            "To let this stack take over the adoptable ones in place (no downtime: `pulumi up` imports each record, then updates its content, comment and proxying to the stack's),",
            "list their ids in homelab:adopt:",
            "",
            ...adoptable.map((c, i) => `  pulumi config set --path 'homelab:adopt[${start + i}]' ${c.record.id}`),
            "",
        );
    }
    if (adoptable.length < fc.conflicts.length)
        lines.push(
            "Delete the others in the Cloudflare dashboard (DNS → Records), or change the stack's names (homelab:private.subdomain, a service's hostname).",
            "A record below the private name (a device's own name there, say) can also move to a name outside it.",
            "",
        );
    lines.push(
        "Then run `pulumi preview` again: adopted records show as imports followed by updates in place, never a delete and a create.",
        "An existing Cloudflare Tunnel or Access application is not adopted: the stack creates its own tunnel and Access applications;",
        "remove the old tunnel's routes and Access applications for these names once the stack's serve them (docs/operations.md: Migrating from a hand-made setup).",
    );
    return lines.join("\n");
}
