// Stack config → validated Model. Pure: takes the raw `homelab:*` values (already JSON-parsed)
// and returns either the model or every problem found, each naming its config key.
import { z } from "zod";
import {
    DOCKER_DEFAULT_BRIDGE,
    DOCKER_DESKTOP_VM_NETWORK,
    ExternalService,
    ManagedService,
    Model,
    PLANES,
    Plane,
    RESERVED_NAMES,
    RUNTIMES,
    RUNTIME_PRESERVES_CLIENT_ADDRESS,
    Service,
    TAILNET_IPV4_RANGE,
    TAILNET_IPV6_RANGE,
    User,
} from "./model";
import { contains, formatCidr, isCanonical, isPrivateCidr, isPublicUnicast, overlaps, parseCidr, parseIp } from "./net";

export const NAMESPACE = "homelab";

export interface Problem {
    /** The config key, e.g. `homelab:services.cloud.expose`. */
    key: string;
    message: string;
}

export class ConfigError extends Error {
    constructor(public readonly problems: Problem[]) {
        super(
            `The stack configuration has ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n` +
                problems.map((p) => `  - ${p.key}: ${p.message}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

/** Raw input: config key (without the `homelab:` prefix) → parsed JSON value. */
export type RawConfig = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------
// Leaf validators

const LABEL_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
export function isDnsLabel(s: string): boolean {
    return LABEL_RE.test(s);
}
export function isDnsName(s: string): boolean {
    if (s.length > 253 || s.endsWith(".")) return false;
    const labels = s.split(".");
    return labels.length >= 1 && labels.every(isDnsLabel);
}
const EMAIL_RE = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const HEX32_RE = /^[0-9a-f]{32}$/;
const DURATION_RE = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h|d))+$/;
const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const USER_RE = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const DOCKER_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;
// Docker image reference: [registry[:port]/]path[:tag][@sha256:digest]
const IMAGE_RE =
    /^(?:(?<registry>[a-zA-Z0-9.-]+(?::[0-9]+)?)\/)?(?<path>[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)(?::(?<tag>[\w][\w.-]{0,127}))?(?:@(?<digest>sha256:[a-f0-9]{64}))?$/;

export function imagePinProblem(image: string): string | undefined {
    const m = IMAGE_RE.exec(image);
    if (!m?.groups) return `"${image}" is not a Docker image reference (name[:tag][@sha256:digest])`;
    const { tag, digest } = m.groups;
    if (!tag && !digest) return `"${image}" is not pinned: give a version tag (e.g. ${image}:1.2.3) or a digest`;
    if (tag === "latest" && !digest) return `"${image}" uses the moving tag "latest": pin a version`;
    return undefined;
}

function parseHostPort(s: string): { host: string; port: number } | undefined {
    const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+):([0-9]{1,5})$/.exec(s);
    if (!m) return undefined;
    const host = m[1] ?? "";
    const port = Number(m[2]);
    if (!(port >= 1 && port <= 65535)) return undefined;
    const bare = host.startsWith("[") ? host.slice(1, -1) : host;
    if (host.startsWith("[")) {
        const a = parseIp(bare);
        if (!a || a.kind() !== "ipv6") return undefined;
    } else if (!parseIp(bare) && !isDnsName(bare.toLowerCase())) {
        return undefined;
    }
    return { host, port };
}

// ---------------------------------------------------------------------------------------------
// Schemas (shape and types; cross-field rules come after)

const str = (what: string) => z.string({ error: `must be ${what}` });
const dnsName = str("a DNS name").refine((s) => isDnsName(s), { error: "must be a lowercase DNS name (e.g. example.dev)" });
const dnsLabel = str("a DNS label").refine((s) => isDnsLabel(s), {
    error: "must be one lowercase DNS label: letters, digits and hyphens, at most 63 characters",
});
const hex32 = (what: string) => str(what).refine((s) => HEX32_RE.test(s), { error: `must be a 32-character lowercase hex ${what}` });
const port = z
    .number({ error: "must be a number (1-65535)" })
    .int({ error: "must be a whole number (1-65535)" })
    .min(1, { error: "must be 1-65535" })
    .max(65535, { error: "must be 1-65535" });
const duration = str("a duration").refine((s) => DURATION_RE.test(s), { error: 'must be a duration such as "30s", "5m" or "1h"' });
const email = str("an email address").refine((s) => EMAIL_RE.test(s), { error: "must be an email address" });
const ip = str("an IP address").refine((s) => parseIp(s) !== undefined, { error: "must be an IP address" });

export const schemas = {
    domain: dnsName,
    zoneId: hex32("zone id"),
    accountId: hex32("account id"),
    tailnet: z.strictObject({
        ipv4: ip.refine((s) => contains(TAILNET_IPV4_RANGE, `${s}/32`), { error: `must be a tailnet address inside ${TAILNET_IPV4_RANGE}` }),
        ipv6: z
            .string({ error: "must be an IPv6 address" })
            .refine((s) => parseIp(s)?.kind() === "ipv6" && contains(TAILNET_IPV6_RANGE, `${s}/128`), {
                error: `must be a tailnet address inside ${TAILNET_IPV6_RANGE}`,
            })
            .optional(),
    }),
    private: z.strictObject({ subdomain: dnsName }),
    trustedNetworks: z.array(str("a CIDR"), { error: "must be a list of CIDRs" }),
    wan: z.strictObject({
        publicIp: ip
            .refine((s) => parseIp(s)?.kind() === "ipv4", { error: "must be an IPv4 address" })
            .refine((s) => { const a = parseIp(s); return a !== undefined && isPublicUnicast(a); }, {
                error: "must be the home's public address, not a private, CGNAT, loopback or link-local one",
            })
            .optional(),
        proxyProtocol: z.boolean({ error: "must be true or false" }).optional(),
    }),
    acme: z.strictObject({
        email,
        resolvers: z.array(ip, { error: "must be a list of IP addresses" }).min(1, { error: "needs at least one resolver" }).optional(),
        propagationTimeout: duration.optional(),
        ca: str("a URL").url({ error: "must be an https:// ACME directory URL" }).refine((s) => s.startsWith("https://"), { error: "must be an https:// ACME directory URL" }).optional(),
    }),
    docker: z.strictObject({
        host: str("a Docker host URL")
            .refine((s) => /^unix:\/\/\/.+/.test(s) || /^ssh:\/\/[^\s/]+/.test(s), { error: "must be unix:///path/to/docker.sock or ssh://user@host" })
            .optional(),
        runtime: z.enum(RUNTIMES, { error: `must be one of ${RUNTIMES.join(", ")}` }).optional(),
        network: str("a network name").refine((s) => DOCKER_NAME_RE.test(s), { error: "must be a Docker network name" }).optional(),
        subnet: str("a CIDR").optional(),
        dataDir: str("an absolute path").refine((s) => s.startsWith("/") && !s.includes(".."), { error: "must be an absolute path" }),
        listenAddresses: z.array(ip, { error: "must be a list of IP addresses" }).optional(),
    }),
    dnsToken: z.strictObject({
        allowedIps: z.array(str("an IP or CIDR"), { error: "must be a list of IPs or CIDRs" }).optional(),
        expiresOn: str("an RFC 3339 time")
            .refine((s) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(s) && !Number.isNaN(Date.parse(s)), {
                error: 'must be an RFC 3339 UTC time such as "2027-06-30T00:00:00Z"',
            })
            .optional(),
    }),
    users: z.array(
        z.strictObject({
            name: str("a user name").refine((s) => USER_RE.test(s), {
                error: "must be lowercase letters, digits, '.', '_' or '-', starting with a letter or digit, at most 63 characters (it becomes a file name and a certificate CN)",
            }),
            validityDays: z
                .number({ error: "must be a number of days (1-825)" })
                .int({ error: "must be a whole number of days (1-825)" })
                .min(1, { error: "must be 1-825 days" })
                .max(825, { error: "must be 1-825 days (the longest validity clients accept)" })
                .optional(),
        }),
        { error: "must be a list of users ({ name, validityDays? })" },
    ),
};

export const serviceSchema = z.strictObject({
    image: str("an image reference").optional(),
    port: port.optional(),
    upstream: str("host:port").optional(),
    hostname: dnsLabel.optional(),
    apex: z.boolean({ error: "must be true or false" }).optional(),
    expose: z
        .array(z.enum(PLANES, { error: `must be one of ${PLANES.join(", ")}` }), { error: `must be a list of planes (${PLANES.join(", ")})` })
        .min(1, { error: "must name at least one plane" })
        .optional(),
    access: z
        .strictObject({
            emails: z.array(email).optional(),
            emailDomains: z.array(dnsName).optional(),
        })
        .optional(),
    env: z.record(z.string(), z.string({ error: "must be a string (quote numbers and booleans)" })).optional(),
    secretEnv: z.record(z.string(), str("a key of homelab:secrets")).optional(),
    volumes: z.array(str("a volume mapping")).optional(),
    command: z.array(str("a command argument")).optional(),
    healthcheck: z
        .strictObject({
            test: z.array(str("a command argument")).min(1, { error: "needs a command" }),
            interval: duration.optional(),
            timeout: duration.optional(),
            retries: z.number().int().min(1).max(100).optional(),
            startPeriod: duration.optional(),
        })
        .optional(),
});

/** Every key this program reads under `homelab:`. */
export const KNOWN_KEYS = [...Object.keys(schemas), "services", "secrets"] as const;
export const REQUIRED_KEYS = ["domain", "zoneId", "accountId", "tailnet", "acme", "docker"] as const;

// ---------------------------------------------------------------------------------------------

function keyOf(top: string, path: readonly PropertyKey[]): string {
    let k = `${NAMESPACE}:${top}`;
    for (const p of path) k += typeof p === "number" ? `[${p}]` : `.${String(p)}`;
    return k;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
    let v: unknown = root;
    for (const p of path) {
        if (v === null || typeof v !== "object") return undefined;
        v = (v as Record<PropertyKey, unknown>)[p];
    }
    return v;
}

function zodProblems(top: string, basePath: PropertyKey[], err: z.ZodError, input: unknown): Problem[] {
    const out: Problem[] = [];
    for (const issue of err.issues) {
        const path = [...basePath, ...issue.path];
        if (issue.code === "unrecognized_keys") {
            for (const k of issue.keys) out.push({ key: keyOf(top, [...path, k]), message: "is not a known setting (a typo?)" });
        } else if (issue.code === "invalid_type" && valueAt(input, issue.path) === undefined) {
            out.push({ key: keyOf(top, path), message: "is required" });
        } else {
            out.push({ key: keyOf(top, path), message: issue.message });
        }
    }
    return out;
}

type Parsed = { [K in keyof typeof schemas]?: z.infer<(typeof schemas)[K]> };

/**
 * Validates the raw config and returns the model, or throws ConfigError listing every problem.
 * `secretNames` are the keys set in `homelab:secrets`; undefined means unknown (offline renders),
 * and then secretEnv references are not checked.
 */
export function validate(raw: RawConfig, secretNames?: string[]): Model {
    const problems: Problem[] = [];
    const add = (key: string, message: string): void => {
        problems.push({ key: `${NAMESPACE}:${key}`, message });
    };

    for (const k of Object.keys(raw)) {
        if (!(KNOWN_KEYS as readonly string[]).includes(k)) add(k, `is not a known setting (known: ${KNOWN_KEYS.join(", ")})`);
    }
    for (const k of REQUIRED_KEYS) if (raw[k] === undefined) add(k, "is required");

    const p: Parsed = {};
    for (const k of Object.keys(schemas) as (keyof typeof schemas)[]) {
        if (raw[k] === undefined) continue;
        const r = schemas[k].safeParse(raw[k]);
        if (r.success) (p as Record<string, unknown>)[k] = r.data;
        else problems.push(...zodProblems(k, [], r.error, raw[k]));
    }

    const domain = p.domain ?? "invalid.invalid";
    const subdomain = p.private?.subdomain ?? "home";
    const privateFqdn = `${subdomain}.${domain}`;

    // --- docker and networks
    const runtime = p.docker?.runtime ?? "docker-desktop";
    const subnetText = p.docker?.subnet ?? "172.30.0.0/24";
    const subnet = parseCidr(subnetText);
    if (!subnet || subnet.addr.kind() !== "ipv4") add("docker.subnet", `"${subnetText}" is not an IPv4 CIDR`);
    else if (!isCanonical(subnet)) add("docker.subnet", `"${subnetText}" has host bits set; did you mean ${formatCidr(subnet)}?`);
    else if (!isPrivateCidr(subnet) || contains("100.64.0.0/10", subnet)) add("docker.subnet", "must be RFC 1918 private address space");
    else if (subnet.prefix > 28) add("docker.subnet", "must be /28 or larger (it holds every container)");
    else if (overlaps(subnet, DOCKER_DESKTOP_VM_NETWORK)) add("docker.subnet", `overlaps Docker Desktop's VM network ${DOCKER_DESKTOP_VM_NETWORK}`);
    else if (overlaps(subnet, DOCKER_DEFAULT_BRIDGE)) add("docker.subnet", `overlaps Docker's default bridge ${DOCKER_DEFAULT_BRIDGE}`);

    const trusted: string[] = [];
    (p.trustedNetworks ?? []).forEach((t, i): void => {
        const key = `trustedNetworks[${i}]`;
        const c = parseCidr(t);
        if (!c) return add(key, `"${t}" is not a CIDR such as 192.168.1.0/24`);
        if (!isCanonical(c)) return add(key, `"${t}" has host bits set; did you mean ${formatCidr(c)}?`);
        if (!isPrivateCidr(c))
            return add(key, `"${t}" is not private address space (RFC 1918, CGNAT, ULA or link-local): clients from it would skip the client-certificate check`);
        if (overlaps(c, DOCKER_DESKTOP_VM_NETWORK))
            return add(key, `"${t}" overlaps Docker Desktop's VM network ${DOCKER_DESKTOP_VM_NETWORK}, where every published-port connection appears to come from: the WAN would skip mTLS`);
        if (overlaps(c, DOCKER_DEFAULT_BRIDGE)) return add(key, `"${t}" overlaps Docker's default bridge ${DOCKER_DEFAULT_BRIDGE}: containers and proxied clients would be trusted`);
        if (subnet && isCanonical(subnet) && overlaps(c, subnet))
            return add(key, `"${t}" overlaps the stack's Docker network ${formatCidr(subnet)} (homelab:docker.subnet): containers and proxied clients would be trusted`);
        const canon = formatCidr(c);
        if (trusted.includes(canon)) return add(key, `"${t}" is listed twice`);
        trusted.push(canon);
    });

    const allowedIps: string[] = [];
    (p.dnsToken?.allowedIps ?? []).forEach((t, i): void => {
        const c = parseCidr(t, true);
        if (!c) return add(`dnsToken.allowedIps[${i}]`, `"${t}" is not an IP address or CIDR`);
        if (!isCanonical(c)) return add(`dnsToken.allowedIps[${i}]`, `"${t}" has host bits set; did you mean ${formatCidr(c)}?`);
        allowedIps.push(formatCidr(c));
    });

    // --- services
    const rawServices = raw["services"];
    const services: Service[] = [];
    if (rawServices !== undefined && (typeof rawServices !== "object" || rawServices === null || Array.isArray(rawServices))) {
        add("services", "must be a map of service name → settings");
    } else {
        for (const [name, value] of Object.entries((rawServices as Record<string, unknown>) ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
            const sk = `services.${name}`;
            if (!isDnsLabel(name)) {
                add(sk, "the service name must be one lowercase DNS label (letters, digits, hyphens): it becomes a hostname and a container name");
                continue;
            }
            if ((RESERVED_NAMES as readonly string[]).includes(name)) {
                add(sk, `"${name}" is the name of one of the stack's own containers; choose another service name (set hostname: ${name} to keep the URL)`);
                continue;
            }
            const r = serviceSchema.safeParse(value);
            if (!r.success) {
                problems.push(...zodProblems("services", [name], r.error, value));
                continue;
            }
            const s = r.data;
            const expose = PLANES.filter((pl) => (s.expose ?? ["private"]).includes(pl));
            if (s.expose && new Set(s.expose).size !== s.expose.length) add(`${sk}.expose`, "lists a plane twice");
            if (expose.includes("mtls") && expose.includes("public"))
                add(`${sk}.expose`, "a service cannot be both mtls and public: the tunnel terminates TLS at Cloudflare and would bypass the client certificate");
            if (s.access && !expose.includes("public"))
                add(`${sk}.access`, "Access policies apply only to services exposed on the public plane (add public to expose, or remove access)");
            if (s.access && !(s.access.emails?.length || s.access.emailDomains?.length))
                add(`${sk}.access`, "needs at least one entry in emails or emailDomains");

            const label = s.hostname ?? name;
            const apex = s.apex ?? false;
            const hostnames: Partial<Record<Plane, string>> = {};
            if (expose.includes("private")) hostnames.private = apex ? privateFqdn : `${label}.${privateFqdn}`;
            if (expose.includes("mtls")) hostnames.mtls = `${label}.${domain}`;
            if (expose.includes("public")) hostnames.public = `${label}.${domain}`;
            if (apex && !expose.includes("private")) add(`${sk}.apex`, `the apex is the private plane's name ${privateFqdn}; an apex service must expose private`);

            const base = {
                name,
                label,
                apex,
                expose,
                hostnames,
                ...(s.access ? { access: { emails: [...(s.access.emails ?? [])], emailDomains: [...(s.access.emailDomains ?? [])] } } : {}),
            };
            if (s.image !== undefined && s.upstream !== undefined) {
                add(sk, "give either image + port (a container this stack runs) or upstream (one it does not), not both");
                continue;
            }
            if (s.upstream !== undefined) {
                const hp = parseHostPort(s.upstream);
                if (!hp) add(`${sk}.upstream`, `"${s.upstream}" must be host:port, e.g. immich-server:2283 or host.docker.internal:1234`);
                for (const f of ["port", "env", "secretEnv", "volumes", "command", "healthcheck"] as const) {
                    if (s[f] !== undefined) add(`${sk}.${f}`, "applies only to managed services (image + port); this one has an upstream");
                }
                if (hp) services.push({ ...base, kind: "external", upstream: s.upstream } satisfies ExternalService);
                continue;
            }
            if (s.image === undefined) {
                add(sk, "needs image + port (a container this stack runs) or upstream: host:port (one it does not)");
                continue;
            }
            const pin = imagePinProblem(s.image);
            if (pin) add(`${sk}.image`, pin);
            if (s.port === undefined) add(`${sk}.port`, "is required with image: the port the container listens on");
            for (const k of Object.keys(s.env ?? {})) if (!ENV_NAME_RE.test(k)) add(`${sk}.env.${k}`, "is not a valid environment variable name");
            for (const [k, ref] of Object.entries(s.secretEnv ?? {})) {
                if (!ENV_NAME_RE.test(k)) add(`${sk}.secretEnv.${k}`, "is not a valid environment variable name");
                else if (s.env?.[k] !== undefined) add(`${sk}.secretEnv.${k}`, "is also set in env; set it in one place");
                else if (secretNames && !secretNames.includes(ref))
                    add(`${sk}.secretEnv.${k}`, `refers to homelab:secrets.${ref}, which is not set: pulumi config set --secret --path 'secrets.${ref}' <value>`);
            }
            (s.volumes ?? []).forEach((v, i) => {
                const parts = v.split(":");
                const [src, dst, mode] = parts;
                const ok =
                    parts.length >= 2 && parts.length <= 3 && !!src && !!dst && dst.startsWith("/") &&
                    (src.startsWith("/") || /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(src)) && (mode === undefined || mode === "ro" || mode === "rw");
                if (!ok) add(`${sk}.volumes[${i}]`, `"${v}" must be /host/path:/container/path[:ro|rw] or volume-name:/container/path[:ro|rw]`);
            });
            if (s.port === undefined || pin) continue;
            const hc = s.healthcheck;
            services.push({
                ...base,
                kind: "managed",
                image: s.image,
                port: s.port,
                upstream: `${name}:${s.port}`,
                env: { ...(s.env ?? {}) },
                secretEnv: { ...(s.secretEnv ?? {}) },
                volumes: [...(s.volumes ?? [])],
                ...(s.command ? { command: [...s.command] } : {}),
                ...(hc
                    ? { healthcheck: { test: [...hc.test], interval: hc.interval ?? "30s", timeout: hc.timeout ?? "5s", retries: hc.retries ?? 3, startPeriod: hc.startPeriod ?? "10s" } }
                    : {}),
            } satisfies ManagedService);
        }
    }

    // --- cross-service rules
    const apexes = services.filter((s) => s.apex);
    if (apexes.length > 1) add("services", `only one service may be the apex (${privateFqdn}); found ${apexes.map((s) => s.name).join(", ")}`);
    const byHost = new Map<string, string>();
    byHost.set(privateFqdn, "(the private plane's apex)");
    for (const s of services) {
        for (const [plane, host] of Object.entries(s.hostnames)) {
            if (s.apex && plane === "private") {
                byHost.set(host, s.name);
                continue;
            }
            const other = byHost.get(host);
            if (other !== undefined && other !== s.name) {
                add(`services.${s.name}`, `hostname ${host} is already used by ${other === "(the private plane's apex)" ? `the private plane (homelab:private.subdomain)` : `service ${other}`}`);
            } else byHost.set(host, s.name);
        }
    }

    const needsMtls = services.some((s) => s.expose.includes("mtls"));
    const firstMtls = services.find((s) => s.expose.includes("mtls"));
    const wanInvalid = raw["wan"] !== undefined && p.wan === undefined;
    if (needsMtls && !p.wan?.publicIp && !wanInvalid)
        add("wan.publicIp", `is required because service ${firstMtls?.name} exposes mtls: its DNS record points at the home's public address`);
    if (needsMtls && p.docker && !RUNTIME_PRESERVES_CLIENT_ADDRESS[runtime] && !p.wan?.proxyProtocol) {
        add(
            `services.${firstMtls?.name}.expose`,
            `the mtls plane needs HAProxy to see each client's real address, and runtime ${runtime} (homelab:docker.runtime) publishes ports through a userland proxy, ` +
                `so every connection arrives from the VM's gateway and WAN could not be told from LAN. Either run on runtime linux, ` +
                `or forward the WAN port through a device that sends PROXY protocol v2 (e.g. HAProxy on the router) and set homelab:wan.proxyProtocol: true`,
        );
    }

    // --- users
    const users: User[] = [];
    const seen = new Set<string>();
    (p.users ?? []).forEach((u, i): void => {
        if (seen.has(u.name)) return add(`users[${i}].name`, `"${u.name}" is listed twice; user names must be unique`);
        seen.add(u.name);
        users.push({ name: u.name, validityDays: u.validityDays ?? 365 });
    });
    users.sort((a, b) => (a.name < b.name ? -1 : 1));

    const listenAddresses: string[] = [];
    for (const a of p.docker?.listenAddresses ?? []) if (!listenAddresses.includes(a)) listenAddresses.push(a);

    if (problems.length > 0 || !p.domain || !p.zoneId || !p.accountId || !p.tailnet || !p.acme || !p.docker) {
        if (problems.length === 0) problems.push({ key: `${NAMESPACE}:(config)`, message: "is incomplete" });
        throw new ConfigError(problems);
    }

    return {
        domain: p.domain,
        zoneId: p.zoneId,
        accountId: p.accountId,
        tailnet: { ipv4: p.tailnet.ipv4, ...(p.tailnet.ipv6 ? { ipv6: p.tailnet.ipv6 } : {}) },
        private: { subdomain, fqdn: privateFqdn, wildcard: `*.${privateFqdn}` },
        trustedNetworks: trusted,
        ...(p.wan?.publicIp ? { wan: { publicIp: p.wan.publicIp, proxyProtocol: p.wan.proxyProtocol ?? false } } : {}),
        listenAddresses,
        acme: {
            email: p.acme.email,
            resolvers: p.acme.resolvers ?? ["1.1.1.1", "8.8.8.8"],
            propagationTimeout: p.acme.propagationTimeout ?? "5m",
            ...(p.acme.ca ? { ca: p.acme.ca } : {}),
        },
        docker: {
            host: p.docker.host ?? "unix:///var/run/docker.sock",
            runtime,
            network: p.docker.network ?? "homelab",
            subnet: subnetText,
            dataDir: p.docker.dataDir.replace(/\/+$/, ""),
        },
        dnsToken: { allowedIps, ...(p.dnsToken?.expiresOn ? { expiresOn: p.dnsToken.expiresOn } : {}) },
        services,
        users,
        secretNames: [...(secretNames ?? [])].sort(),
    };
}
