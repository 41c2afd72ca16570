// `homelab:services`: one entry at a time into the model, through small named checks. Pure.
import { ExternalService, ManagedService, Plane, PLANES, RESERVED_NAMES, Service } from "./model";
import { LocalProblem } from "./checks";
import { MANAGED_ONLY_KEYS, ParsedService } from "./schema";
import { hostPathProblem, isDnsLabel, isDnsName, normalisePath, pathsOverlap } from "./grammar";
import { parseIp } from "./net";

const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const problem = (key: string, message: string): LocalProblem => ({ key, message });

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

export function serviceNameProblem(name: string): string | undefined {
    if (!isDnsLabel(name)) return "the service name must be one lowercase DNS label (letters, digits, hyphens): it becomes a hostname and a container name";
    if ((RESERVED_NAMES as readonly string[]).includes(name)) return `"${name}" is the name of one of the stack's own containers; choose another service name (set hostname: ${name} to keep the URL)`;
    return undefined;
}

export interface HostPort {
    host: string;
    port: number;
}

export function parseHostPort(s: string): HostPort | undefined {
    const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+):([0-9]{1,5})$/.exec(s);
    if (!m) return undefined;
    const host = m[1] ?? "";
    const port = Number(m[2]);
    if (!(port >= 1 && port <= 65535)) return undefined;
    const bare = host.startsWith("[") ? host.slice(1, -1) : host;
    if (host.startsWith("[")) {
        const a = parseIp(bare);
        if (!a || a.kind() !== "ipv6") return undefined;
    } else if (!parseIp(bare) && !isDnsName(bare)) {
        return undefined;
    }
    return { host, port };
}

/**
 * Where an upstream may not point: Caddy or cloudflared itself (loopback inside their containers:
 * `localhost:2019` is Caddy's admin API, which would let any visitor reconfigure it), the stack's
 * own containers, addresses that route nowhere, and link-local (cloud metadata).
 */
export function upstreamTargetProblem(hp: HostPort): string | undefined {
    const bare = hp.host.replace(/^\[|\]$/g, "");
    const a = parseIp(bare);
    if (a) {
        const r = a.range();
        if (r === "loopback" || (a.kind() === "ipv6" && r === "ipv4Mapped" && (a as any).toIPv4Address().range() === "loopback"))
            return `${hp.host} is the proxy's own loopback (inside Caddy's container it is Caddy itself, with its admin API on :2019); for a process on the host use host.docker.internal`;
        if (["unspecified", "multicast", "broadcast"].includes(r)) return `${hp.host} is a ${r} address, which no service listens on`;
        if (r === "linkLocal") return `${hp.host} is link-local (cloud metadata lives there); give the appliance's LAN address`;
        return undefined;
    }
    const host = bare.toLowerCase();
    if (host === "localhost" || host.endsWith(".localhost"))
        return `${hp.host} is the proxy's own loopback (inside Caddy's container it is Caddy itself, with its admin API on :2019); for a process on the host use host.docker.internal`;
    if ((RESERVED_NAMES as readonly string[]).includes(host)) return `${hp.host} is one of the stack's own containers, not a service`;
    return undefined;
}

export function upstreamProblem(text: string): string | undefined {
    const hp = parseHostPort(text);
    if (!hp) return `"${text}" must be host:port, e.g. immich-server:2283 or host.docker.internal:1234`;
    return upstreamTargetProblem(hp);
}

/** Host paths no service may mount: the Docker engine (control of the host) and the stack's own state and keys. */
export function protectedHostPaths(dataDir: string): { path: string; why: string }[] {
    return [
        { path: "/var/run/docker.sock", why: "gives the container control of the Docker engine and every secret in it" },
        { path: "/run/docker.sock", why: "gives the container control of the Docker engine and every secret in it" },
        { path: `${dataDir}/caddy`, why: "holds Caddy's certificates, ACME account key and config" },
        { path: `${dataDir}/haproxy`, why: "holds the edge's configuration" },
        { path: `${dataDir}/edge`, why: "holds the edge's key" },
    ];
}

export function volumeProblem(v: string, dataDir: string): string | undefined {
    const parts = v.split(":");
    const [src = "", dst = "", mode] = parts;
    const shape = `"${v}" must be /host/path:/container/path[:ro|rw] or volume-name:/container/path[:ro|rw]`;
    if (parts.length < 2 || parts.length > 3 || !src || !dst) return shape;
    if (mode !== undefined && mode !== "ro" && mode !== "rw") return `${shape} (the mode "${mode}" is neither ro nor rw)`;
    if (src.startsWith("/")) {
        const p = hostPathProblem(src);
        if (p) return `the host path ${p}`;
        const hit = protectedHostPaths(dataDir).find((x) => pathsOverlap(normalisePath(src), x.path));
        if (hit) return `mounts ${hit.path}, which ${hit.why}`;
    } else if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(src)) {
        return shape;
    }
    const d = hostPathProblem(dst);
    if (d) return `the container path ${d}`;
    if (normalisePath(dst) === "/") return "cannot mount over the container's /";
    return undefined;
}

function healthcheckProblem(test: string[]): string | undefined {
    const kind = test[0];
    if (kind !== "CMD" && kind !== "CMD-SHELL" && kind !== "NONE") return `must start with "CMD", "CMD-SHELL" or "NONE" (e.g. ["CMD", "curl", "-fsS", "http://localhost/health"])`;
    if (kind !== "NONE" && test.length < 2) return `needs the command after "${kind}"`;
    return undefined;
}

export interface ServiceContext {
    domain: string;
    privateFqdn: string;
    dataDir: string;
    /** Keys present in `homelab:secrets`; undefined when unknown (offline renders). */
    secretNames?: string[];
}

/** One parsed service entry → a Service, or problems. `raw` is the entry as written. */
export function buildService(name: string, s: ParsedService, raw: Record<string, unknown>, ctx: ServiceContext): { problems: LocalProblem[]; service?: Service } {
    const sk = `services.${name}`;
    const problems: LocalProblem[] = [];
    const add = (key: string, message: string) => problems.push(problem(key, message));

    const expose = PLANES.filter((pl) => s.expose.includes(pl));
    if (new Set(s.expose).size !== s.expose.length) add(`${sk}.expose`, "lists a plane twice");
    if (expose.includes("mtls") && expose.includes("public"))
        add(`${sk}.expose`, "a service cannot be both mtls and public: the tunnel terminates TLS at Cloudflare and would bypass the client certificate");
    if (s.access && !expose.includes("public")) add(`${sk}.access`, "Access policies apply only to services exposed on the public plane (add public to expose, or remove access)");
    if (s.access && s.access.emails.length + s.access.emailDomains.length === 0) add(`${sk}.access`, "needs at least one entry in emails or emailDomains");

    const label = s.hostname ?? name;
    const hostnames: Partial<Record<Plane, string>> = {};
    if (expose.includes("private")) hostnames.private = s.apex ? ctx.privateFqdn : `${label}.${ctx.privateFqdn}`;
    if (expose.includes("mtls")) hostnames.mtls = `${label}.${ctx.domain}`;
    if (expose.includes("public")) hostnames.public = `${label}.${ctx.domain}`;
    if (s.apex && !expose.includes("private")) add(`${sk}.apex`, `the apex is the private plane's name ${ctx.privateFqdn}; an apex service must expose private`);

    const base = {
        name,
        label,
        apex: s.apex,
        expose,
        hostnames,
        ...(s.access ? { access: { emails: [...s.access.emails], emailDomains: [...s.access.emailDomains] } } : {}),
    };
    if (s.image !== undefined && s.upstream !== undefined) {
        add(sk, "give either image + port (a container this stack runs) or upstream (one it does not), not both");
        return { problems };
    }
    if (s.upstream !== undefined) {
        const up = upstreamProblem(s.upstream);
        if (up) add(`${sk}.upstream`, up);
        for (const f of MANAGED_ONLY_KEYS) {
            if (raw[f] !== undefined) add(`${sk}.${f}`, "applies only to managed services (image + port); this one has an upstream");
        }
        if (problems.length > 0) return { problems };
        return { problems, service: { ...base, kind: "external", upstream: s.upstream } satisfies ExternalService };
    }
    if (s.image === undefined) {
        add(sk, "needs image + port (a container this stack runs) or upstream: host:port (one it does not)");
        return { problems };
    }
    const pin = imagePinProblem(s.image);
    if (pin) add(`${sk}.image`, pin);
    if (s.port === undefined) add(`${sk}.port`, "is required with image: the port the container listens on");
    for (const k of Object.keys(s.env)) if (!ENV_NAME_RE.test(k)) add(`${sk}.env.${k}`, "is not a valid environment variable name");
    for (const [k, ref] of Object.entries(s.secretEnv)) {
        if (!ENV_NAME_RE.test(k)) add(`${sk}.secretEnv.${k}`, "is not a valid environment variable name");
        else if (s.env[k] !== undefined) add(`${sk}.secretEnv.${k}`, "is also set in env; set it in one place");
        else if (ctx.secretNames && !ctx.secretNames.includes(ref))
            add(`${sk}.secretEnv.${k}`, `refers to homelab:secrets.${ref}, which is not set: pulumi config set --secret --path 'homelab:secrets.${ref}' <value>`);
    }
    s.volumes.forEach((v, i) => {
        const p = volumeProblem(v, ctx.dataDir);
        if (p) add(`${sk}.volumes[${i}]`, p);
    });
    if (s.healthcheck) {
        const hp = healthcheckProblem(s.healthcheck.test);
        if (hp) add(`${sk}.healthcheck.test`, hp);
    }
    if (problems.length > 0 || s.port === undefined) return { problems };
    const hc = s.healthcheck;
    return {
        problems,
        service: {
            ...base,
            kind: "managed",
            image: s.image,
            port: s.port,
            upstream: `${name}:${s.port}`,
            env: { ...s.env },
            secretEnv: { ...s.secretEnv },
            volumes: [...s.volumes],
            ...(s.command ? { command: [...s.command] } : {}),
            ...(hc ? { healthcheck: { test: [...hc.test], interval: hc.interval, timeout: hc.timeout, retries: hc.retries, startPeriod: hc.startPeriod } } : {}),
        } satisfies ManagedService,
    };
}

/** Across services: one apex, and every hostname used once. */
export function checkHostnames(services: Service[], privateFqdn: string): LocalProblem[] {
    const out: LocalProblem[] = [];
    const apexes = services.filter((s) => s.apex);
    if (apexes.length > 1) out.push(problem("services", `only one service may be the apex (${privateFqdn}); found ${apexes.map((s) => s.name).join(", ")}`));
    const byHost = new Map<string, string>([[privateFqdn, "(apex)"]]);
    for (const s of services) {
        for (const [plane, host] of Object.entries(s.hostnames)) {
            if (s.apex && plane === "private") continue;
            const other = byHost.get(host);
            if (other !== undefined && other !== s.name) {
                out.push(problem(`services.${s.name}`, `hostname ${host} is already used by ${other === "(apex)" ? "the private plane (homelab:private.subdomain)" : `service ${other}`}`));
            } else byHost.set(host, s.name);
        }
    }
    return out;
}
