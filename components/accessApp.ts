// Cloudflare Access in front of one public service: an allow policy for the listed emails and
// email domains, and a self-hosted application on the service's hostname that uses it.
import * as pulumi from "@pulumi/pulumi";
import * as cloudflare from "@pulumi/cloudflare";
import { Access } from "../stacks/model";

export const ACCESS_SESSION = "24h";

export function accessIncludes(access: Access): cloudflare.types.input.ZeroTrustAccessPolicyInclude[] {
    return [
        ...access.emails.map((email) => ({ email: { email } })),
        ...access.emailDomains.map((domain) => ({ emailDomain: { domain } })),
    ];
}

export interface AccessAppArgs {
    accountId: string;
    hostname: string;
    serviceName: string;
    access: Access;
}

export class AccessApp extends pulumi.ComponentResource {
    public readonly applicationId: pulumi.Output<string>;

    constructor(name: string, args: AccessAppArgs, opts?: pulumi.ComponentResourceOptions) {
        super("homelab:cloudflare:AccessApp", name, {}, opts);
        const policy = new cloudflare.ZeroTrustAccessPolicy(
            `${name}-policy`,
            {
                accountId: args.accountId,
                name: `homelab: allow ${args.serviceName}`,
                decision: "allow",
                includes: accessIncludes(args.access),
                sessionDuration: ACCESS_SESSION,
            },
            { parent: this },
        );
        const app = new cloudflare.ZeroTrustAccessApplication(
            `${name}-app`,
            {
                accountId: args.accountId,
                name: `homelab: ${args.serviceName}`,
                domain: args.hostname,
                type: "self_hosted",
                sessionDuration: ACCESS_SESSION,
                policies: [{ id: policy.id, precedence: 1 }],
            },
            // A new hostname is a new application, made before the old one goes: updating the
            // domain in place would leave the old name's route without Access until the routes
            // move (they wait for the application).
            { parent: this, replaceOnChanges: ["domain"] },
        );
        this.applicationId = app.id;
        this.registerOutputs({ applicationId: this.applicationId });
    }
}
