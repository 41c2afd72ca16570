// What the stack watches and lists about its client certificates: the status page's expiry checks
// (homelab:monitoring) and the stack output that names every identity the CA has issued to.
import * as pulumi from "@pulumi/pulumi";
import { ClientCa, MONITOR_IDENTITY } from "./clientCa";
import { HostsTls } from "./hostsTls";
import { EARLY_RENEWAL_HOURS } from "./smallCa";
import { earlyRenewalHours } from "../pki/profile";
import { WatchedCertificate, monitorPlan } from "../render/gatus";
import { Model } from "../stacks/model";
import { serviceUrl } from "../stacks/naming";

/** The monitor's entry in Caddy's leaf allowlist: no user's name starts with "_". */
export const MONITOR_KEY = "_monitor";

/** The checks of the stack's own certificates: names no person's (a user's name has no space) can be. */
export const MONITOR_CHECK = "monitor (the status page's own)";
export const CA_CHECK = "client CA (pulumi up does not renew it)";

function validityOf(model: Model, user: string): number {
    return model.users.find((u) => u.name === user)?.validityDays ?? 365;
}

/** Every client certificate and CA, with when each ends and when pulumi up renews it: what the status page warns about. */
export function watchedCertificates(
    ca: ClientCa,
    model: Model,
    hostsTls?: HostsTls,
): pulumi.Output<WatchedCertificate[]> {
    return pulumi
        .all([
            ca.notAfter,
            ca.caNotAfter,
            ca.monitor ? ca.monitor.notAfter : pulumi.output(undefined),
            hostsTls ? hostsTls.notAfter : pulumi.output({} as Record<string, string>),
        ])
        .apply(([users, caEnd, monitorEnd, hostsEnds]) => [
            ...Object.entries(users).map(([name, notAfter]) => ({
                name,
                notAfter,
                renewalDays: earlyRenewalHours(validityOf(model, name)) / 24,
            })),
            ...(monitorEnd
                ? [
                      {
                          name: MONITOR_CHECK,
                          notAfter: monitorEnd,
                          renewalDays: earlyRenewalHours(MONITOR_IDENTITY.validityDays) / 24,
                      },
                  ]
                : []),
            // Never renewed by pulumi up: a new CA is a new certificate for everyone.
            { name: CA_CHECK, notAfter: caEnd },
            // The further hosts' CA and its certificates: renewed by pulumi up in their last year.
            ...Object.entries(hostsEnds).map(([name, notAfter]) => ({
                name,
                notAfter,
                renewalDays: EARLY_RENEWAL_HOURS / 24,
            })),
        ]);
}

/** Identity → kind and end, for the stack outputs (public: no key, no bundle). */
export function clientCertificateList(
    ca: ClientCa,
): pulumi.Output<Record<string, { kind: "person" | "monitor"; notAfter: string }>> {
    return pulumi
        .all([ca.notAfter, ca.monitor ? ca.monitor.notAfter : pulumi.output(undefined)])
        .apply(([users, monitorEnd]) => {
            const out: Record<string, { kind: "person" | "monitor"; notAfter: string }> = {};
            for (const [n, notAfter] of Object.entries(users)) out[n] = { kind: "person", notAfter };
            if (monitorEnd) out[MONITOR_KEY] = { kind: "monitor", notAfter: monitorEnd };
            return out;
        });
}

/** The status page's URL, how many checks it runs and what it leaves out. */
export function monitoringSummary(model: Model): {
    statusPage: string;
    checks: number;
    omitted: { service: string; plane: string; reason: string }[];
} {
    const status = model.services.find((s) => s.name === model.monitoring?.service);
    const url = status ? (serviceUrl(status, "private") ?? serviceUrl(status, "mtls")) : undefined;
    const plan = monitorPlan(model);
    return { statusPage: url ?? "", checks: plan.checks.length, omitted: plan.omitted };
}
