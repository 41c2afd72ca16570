// A least-privilege Cloudflare API token: Zone Read and DNS Write on this one zone and nothing
// else, optionally limited to source addresses and an expiry. Permission group ids are looked up
// by name, never hard-coded. Two of them: Caddy's, for the DNS-01 challenge, and (with a dynamic
// WAN address) the DDNS updater's; each is a secret only its own container receives.
import * as pulumi from "@pulumi/pulumi";
import * as cloudflare from "@pulumi/cloudflare";
import { Model } from "../stacks/model";
import { dnsTokenName } from "../stacks/naming";

export const DNS01_PERMISSION_GROUPS = ["Zone Read", "DNS Write"] as const;
export const ZONE_SCOPE = "com.cloudflare.api.account.zone";

/** The `resources` JSON string the 6.12+ provider expects: exactly this zone. */
export function zoneResources(zoneId: string): string {
    return JSON.stringify({ [`${ZONE_SCOPE}.${zoneId}`]: "*" });
}

/** Picks the one permission group with exactly this name and the zone scope. */
export function pickPermissionGroup(results: { id: string; name: string; scopes: string[] }[], name: string): string {
    const matches = results.filter((g) => g.name === name && g.scopes.includes(ZONE_SCOPE));
    if (matches.length !== 1) {
        throw new Error(
            `Cloudflare returned ${matches.length} permission groups named "${name}" with scope ${ZONE_SCOPE}; expected exactly one. ` +
                `Check that the bootstrap token (cloudflare:apiToken) may read API token permission groups ("API Tokens Read" or "API Tokens Edit").`,
        );
    }
    return (matches[0] as { id: string }).id;
}

export interface DnsTokenArgs {
    model: Model;
    stack: string;
    /** What the token is for: it names the token in the Cloudflare dashboard. */
    purpose: "DNS-01" | "DDNS";
    /** Source addresses the token works from (none: anywhere). */
    allowedIps: string[];
    expiresOn?: string;
}

export class DnsToken extends pulumi.ComponentResource {
    /** The token value: a secret; only one container's environment receives it. */
    public readonly value: pulumi.Output<string>;
    public readonly tokenId: pulumi.Output<string>;

    constructor(name: string, args: DnsTokenArgs, opts?: pulumi.ComponentResourceOptions) {
        super("homelab:cloudflare:DnsToken", name, {}, opts);
        const { model } = args;
        const groupIds = DNS01_PERMISSION_GROUPS.map((groupName) =>
            cloudflare
                // The raw name: the provider's SDK encodes query parameters itself, so an encoded
                // one would reach the API as "Zone%2520Read" and match nothing (the provider's own
                // acceptance test passes "DNS Read"; docs: provider semantics).
                .getApiTokenPermissionGroupsListOutput({ name: groupName, scope: ZONE_SCOPE }, { parent: this })
                .apply((r) => pickPermissionGroup(r.results, groupName)),
        );
        const token = new cloudflare.ApiToken(
            `${name}-token`,
            {
                name: dnsTokenName(model, args.stack, args.purpose),
                policies: [
                    {
                        effect: "allow",
                        permissionGroups: groupIds.map((id) => ({ id })),
                        resources: zoneResources(model.zoneId),
                    },
                ],
                ...(args.allowedIps.length > 0 ? { condition: { requestIp: { ins: args.allowedIps } } } : {}),
                ...(args.expiresOn ? { expiresOn: args.expiresOn } : {}),
            },
            { parent: this, additionalSecretOutputs: ["value"] },
        );
        this.value = pulumi.secret(token.value);
        this.tokenId = token.id;
        this.registerOutputs({ value: this.value, tokenId: this.tokenId });
    }
}
