// The shape, types and defaults of every `homelab:*` key, as zod schemas. Leaf values are checked
// against the grammar of where they land (stacks/grammar.ts); rules that span several keys, or
// that depend on what a value means, are the named checks in stacks/checks.ts.
import { z } from "zod";
import { PLANES, RUNTIMES, TAILNET_IPV4_RANGE, TAILNET_IPV6_RANGE } from "./model";
import {
    caddyTokenProblem,
    dnsNameProblem,
    dockerHostProblem,
    durationProblem,
    emailProblem,
    acmeUrlProblem,
    hostPathProblem,
    isDnsLabel,
    isDnsName,
} from "./grammar";
import { contains, parseIp, reached } from "./net";

/** A string; a number where a string belongs gets told to quote it (YAML reads digits as numbers). */
const str = (what: string) =>
    z.string({
        error: (iss) =>
            typeof iss.input === "number"
                ? `must be ${what} in quotes: YAML reads ${iss.input} as a number`
                : `must be ${what}`,
    });

/** A string schema whose value must pass `problem` (which returns a reason or undefined). */
function checked(what: string, problem: (v: string) => string | undefined) {
    return str(what).superRefine((v, ctx) => {
        const p = problem(v);
        if (p) ctx.addIssue({ code: "custom", message: p });
    });
}

const HEX32_RE = /^[0-9a-f]{32}$/;
const USER_RE = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const DOCKER_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,47}$/;

function domainProblem(s: string): string | undefined {
    if (!isDnsName(s)) return dnsNameProblem(s) ?? "must be a lowercase DNS name (e.g. example.dev)";
    if (!s.includes(".")) return "must be a registered domain with at least two labels (e.g. example.dev)";
    return undefined;
}
function subdomainProblem(s: string): string | undefined {
    return isDnsName(s) ? undefined : (dnsNameProblem(s) ?? "must be a lowercase DNS name (e.g. home)");
}
function tailnetV4Problem(s: string): string | undefined {
    const a = parseIp(s);
    if (!a || a.kind() !== "ipv4") return "must be an IPv4 address";
    if (!contains(TAILNET_IPV4_RANGE, `${a.toString()}/32`))
        return `must be a tailnet address inside ${TAILNET_IPV4_RANGE}`;
    if (s === "100.64.0.0" || s === "100.127.255.255")
        return "is the range's network or broadcast address, never a device's";
    return undefined;
}
function tailnetV6Problem(s: string): string | undefined {
    const a = parseIp(s);
    if (!a || a.kind() !== "ipv6") return "must be an IPv6 address (without a zone id)";
    if (!contains(TAILNET_IPV6_RANGE, `${a.toString()}/128`))
        return `must be a tailnet address inside ${TAILNET_IPV6_RANGE}`;
    return undefined;
}
function resolverProblem(s: string): string | undefined {
    const parsed = parseIp(s);
    if (!parsed) return `"${s}" is not an IP address (without a zone id)`;
    const a = reached(parsed);
    if (["unspecified", "multicast", "broadcast", "loopback"].includes(a.range()))
        return `"${s}" is a ${a.range()} address; Caddy checks propagation against public resolvers`;
    return undefined;
}
function dataDirProblem(s: string): string | undefined {
    const p = hostPathProblem(s.length > 1 ? s.replace(/\/+$/, "") : s);
    if (p) return p;
    if (s.replace(/\/+$/, "") === "") return "must not be / itself";
    return undefined;
}
function durationBetween(min: string, max: string, days = false) {
    return (s: string) => durationProblem(s, min, max, { days });
}

export const planeSchema = z.enum(PLANES, { error: `must be one of ${PLANES.join(", ")}` });
export const portSchema = z
    .number({ error: "must be a number (1-65535)" })
    .int({ error: "must be a whole number (1-65535)" })
    .min(1, { error: "must be 1-65535" })
    .max(65535, { error: "must be 1-65535" });

/** Networks every Docker engine has already: the stack cannot create one by these names. */
const PREDEFINED_NETWORKS = ["bridge", "host", "none"];
const dockerNetworkSchema = checked("a network name", (s) =>
    !DOCKER_NAME_RE.test(s)
        ? "must be a Docker network name (letters, digits, _ . -; at most 48 characters)"
        : PREDEFINED_NETWORKS.includes(s)
          ? `"${s}" is one of Docker's own networks (${PREDEFINED_NETWORKS.join(", ")}), which the stack cannot create; choose another name`
          : undefined,
);
/** A further host's name: a resource name, a folder name and a word in messages. */
const hostNameProblem = (s: string): string | undefined =>
    /^[a-z][a-z0-9-]{0,19}$/.test(s) && !s.endsWith("-")
        ? undefined
        : "must be a short lowercase name (a letter, then letters, digits or hyphens; at most 20 characters)";

export const hostSchema = z.strictObject({
    docker: z.strictObject({
        host: checked("a Docker host URL", dockerHostProblem),
        runtime: z.enum(RUNTIMES, { error: `must be one of ${RUNTIMES.join(", ")}` }).default("linux"),
        network: dockerNetworkSchema.default("homelab"),
        subnet: str("a CIDR").default("172.30.0.0/24"),
        dataDir: checked("an absolute path", dataDirProblem),
    }),
    tailnet: z.strictObject({
        ipv4: checked("an IPv4 address", tailnetV4Problem),
        ipv6: checked("an IPv6 address", tailnetV6Problem).optional(),
    }),
    addresses: z.array(str("an IP address"), { error: "must be a list of IP addresses" }).optional(),
});
export type ParsedHost = z.infer<typeof hostSchema>;
export { hostNameProblem };

export const schemas = {
    domain: checked("a DNS name", domainProblem),
    zoneId: checked("a zone id", (s) =>
        HEX32_RE.test(s) ? undefined : "must be a 32-character lowercase hex zone id",
    ),
    accountId: checked("an account id", (s) =>
        HEX32_RE.test(s) ? undefined : "must be a 32-character lowercase hex account id",
    ),
    tailnet: z.strictObject({
        ipv4: checked("an IPv4 address", tailnetV4Problem),
        ipv6: checked("an IPv6 address", tailnetV6Problem).optional(),
    }),
    private: z
        .strictObject({ subdomain: checked("a DNS name", subdomainProblem).default("home") })
        .default({ subdomain: "home" }),
    trustedNetworks: z.array(str("a CIDR"), { error: "must be a list of CIDRs" }).default([]),
    untrustedSources: z
        .array(str("an IP address or CIDR"), { error: "must be a list of IP addresses or CIDRs" })
        .default([]),
    wan: z
        .strictObject({
            publicIp: str("an IPv4 address").optional(),
        })
        .optional(),
    acme: z.strictObject({
        email: checked("an email address", emailProblem),
        resolvers: z
            .array(checked("an IP address", resolverProblem), { error: "must be a list of IP addresses" })
            .min(1, { error: "needs at least one resolver" })
            .max(8, { error: "lists more than 8 resolvers" })
            .default(["1.1.1.1", "8.8.8.8"]),
        propagationTimeout: checked("a duration", durationBetween("10s", "1h", true)).default("5m"),
        ca: checked("a URL", acmeUrlProblem).optional(),
    }),
    docker: z.strictObject({
        host: checked("a Docker host URL", dockerHostProblem).default("unix:///var/run/docker.sock"),
        runtime: z.enum(RUNTIMES, { error: `must be one of ${RUNTIMES.join(", ")}` }).default("docker-desktop"),
        network: dockerNetworkSchema.default("homelab"),
        subnet: str("a CIDR").default("172.30.0.0/24"),
        dataDir: checked("an absolute path", dataDirProblem),
        listenAddresses: z.array(str("an IP address"), { error: "must be a list of IP addresses" }).default([]),
        ip6tables: z.boolean({ error: "must be true or false" }).default(false),
    }),
    dnsToken: z
        .strictObject({
            allowedIps: z.array(str("an IP or CIDR"), { error: "must be a list of IPs or CIDRs" }).default([]),
            expiresOn: str("an RFC 3339 time").optional(),
        })
        .default({ allowedIps: [] }),
    adopt: z
        .array(
            checked("a record id", (s) =>
                HEX32_RE.test(s)
                    ? undefined
                    : "must be a Cloudflare record id (32 lowercase hex characters), as the first-contact report lists it",
            ),
            {
                error: "must be a list of Cloudflare record ids",
            },
        )
        .default([]),
    users: z
        .array(
            z.strictObject({
                name: checked("a user name", (s) =>
                    USER_RE.test(s)
                        ? undefined
                        : "must be lowercase letters, digits, '.', '_' or '-', starting with a letter or digit, at most 63 characters (it becomes a file name and a certificate CN)",
                ),
                validityDays: z
                    .number({ error: "must be a number of days (1-825)" })
                    .int({ error: "must be a whole number of days (1-825)" })
                    .min(1, { error: "must be 1-825 days" })
                    .max(825, { error: "must be 1-825 days (the longest validity clients accept)" })
                    .default(365),
            }),
            { error: "must be a list of users ({ name, validityDays? })" },
        )
        .default([]),
};

/** A URL alerts are sent to: https, a host, no credentials in it (a token is a secret of its own). */
export function alertUrlProblem(s: string): string | undefined {
    let u: URL;
    try {
        u = new URL(s);
    } catch {
        return "must be an https:// URL";
    }
    if (u.protocol !== "https:")
        return "must be an https:// URL: the alert (and its token) would cross the network in clear";
    if (u.username || u.password)
        return "must not carry a user or password: put the token in homelab:secrets and name it in tokenSecret";
    if (!isDnsName(u.hostname) && !/^\[?[0-9a-f:.]+\]?$/i.test(u.hostname)) return "must name a host";
    if (/[\s$"'`\\{}]/.test(s))
        return "must not contain spaces, quotes, backslashes, braces or $ (the status container's config expands $)";
    if (u.search || u.hash) return "must not carry a query or fragment";
    return undefined;
}
const secretKeyName = checked("a key of homelab:secrets", (s) =>
    /^[A-Za-z0-9_.-]{1,64}$/.test(s) ? undefined : "must be a key of homelab:secrets",
);
const exposeList = z
    .array(planeSchema, { error: `must be a list of planes (${PLANES.join(", ")})` })
    .min(1, { error: "needs at least one plane" });

/** homelab:monitoring: the status container (Gatus), its checks and where alerts go. */
export const monitoringSchema = z.strictObject({
    name: str("a service name").default("status"),
    image: str("an image reference").optional(),
    expose: exposeList
        .refine((e) => !e.includes("public"), {
            error: "must not include public: the status container is the one container the edge trusts, and holds the monitor's key and the alert token; on the public plane anyone could reach it through the tunnel (and it would show the homelab's state to everyone)",
        })
        .default(["private"]),
    interval: checked("a duration", durationBetween("10s", "1h")).default("1m"),
    expiryWarningDays: z
        .number({ error: "must be a number of days (1-90)" })
        .int({ error: "must be a whole number of days (1-90)" })
        .min(1, { error: "must be 1-90 days" })
        .max(90, { error: "must be 1-90 days" })
        .default(21),
    servedExpiryWarningDays: z
        .number({ error: "must be a number of days (1-14)" })
        .int({ error: "must be a whole number of days (1-14)" })
        .min(1, { error: "must be 1-14 days" })
        .max(14, {
            error: "must be 1-14 days: Caddy renews a certificate a third before its end (15 days for the 45-day ones Let's Encrypt announces), and a longer warning would go red at every renewal",
        })
        .default(7),
    alerts: z
        .strictObject({
            ntfy: z
                .strictObject({
                    url: checked("an https:// URL", alertUrlProblem).default("https://ntfy.sh"),
                    topic: checked("an ntfy topic", (s) =>
                        /^[-_A-Za-z0-9]{1,64}$/.test(s)
                            ? undefined
                            : "must be an ntfy topic: letters, digits, - and _, at most 64 characters",
                    ),
                    tokenSecret: secretKeyName.optional(),
                })
                .optional(),
            webhook: z
                .strictObject({
                    url: checked("an https:// URL", alertUrlProblem).optional(),
                    // For a webhook whose URL is its credential (Slack's, Discord's): the URL as a secret.
                    urlSecret: secretKeyName.optional(),
                    tokenSecret: secretKeyName.optional(),
                })
                .superRefine((w, ctx) => {
                    if ((w.url === undefined) === (w.urlSecret === undefined))
                        ctx.addIssue({
                            code: "custom",
                            message:
                                "needs url or urlSecret, not both (urlSecret: a key of homelab:secrets, for a URL that is itself the credential)",
                        });
                })
                .optional(),
        })
        .superRefine((a, ctx) => {
            if (a.ntfy && a.webhook)
                ctx.addIssue({ code: "custom", message: "names two channels (ntfy and webhook): choose one" });
            else if (!a.ntfy && !a.webhook)
                ctx.addIssue({ code: "custom", message: "names no channel: set ntfy or webhook, or remove alerts" });
        })
        .optional(),
});
export type ParsedMonitoring = z.infer<typeof monitoringSchema>;

/** homelab:dashboard: a Glance dashboard listing every service with its URLs, by host. */
export const dashboardSchema = z.strictObject({
    name: str("a service name").default("dashboard"),
    image: str("an image reference").optional(),
    expose: exposeList
        .refine((e) => !e.includes("public"), {
            error: "must not include public: the dashboard lists every private name, which the private plane's wildcard record keeps out of public DNS",
        })
        .default(["private"]),
    apex: z.boolean({ error: "must be true or false" }).default(false),
    title: checked("a title", (s) =>
        /^[\p{L}\p{N} ._'()-]{1,40}$/u.test(s) ? undefined : "must be 1-40 letters, digits, spaces or . _ ' ( ) -",
    ).default("Homelab"),
});
export type ParsedDashboard = z.infer<typeof dashboardSchema>;

const stringList = (what: string) => z.array(str(what), { error: `must be a list of ${what}s` });

/** Keys every service may have. */
export const commonServiceShape = {
    hostname: checked("a DNS label", (s) =>
        isDnsLabel(s)
            ? undefined
            : "must be one lowercase DNS label: letters, digits and hyphens, at most 63 characters",
    ).optional(),
    apex: z.boolean({ error: "must be true or false" }).default(false),
    expose: z
        .array(planeSchema, { error: `must be a list of planes (${PLANES.join(", ")}), or [] for an internal service` })
        .default(["private"]),
    access: z
        .strictObject({
            emails: z.array(checked("an email address", emailProblem)).default([]),
            emailDomains: z
                .array(
                    checked("a domain", (s) =>
                        isDnsName(s) && s.includes(".") ? undefined : "must be a domain such as example.dev",
                    ),
                )
                .default([]),
        })
        .optional(),
    forwardAuth: z
        .strictObject({
            upstream: str("host:port or http(s)://host:port"),
            uri: str("a path").default("/"),
            copyHeaders: stringList("header name").default([]),
        })
        .optional(),
};

/** Keys only a service this stack does not run (an upstream) may have. */
export const externalServiceShape = {
    upstream: str("host:port, http://host:port or https://host:port").optional(),
    upstreamTls: z
        .strictObject({
            insecureSkipVerify: z.boolean({ error: "must be true or false" }).optional(),
            serverName: checked("a DNS name", (s) =>
                isDnsName(s) ? undefined : "must be the DNS name in the upstream's certificate",
            ).optional(),
            ca: str("a PEM certificate").optional(),
        })
        .optional(),
};

/** Keys only a managed service (image + port: a container this stack runs) may have. */
export const managedServiceShape = {
    image: str("an image reference").optional(),
    port: portSchema.optional(),
    host: checked("a host name", (s) => hostNameProblem(s)).optional(),
    env: z
        .record(
            z.string(),
            z
                .string({ error: "must be a string (quote numbers and booleans)" })
                .refine((v) => !v.includes("\u0000"), { error: "contains a NUL character" }),
        )
        .default({}),
    secretEnv: z.record(z.string(), str("a key of homelab:secrets")).default({}),
    volumes: stringList("volume mapping").default([]),
    command: stringList("command argument").optional(),
    entrypoint: stringList("command argument").min(1, { error: "needs at least the program" }).optional(),
    healthcheck: z
        .strictObject({
            test: z.array(str("a command argument")).min(1, { error: "needs a command" }),
            interval: checked("a duration", durationBetween("1s", "24h")).default("30s"),
            timeout: checked("a duration", durationBetween("1s", "1h")).default("5s"),
            retries: z
                .number({ error: "must be a number" })
                .int({ error: "must be a whole number" })
                .min(1, { error: "must be 1-100" })
                .max(100, { error: "must be 1-100" })
                .default(3),
            // Not 0s: Docker fills a zero timing from the image's own HEALTHCHECK, and the provider
            // would read that back as a change on every run.
            startPeriod: checked("a duration", durationBetween("1s", "24h")).default("10s"),
        })
        .optional(),
    publish: stringList("port mapping").default([]),
    dependsOn: stringList("service name").default([]),
    user: str("a user").optional(),
    memory: str("a size such as 512m or 2g").optional(),
    shmSize: str("a size such as 256m or 1g").optional(),
    devices: stringList("device").default([]),
    capAdd: stringList("capability").default([]),
    tmpfs: stringList("tmpfs mount").default([]),
    labels: z.record(z.string(), z.string({ error: "must be a string" })).default({}),
    restart: z
        .enum(["no", "always", "unless-stopped", "on-failure"], {
            error: "must be one of no, always, unless-stopped, on-failure",
        })
        .default("unless-stopped"),
    stopGracePeriod: checked("a duration", durationBetween("0s", "1h")).optional(),
};

export const serviceSchema = z.strictObject({ ...commonServiceShape, ...externalServiceShape, ...managedServiceShape });
export type ParsedService = z.infer<typeof serviceSchema>;

/** Derived, never written twice: the keys only managed services may set, and only external ones. */
export const MANAGED_ONLY_KEYS = Object.keys(managedServiceShape).filter(
    (k) => k !== "image",
) as (keyof typeof managedServiceShape)[];
export const EXTERNAL_ONLY_KEYS = Object.keys(externalServiceShape).filter(
    (k) => k !== "upstream",
) as (keyof typeof externalServiceShape)[];

/** Keys that existed once and were removed, with what to do instead. */
export const REMOVED_KEYS: Record<string, string> = {
    "wan.proxyProtocol":
        "was removed: on docker-desktop, orbstack and colima the edge now runs natively on the Mac, where it sees every client's real address, so the router needs only a plain port forward of :443 to the Mac. Delete the key.",
};

export { caddyTokenProblem };
