// The status container's config (Gatus, homelab:monitoring): one check per service per plane it is
// exposed on, made from where that plane's clients come; a clock check per certificate that turns
// red the configured number of days before it expires; alerts to one channel. Pure: the same model
// and certificates give the same bytes. Nothing secret is in it: the alert token is an environment
// variable of the container (Gatus expands ${...} when it loads the file), the monitor's key a file
// beside it.
import { stringify } from "yaml";
import { ALERT_TOKEN_ENV, ALERT_URL_ENV, Model, PLANES, Plane, Service, hostOf } from "../stacks/model";
import { serviceUrl } from "../stacks/naming";
import { GATUS, gatusKeyPart } from "../stacks/monitoring";
import { canonicalGoDuration } from "../stacks/grammar";

/** Let's Encrypt's production directory: its certificates chain to the public roots. */
export const LETS_ENCRYPT_PRODUCTION = "https://acme-v02.api.letsencrypt.org/directory";

/** The monitor's certificate and key, in the status container's config folder. */
export const MONITOR_FILES = { cert: "monitor.crt", key: "monitor.key" } as const;
/** The path Caddy answers with the current time (Unix seconds) on the status page's names. */
export const CLOCK_PATH = "/.well-known/homelab/clock";
/** The group of a check of a service on the edge host; further hosts' checks are grouped by name. */
export const EDGE_GROUP = "edge host";

/** The status page's group of a host's checks: "edge host", "host nas" (never the same key). */
export function checkGroup(host: string | undefined): string {
    return host === undefined ? EDGE_GROUP : `host ${host}`;
}

/** A certificate whose expiry the status page watches: a person's, the monitor's, a CA. */
export interface WatchedCertificate {
    /** What it is, for the check's name: "dave", "monitor", "client CA". */
    name: string;
    /** When it expires (RFC 3339). */
    notAfter: string;
    /**
     * How many days before its end `pulumi up` renews it (pki/profile.ts earlyRenewalHours); absent
     * for one it never renews (the CA).
     */
    renewalDays?: number;
}

/**
 * How many days before a client certificate's end its check turns red: expiryWarningDays, but never
 * before halfway through the days in which `pulumi up` renews it (a warning nobody can clear by
 * running it would be noise).
 */
export function warningDays(c: WatchedCertificate, expiryWarningDays: number): number {
    // Not rounded: a one-day certificate renewed in its last 8 hours warns 4 hours before its end.
    return c.renewalDays === undefined ? expiryWarningDays : Math.min(expiryWarningDays, c.renewalDays / 2);
}

/** What the monitor does not check, and why: listed in the stack's `monitoring` output. */
export interface Omission {
    service: string;
    plane: Plane;
    reason: string;
}

interface Endpoint {
    name: string;
    group: string;
    url: string;
    interval: string;
    client?: Record<string, unknown>;
    conditions: string[];
    alerts?: { type: string }[];
}

/** Why a service's plane gets no check, or undefined when it gets one. */
export function omissionReason(s: Service, plane: Plane): string | undefined {
    if (plane === "public" && s.access)
        return "behind Cloudflare Access: the monitor has no Access service token, so it would see only the login page";
    return undefined;
}

/** The checks the status container runs, and what it leaves out. */
export function monitorPlan(model: Model): { checks: { service: Service; plane: Plane }[]; omitted: Omission[] } {
    const checks: { service: Service; plane: Plane }[] = [];
    const omitted: Omission[] = [];
    for (const s of model.services)
        for (const plane of PLANES) {
            if (!s.expose.includes(plane)) continue;
            const reason = omissionReason(s, plane);
            if (reason) omitted.push({ service: s.name, plane, reason });
            else checks.push({ service: s, plane });
        }
    return { checks, omitted };
}

/** Where the status page's clock is read: its private name, else its mtls name (with the monitor's certificate). */
export function clockUrl(model: Model): { url: string; plane: Plane } {
    const status = model.services.find((s) => s.name === model.monitoring?.service);
    const h = status?.hostnames;
    if (h?.private) return { url: `https://${h.private}${CLOCK_PATH}`, plane: "private" };
    if (h?.mtls) return { url: `https://${h.mtls}${CLOCK_PATH}`, plane: "mtls" };
    throw new Error("internal: the status page is on neither the private nor the mtls plane");
}

/**
 * The client settings of a check through the edge: with a certificate authority other than Let's
 * Encrypt's production one (homelab:acme.ca: staging, or a private CA), Gatus cannot verify what
 * Caddy serves against the public roots, so it does not try (the expiry is still read).
 */
function edgeClient(model: Model, withCertificate: boolean): { client?: Record<string, unknown> } {
    const client = {
        ...(model.acme.ca && model.acme.ca !== LETS_ENCRYPT_PRODUCTION ? { insecure: true } : {}),
        ...(withCertificate ? monitorTls() : {}),
    };
    return Object.keys(client).length > 0 ? { client } : {};
}

function monitorTls(): Record<string, unknown> {
    return {
        tls: {
            "certificate-file": `${GATUS.configDir}/${MONITOR_FILES.cert}`,
            "private-key-file": `${GATUS.configDir}/${MONITOR_FILES.key}`,
        },
    };
}

function alertRefs(model: Model): { alerts?: { type: string }[] } {
    const a = model.monitoring?.alerts;
    if (!a) return {};
    return { alerts: [{ type: a.kind === "ntfy" ? "ntfy" : "custom" }] };
}

function alerting(model: Model): Record<string, unknown> | undefined {
    const a = model.monitoring?.alerts;
    if (!a) return undefined;
    const token = a.tokenSecret ? `\${${ALERT_TOKEN_ENV}}` : undefined;
    const defaults = { "failure-threshold": 3, "success-threshold": 2, "send-on-resolved": true };
    if (a.kind === "ntfy")
        return { ntfy: { url: a.url, topic: a.topic, ...(token ? { token } : {}), "default-alert": defaults } };
    return {
        custom: {
            url: "urlSecret" in a ? `\${${ALERT_URL_ENV}}` : a.url,
            method: "POST",
            headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
            body: '{"status":"[ALERT_TRIGGERED_OR_RESOLVED]","check":"[ENDPOINT_GROUP]/[ENDPOINT_NAME]","description":"[ALERT_DESCRIPTION]"}',
            // Gatus gives an alert provider's client no default timeout: a webhook that hangs would hold the alert.
            client: { timeout: "10s" },
            "default-alert": defaults,
        },
    };
}

/** Unix seconds at which a certificate expiring at `notAfter` should turn its check red. */
export function warnAt(notAfter: string, days: number): number {
    const t = Date.parse(notAfter);
    if (Number.isNaN(t)) throw new Error(`internal: ${notAfter} is not a time`);
    return Math.floor(t / 1000) - Math.round(days * 86400);
}

/**
 * The Gatus config. `certificates` are the client certificates (and CAs) whose expiry it warns
 * about; the served certificates are checked by every HTTPS check itself.
 */
export function renderGatusConfig(model: Model, certificates: WatchedCertificate[]): string {
    const m = model.monitoring;
    if (!m) throw new Error("internal: no homelab:monitoring");
    const interval = canonicalGoDuration(m.interval);
    const servedHours = m.servedExpiryWarningDays * 24;
    const endpoints: Endpoint[] = [];
    const { checks } = monitorPlan(model);
    for (const { service: s, plane } of checks) {
        const viaEdge = plane !== "public";
        endpoints.push({
            name: `${s.name} (${plane})`,
            group: checkGroup(hostOf(s)),
            url: serviceUrl(s, plane) as string,
            interval,
            ...(viaEdge ? edgeClient(model, plane === "mtls") : {}),
            conditions: ["[CONNECTED] == true", "[STATUS] < 500", `[CERTIFICATE_EXPIRATION] > ${servedHours}h`],
            ...alertRefs(model),
        });
    }
    const clock = clockUrl(model);
    for (const c of [...certificates].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)))
        endpoints.push({
            name: `certificate: ${c.name}`,
            group: "certificates",
            url: clock.url,
            interval,
            ...edgeClient(model, clock.plane === "mtls"),
            // Red some days before the certificate's end (Caddy's clock, Unix seconds).
            conditions: ["[STATUS] == 200", `[BODY] < ${warnAt(c.notAfter, warningDays(c, m.expiryWarningDays))}`],
            ...alertRefs(model),
        });
    const keys = endpoints.map((e) => `${gatusKeyPart(e.group)}_${gatusKeyPart(e.name)}`);
    const twice = keys.find((k, i) => keys.indexOf(k) !== i);
    if (twice) throw new Error(`internal: two status checks have the key ${twice} (Gatus would refuse the config)`);
    const alertingSection = alerting(model);
    const config = {
        // A config Gatus cannot load is logged and the last good one kept (by default it would exit).
        "skip-invalid-config-update": true,
        storage: { type: "memory" },
        web: { port: GATUS.port },
        ui: { title: `Status | ${model.domain}`, header: `Status of ${model.domain}` },
        ...(alertingSection ? { alerting: alertingSection } : {}),
        endpoints,
    };
    return (
        `# Rendered by homelab for ${model.domain} (status checks); do not edit: pulumi up rewrites it.\n` +
        stringify(config, { lineWidth: 0, sortMapEntries: false })
    );
}

/**
 * The status container's /etc/hosts: every private and mtls name at the HAProxy container's address
 * on the edge network (the edge on Linux, the relay on a Mac), so a check goes through the edge and
 * Caddy as a client's request does; public names are left to DNS (Cloudflare).
 */
export function renderMonitorHosts(model: Model): string {
    const edgeAddress = model.addresses.haproxy;
    const names = new Set<string>();
    for (const s of model.services)
        for (const plane of ["private", "mtls"] as const) {
            const h = s.hostnames[plane];
            if (h) names.add(h);
        }
    const sorted = [...names].sort();
    return [
        `# Rendered by homelab for ${model.domain}: the status container's names; do not edit.`,
        "127.0.0.1\tlocalhost",
        "::1\tlocalhost",
        ...sorted.map((n) => `${edgeAddress}\t${n}`),
        "",
    ].join("\n");
}

/** Go's resolver reads /etc/hosts before DNS only when nsswitch.conf says so (without it: DNS first). */
export const MONITOR_NSSWITCH = "hosts: files dns\n";
