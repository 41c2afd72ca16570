// What the stack watches and lists about its client certificates: the status page's expiry checks
// (homelab:monitoring) and the stack output that names every identity the CA has issued to.
import * as pulumi from "@pulumi/pulumi";
import { ClientCa } from "./clientCa";
import { WatchedCertificate, monitorPlan } from "../render/gatus";
import { Model } from "../stacks/model";

/** The monitor's entry in Caddy's leaf allowlist: no user's name starts with "_". */
export const MONITOR_KEY = "_monitor";

/** Every client certificate and the CA, with when each ends: what the status page warns about. */
export function watchedCertificates(ca: ClientCa): pulumi.Output<WatchedCertificate[]> {
    return pulumi
        .all([ca.notAfter, ca.caNotAfter, ca.monitor ? ca.monitor.notAfter : pulumi.output(undefined)])
        .apply(([users, caEnd, monitorEnd]) => [
            ...Object.entries(users).map(([name, notAfter]) => ({ name, notAfter })),
            ...(monitorEnd ? [{ name: "monitor (the status page's own)", notAfter: monitorEnd }] : []),
            { name: "client CA", notAfter: caEnd },
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
    const h = status?.hostnames;
    const url = h?.private ?? h?.mtls ?? h?.public;
    const plan = monitorPlan(model);
    return { statusPage: url ? `https://${url}/` : "", checks: plan.checks.length, omitted: plan.omitted };
}
