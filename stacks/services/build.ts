// One `homelab:services` entry into the model: its planes and names, then the upstream or the
// container, through the small named checks of the modules beside it. Pure.
import { LocalProblem } from "../checks";
import { isDnsLabel } from "../grammar";
import { hostPathRules } from "../hostPaths";
import {
    EdgePlacement,
    ExternalService,
    ManagedService,
    Plane,
    PLANES,
    PublishedPort,
    RESERVED_SERVICE_NAMES,
    ServiceBase,
    Runtime,
    Service,
} from "../model";
import { EXTERNAL_ONLY_KEYS, MANAGED_ONLY_KEYS, ParsedService } from "../schema";
import {
    capabilityProblem,
    containerSettings,
    deviceProblem,
    healthcheckProblem,
    imagePinProblem,
    labelProblem,
    parsePublish,
    parseTmpfs,
    publishProblem,
    sizeProblem,
    userProblem,
    volumeProblem,
} from "./container";
import { forwardAuthProblems, parseUpstream, upstreamProblem, upstreamTlsProblems } from "./upstream";

const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const problem = (key: string, message: string): LocalProblem => ({ key, message });

export function serviceNameProblem(name: string): string | undefined {
    if (!isDnsLabel(name))
        return "the service name must be one lowercase DNS label (letters, digits, hyphens): it becomes a hostname and a container name";
    const reserved = Object.prototype.hasOwnProperty.call(RESERVED_SERVICE_NAMES, name)
        ? RESERVED_SERVICE_NAMES[name]
        : undefined;
    if (reserved) return `"${name}" ${reserved}; choose another service name (set hostname: ${name} to keep the URL)`;
    return undefined;
}

// --- one service

export interface ServiceContext {
    domain: string;
    privateFqdn: string;
    dataDir: string;
    runtime: Runtime;
    /** The engine's socket when docker.host is a unix:// URL: no service may mount it. */
    dockerSocket?: string;
    /** Keys present in `homelab:secrets`; undefined when unknown (offline renders). */
    secretNames?: string[];
    /** The host's own addresses in the stack (tailnet, listed): where a port may be published. */
    hostAddresses: string[];
    /** Whose ports the host keeps for itself: the edge's (the edge host), or a further host's gateway. */
    edge: EdgePlacement | "gateway";
}

function planeProblems(sk: string, s: ParsedService, expose: Plane[], managed: boolean): LocalProblem[] {
    const out: LocalProblem[] = [];
    if (new Set(s.expose).size !== s.expose.length) out.push(problem(`${sk}.expose`, "lists a plane twice"));
    if (expose.includes("mtls") && expose.includes("public"))
        out.push(
            problem(
                `${sk}.expose`,
                "a service cannot be both mtls and public: the tunnel terminates TLS at Cloudflare and would bypass the client certificate",
            ),
        );
    if (expose.length === 0) {
        if (!managed)
            out.push(
                problem(
                    `${sk}.expose`,
                    "an external service with no plane would do nothing; [] (internal) is for containers this stack runs",
                ),
            );
        for (const k of ["apex", "hostname", "access", "forwardAuth"] as const) {
            if (k === "apex" ? s.apex : s[k] !== undefined)
                out.push(problem(`${sk}.${k}`, "an internal service (expose: []) has no name and no route"));
        }
    }
    if (s.access && !expose.includes("public"))
        out.push(
            problem(
                `${sk}.access`,
                "Access policies apply only to services exposed on the public plane (add public to expose, or remove access)",
            ),
        );
    if (s.access && s.access.emails.length + s.access.emailDomains.length === 0)
        out.push(problem(`${sk}.access`, "needs at least one entry in emails or emailDomains"));
    return out;
}

function managedProblems(sk: string, s: ParsedService, ctx: ServiceContext): LocalProblem[] {
    const out: LocalProblem[] = [];
    const add = (key: string, message: string | undefined) => void (message && out.push(problem(key, message)));
    add(`${sk}.image`, imagePinProblem(s.image as string));
    if (s.port === undefined) add(`${sk}.port`, "is required with image: the port the container listens on");
    for (const k of Object.keys(s.env))
        if (!ENV_NAME_RE.test(k)) add(`${sk}.env.${k}`, "is not a valid environment variable name");
    for (const [k, ref] of Object.entries(s.secretEnv)) {
        if (!ENV_NAME_RE.test(k)) add(`${sk}.secretEnv.${k}`, "is not a valid environment variable name");
        else if (s.env[k] !== undefined) add(`${sk}.secretEnv.${k}`, "is also set in env; set it in one place");
        else if (ctx.secretNames && !ctx.secretNames.includes(ref))
            add(
                `${sk}.secretEnv.${k}`,
                `refers to homelab:secrets.${ref}, which is not set: pulumi config set --secret --path 'homelab:secrets.${ref}' <value>`,
            );
    }
    const rules = hostPathRules(ctx.dataDir, ctx.dockerSocket);
    s.volumes.forEach((v, i) => add(`${sk}.volumes[${i}]`, volumeProblem(v, rules, ctx.runtime)));
    if (s.healthcheck) add(`${sk}.healthcheck.test`, healthcheckProblem(s.healthcheck.test));
    s.publish.forEach((p, i) => add(`${sk}.publish[${i}]`, publishProblem(p, ctx.hostAddresses, ctx.edge)));
    if (s.user !== undefined) add(`${sk}.user`, userProblem(s.user));
    if (s.memory !== undefined) add(`${sk}.memory`, sizeProblem(s.memory, 6, 1024 * 1024));
    if (s.shmSize !== undefined) add(`${sk}.shmSize`, sizeProblem(s.shmSize, 1, 64 * 1024));
    s.devices.forEach((d, i) => add(`${sk}.devices[${i}]`, deviceProblem(d)));
    s.capAdd.forEach((c, i) => add(`${sk}.capAdd[${i}]`, capabilityProblem(c)));
    s.tmpfs.forEach((t, i) =>
        add(
            `${sk}.tmpfs[${i}]`,
            parseTmpfs(t) ? undefined : `"${t}" must be /container/path[:options], e.g. /run:size=64m,mode=1777`,
        ),
    );
    for (const [k, v] of Object.entries(s.labels)) add(`${sk}.labels.${k}`, labelProblem(k, v));
    return out;
}

function managedService(
    name: string,
    s: ParsedService,
    base: Omit<ServiceBase, "upstream" | "upstreamScheme" | "upstreamTls">,
): ManagedService {
    const hc = s.healthcheck;
    return {
        ...base,
        kind: "managed",
        ...(s.host !== undefined ? { host: s.host } : {}),
        image: s.image as string,
        port: s.port as number,
        upstream: `${name}:${s.port}`,
        upstreamScheme: "http",
        env: { ...s.env },
        secretEnv: { ...s.secretEnv },
        volumes: [...s.volumes],
        ...(s.command ? { command: [...s.command] } : {}),
        ...(s.entrypoint ? { entrypoint: [...s.entrypoint] } : {}),
        ...(hc
            ? {
                  healthcheck: {
                      test: [...hc.test],
                      interval: hc.interval,
                      timeout: hc.timeout,
                      retries: hc.retries,
                      startPeriod: hc.startPeriod,
                  },
              }
            : {}),
        publish: s.publish.map((p) => parsePublish(p) as PublishedPort),
        dependsOn: [...new Set(s.dependsOn)].sort(),
        ...containerSettings(s),
    };
}

/** One parsed service entry → a Service, or problems. `raw` is the entry as written. */
export function buildService(
    name: string,
    s: ParsedService,
    raw: Record<string, unknown>,
    ctx: ServiceContext,
): { problems: LocalProblem[]; service?: Service } {
    const sk = `services.${name}`;
    const problems: LocalProblem[] = [];
    const managed = s.image !== undefined;
    const expose = PLANES.filter((pl) => s.expose.includes(pl));
    problems.push(...planeProblems(sk, s, expose, managed));

    const label = s.hostname ?? name;
    const hostnames: Partial<Record<Plane, string>> = {};
    if (expose.includes("private")) hostnames.private = s.apex ? ctx.privateFqdn : `${label}.${ctx.privateFqdn}`;
    if (expose.includes("mtls")) hostnames.mtls = `${label}.${ctx.domain}`;
    if (expose.includes("public")) hostnames.public = `${label}.${ctx.domain}`;
    if (s.apex && !expose.includes("private") && expose.length > 0)
        problems.push(
            problem(
                `${sk}.apex`,
                `the apex is the private plane's name ${ctx.privateFqdn}; an apex service must expose private`,
            ),
        );
    const fa = forwardAuthProblems(sk, s.forwardAuth, expose);
    problems.push(...fa.problems);

    const base = {
        name,
        label,
        apex: s.apex,
        expose,
        hostnames,
        ...(s.access ? { access: { emails: [...s.access.emails], emailDomains: [...s.access.emailDomains] } } : {}),
        ...(fa.forwardAuth ? { forwardAuth: fa.forwardAuth } : {}),
    };
    if (managed && s.upstream !== undefined) {
        problems.push(
            problem(
                sk,
                "give either image + port (a container this stack runs) or upstream (one it does not), not both",
            ),
        );
        return { problems };
    }
    if (s.upstream !== undefined) {
        for (const f of MANAGED_ONLY_KEYS)
            if (raw[f] !== undefined)
                problems.push(
                    problem(`${sk}.${f}`, "applies only to managed services (image + port); this one has an upstream"),
                );
        const up = upstreamProblem(s.upstream);
        if (up) problems.push(problem(`${sk}.upstream`, up));
        const u = parseUpstream(s.upstream);
        const tls = upstreamTlsProblems(sk, u?.scheme ?? "http", s.upstreamTls);
        problems.push(...tls.problems);
        if (problems.length > 0 || !u) return { problems };
        return {
            problems,
            service: {
                ...base,
                kind: "external",
                upstream: u.hostPort,
                upstreamScheme: u.scheme,
                ...(tls.tls ? { upstreamTls: tls.tls } : {}),
            } satisfies ExternalService,
        };
    }
    if (!managed) {
        problems.push(
            problem(sk, "needs image + port (a container this stack runs) or upstream: host:port (one it does not)"),
        );
        return { problems };
    }
    for (const f of EXTERNAL_ONLY_KEYS)
        if (raw[f] !== undefined)
            problems.push(
                problem(
                    `${sk}.${f}`,
                    "applies only to services with an upstream; a managed service is reached over HTTP on its port",
                ),
            );
    problems.push(...managedProblems(sk, s, ctx));
    if (problems.length > 0) return { problems };
    return { problems, service: managedService(name, s, base) };
}
