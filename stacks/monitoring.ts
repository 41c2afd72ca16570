// homelab:monitoring and homelab:dashboard: both are services of the stack (a status page, a
// dashboard), so they are added to the service table as managed services before it is checked,
// and every rule a service follows (names, planes, DNS, segmentation) applies to them too. A
// problem found in what this module adds is reported under the key the user wrote. Pure.
import { ALERT_TOKEN_ENV, ALERT_URL_ENV, AlertChannel, Dashboard, Monitoring } from "./model";
import { LocalProblem } from "./checks";
import { ParsedDashboard, ParsedMonitoring, dashboardSchema, monitoringSchema } from "./schema";
import { serviceNameProblem } from "./services";
import versions from "../render/versions.json";
import { z } from "zod";

/** Where the status container (Gatus) reads its config, and the port its page listens on. */
export const GATUS = { configDir: "/config", configFile: "/config/config.yaml", port: 8080 } as const;
/** Where the dashboard (Glance) reads its config (the image's default, glance.yml; the folder is mounted, so edits reload), and its port. */
export const GLANCE = { configDir: "/app/config", port: 8080 } as const;

/**
 * Gatus's key of a check (config/key/key.go): group and name lowercased, and / _ . , space # + &
 * all read as -. Two checks with one key make Gatus refuse the whole config.
 */
export function gatusKeyPart(s: string): string {
    return s
        .trim()
        .toLowerCase()
        .replace(/[/_., #+&]/g, "-");
}

/**
 * Users whose certificate checks on the status page would share a key (grandma.lee, grandma_lee
 * and grandma-lee read alike to Gatus): each is a problem at the later one's key.
 */
export function checkUserCheckNames(users: { name: string }[]): LocalProblem[] {
    const seen = new Map<string, string>();
    const out: LocalProblem[] = [];
    users.forEach((u, i) => {
        const k = gatusKeyPart(u.name);
        const first = seen.get(k);
        if (first !== undefined)
            out.push({
                key: `users[${i}].name`,
                message: `"${u.name}" and "${first}" would be one check on the status page (Gatus reads . _ and - alike): rename one, or remove homelab:monitoring`,
            });
        else seen.set(k, u.name);
    });
    return out;
}

/**
 * What is wrong with an alert token's value, or undefined. Gatus puts it into its config file's
 * text before it reads the YAML, so a space, a quote, a # or a line break would change the file;
 * and Gatus drops an ntfy channel whose token does not start with tk_ (ntfy's access tokens do).
 */
export function alertTokenProblem(value: string, kind: "ntfy" | "webhook"): string | undefined {
    if (!/^[A-Za-z0-9._~+/=-]{1,512}$/.test(value))
        return "holds a character an alert token may not have here (letters, digits and . _ ~ + / = - only, at most 512): the status container's config would read it wrongly";
    if (kind === "ntfy" && !value.startsWith("tk_"))
        return "is not an ntfy access token (they start with tk_; Gatus would drop the channel and send no alert)";
    return undefined;
}

type ZodProblems = (top: string, err: z.ZodError, input: unknown) => LocalProblem[];

export interface Added {
    problems: LocalProblem[];
    /** The service table with the status page and the dashboard added (raw, as a user writes it). */
    rawServices: unknown;
    monitoring?: Monitoring;
    dashboard?: Dashboard;
    /** Service name → the config key it came from (monitoring, dashboard). */
    origins: Record<string, string>;
}

/** The one alert channel (the schema has refused none or two). */
function alertsOf(m: ParsedMonitoring): AlertChannel | undefined {
    const a = m.alerts;
    if (a?.ntfy)
        return {
            kind: "ntfy",
            url: a.ntfy.url.replace(/\/+$/, ""),
            topic: a.ntfy.topic,
            ...(a.ntfy.tokenSecret ? { tokenSecret: a.ntfy.tokenSecret } : {}),
        };
    if (a?.webhook) {
        const token = a.webhook.tokenSecret ? { tokenSecret: a.webhook.tokenSecret } : {};
        return a.webhook.urlSecret
            ? { kind: "webhook", urlSecret: a.webhook.urlSecret, ...token }
            : { kind: "webhook", url: a.webhook.url as string, ...token };
    }
    return undefined;
}

function nameProblem(
    key: string,
    name: string,
    taken: Record<string, unknown>,
    others: Record<string, string>,
): string | undefined {
    const p = serviceNameProblem(name);
    if (p) return p.replace("the service name", "the name");
    if (Object.prototype.hasOwnProperty.call(taken, name))
        return `"${name}" is already a service in homelab:services: set ${key}.name to another name`;
    if (others[name]) return `"${name}" is also ${others[name]}'s name: choose another`;
    return undefined;
}

/**
 * Checks homelab:monitoring and homelab:dashboard and adds their services to the raw service
 * table. `secretNames` undefined: unknown (offline renders), references are not checked.
 */
export function addMonitoring(
    rawMonitoring: unknown,
    rawDashboard: unknown,
    rawServices: unknown,
    secretNames: string[] | undefined,
    zodProblems: ZodProblems,
): Added {
    const problems: LocalProblem[] = [];
    const add = (key: string, message: string) => void problems.push({ key, message });
    const table =
        rawServices && typeof rawServices === "object" && !Array.isArray(rawServices)
            ? { ...(rawServices as Record<string, unknown>) }
            : undefined;
    const origins: Record<string, string> = {};
    const out: Added = { problems, rawServices: table ?? rawServices, origins };
    const added: Record<string, unknown> = {};

    let m: ParsedMonitoring | undefined;
    if (rawMonitoring !== undefined) {
        const r = monitoringSchema.safeParse(rawMonitoring);
        if (r.success) m = r.data;
        else problems.push(...zodProblems("monitoring", r.error, rawMonitoring));
    }
    let d: ParsedDashboard | undefined;
    if (rawDashboard !== undefined) {
        const r = dashboardSchema.safeParse(rawDashboard);
        if (r.success) d = r.data;
        else problems.push(...zodProblems("dashboard", r.error, rawDashboard));
    }
    const taken = table ?? {};

    if (m) {
        const bad = nameProblem("monitoring", m.name, taken, {});
        if (bad) add("monitoring.name", bad);
        const alerts = alertsOf(m);
        // The channel's secrets, by the environment variable that carries each into the container.
        const secrets: Record<string, { field: string; key: string }> = {};
        if (alerts?.tokenSecret) secrets[ALERT_TOKEN_ENV] = { field: "tokenSecret", key: alerts.tokenSecret };
        if (alerts && "urlSecret" in alerts) secrets[ALERT_URL_ENV] = { field: "urlSecret", key: alerts.urlSecret };
        let secretMissing = false;
        for (const { field, key } of Object.values(secrets))
            if (secretNames !== undefined && !secretNames.includes(key)) {
                secretMissing = true;
                add(
                    `monitoring.alerts.${alerts?.kind}.${field}`,
                    `names "${key}", which is not a key of homelab:secrets (pulumi config set --secret --path 'homelab:secrets.${key}' <value>)`,
                );
            }
        if (!bad) {
            added[m.name] = {
                image: m.image ?? versions.gatusImage,
                port: GATUS.port,
                expose: m.expose,
                env: { GATUS_CONFIG_PATH: GATUS.configFile },
                ...(Object.keys(secrets).length > 0 && !secretMissing
                    ? { secretEnv: Object.fromEntries(Object.entries(secrets).map(([env, s]) => [env, s.key])) }
                    : {}),
            };
            origins[m.name] = "monitoring";
            out.monitoring = {
                service: m.name,
                interval: m.interval,
                expiryWarningDays: m.expiryWarningDays,
                servedExpiryWarningDays: m.servedExpiryWarningDays,
                ...(alerts ? { alerts } : {}),
            };
        }
    }
    if (d) {
        const bad = nameProblem("dashboard", d.name, taken, m ? { [m.name]: "homelab:monitoring" } : {});
        if (bad) add("dashboard.name", bad);
        else {
            added[d.name] = {
                image: d.image ?? versions.glanceImage,
                port: GLANCE.port,
                expose: d.expose,
                apex: d.apex,
            };
            origins[d.name] = "dashboard";
            out.dashboard = { service: d.name, title: d.title };
        }
    }
    if (Object.keys(added).length > 0) {
        if (table === undefined && rawServices !== undefined) return out; // the table itself is reported
        out.rawServices = { ...taken, ...added };
    }
    return out;
}

/**
 * A problem found in an added service, under the key the user wrote: `services.status.expose`
 * becomes `monitoring.expose`, and a key the user cannot set names the section.
 */
export function reportedKey(key: string, origins: Record<string, string>): string {
    for (const [name, origin] of Object.entries(origins)) {
        const prefix = `services.${name}`;
        if (key === prefix) return origin;
        if (key.startsWith(`${prefix}.`)) {
            const rest = key.slice(prefix.length + 1);
            const own = ["expose", "image", "apex"].find((k) => rest === k || rest.startsWith(`${k}[`));
            return own ? `${origin}.${rest}` : origin;
        }
    }
    return key;
}
