// Stack config → validated Model. Pure: takes the raw `homelab:*` values (already JSON-parsed)
// and returns the model, or throws ConfigError listing every problem, each naming its config key.
// Shapes, types and defaults are in stacks/schema.ts; rules about meaning in stacks/checks.ts and
// stacks/services/. This file only runs them in order and assembles the model.
import { z } from "zod";
import { DYNAMIC, EDGE_PLACEMENT, Host, Model, Service, User, wanRecordName } from "./model";
import { buildHosts, checkHostNames, checkPlacement } from "./hosts";
import {
    LocalProblem,
    Problem,
    checkAdopt,
    checkDnsToken,
    checkLinuxEdgeIpv6,
    checkListenAddresses,
    checkNameLengths,
    checkResolvers,
    checkSubnet,
    checkTrustedNetworks,
    checkUntrustedSources,
    checkUsers,
    checkWanAddress,
} from "./checks";
import { REMOVED_KEYS, schemas, serviceSchema } from "./schema";
import {
    ServiceContext,
    buildService,
    checkDependencies,
    checkHostnames,
    checkPublishConflicts,
    checkNetworkQualifiedUpstreams,
    checkPublicTwins,
    checkPublicUpstreams,
    checkSegmentBridges,
    serviceNameProblem,
} from "./services";
import { normalisePath } from "./grammar";
import { dataDirProblem } from "./hostPaths";
import { canonicalIp } from "./net";
import { stackNetworks } from "./naming";
import { addMonitoring, checkUserCheckNames, reportedKey } from "./monitoring";

export { isDnsLabel, isDnsName } from "./grammar";
export { imagePinProblem } from "./services";
export { schemas, serviceSchema } from "./schema";
export type { Problem } from "./checks";

export const NAMESPACE = "homelab";

/**
 * Every problem with the stack configuration. Pulumi reports a RunError as its message alone
 * (no stack trace), which is what a user needs: the list, each with its key. The marker below is
 * what @pulumi/pulumi's `RunError.isInstance` looks for; this module stays free of the SDK so the
 * validator can run offline (npm run render).
 */
export class ConfigError extends Error {
    public readonly __pulumiRunError = true;
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

/** Every key this program reads under `homelab:`. */
export const KNOWN_KEYS = [...Object.keys(schemas), "hosts", "services", "secrets", "monitoring", "dashboard"] as const;
export const REQUIRED_KEYS = ["domain", "zoneId", "accountId", "tailnet", "acme", "docker"] as const;

function keyOf(top: string, path: readonly PropertyKey[]): string {
    let k = top;
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

function zodProblems(top: string, err: z.ZodError, input: unknown): LocalProblem[] {
    const out: LocalProblem[] = [];
    for (const issue of err.issues) {
        if (issue.code === "unrecognized_keys") {
            for (const k of issue.keys)
                out.push({ key: keyOf(top, [...issue.path, k]), message: "is not a known setting (a typo?)" });
        } else if (issue.code === "invalid_type" && valueAt(input, issue.path) === undefined) {
            out.push({ key: keyOf(top, issue.path), message: "is required" });
        } else {
            out.push({ key: keyOf(top, issue.path), message: issue.message });
        }
    }
    return out;
}

/** Keys that were removed from the schema: reported with what to do, and dropped before parsing. */
function removedKeys(raw: RawConfig): { problems: LocalProblem[]; raw: RawConfig } {
    const problems: LocalProblem[] = [];
    const copy: RawConfig = { ...raw };
    for (const [dotted, message] of Object.entries(REMOVED_KEYS)) {
        const [top, key] = dotted.split(".") as [string, string];
        const obj = copy[top];
        if (obj && typeof obj === "object" && !Array.isArray(obj) && key in obj) {
            problems.push({ key: dotted, message });
            const rest = { ...(obj as Record<string, unknown>) };
            delete rest[key];
            copy[top] = rest;
        }
    }
    return { problems, raw: copy };
}

type Parsed = { [K in keyof typeof schemas]?: z.infer<(typeof schemas)[K]> };

export interface ValidateOptions {
    /** "Now", for dates that must lie in the future (tests pin it). */
    now?: Date;
}

/**
 * Validates the raw config and returns the model, or throws ConfigError listing every problem.
 * `secretNames` are the keys set in `homelab:secrets`; undefined means unknown (offline renders),
 * and then secretEnv references are not checked.
 */
export function validate(input: RawConfig, secretNames?: string[], opts: ValidateOptions = {}): Model {
    const problems: LocalProblem[] = [];
    const add = (key: string, message: string): void => void problems.push({ key, message });
    const take = (r: { problems: LocalProblem[] }) => problems.push(...r.problems);

    const removed = removedKeys(input);
    take(removed);
    const raw = removed.raw;
    for (const k of Object.keys(raw)) {
        if (!(KNOWN_KEYS as readonly string[]).includes(k))
            add(k, `is not a known setting (known: ${KNOWN_KEYS.join(", ")})`);
    }
    for (const k of REQUIRED_KEYS) if (raw[k] === undefined) add(k, "is required");

    const p: Parsed = {};
    for (const k of Object.keys(schemas) as (keyof typeof schemas)[]) {
        if (raw[k] === undefined && (REQUIRED_KEYS as readonly string[]).includes(k)) continue;
        const r = schemas[k].safeParse(raw[k]);
        if (r.success) (p as Record<string, unknown>)[k] = r.data;
        else problems.push(...zodProblems(k, r.error, raw[k]));
    }

    const domain = p.domain ?? "invalid.invalid";
    const subdomain = p.private?.subdomain ?? "home";
    const privateFqdn = `${subdomain}.${domain}`;
    const runtime = p.docker?.runtime ?? "docker-desktop";
    const dataDir = normalisePath(p.docker?.dataDir ?? "/invalid");
    const dockerSocket = p.docker?.host?.startsWith("unix://") ? p.docker.host.slice("unix://".length) : undefined;
    const dataDirPlace = p.docker ? dataDirProblem(dataDir, runtime, dockerSocket) : undefined;
    if (dataDirPlace) add("docker.dataDir", dataDirPlace);

    // --- networks and addresses
    const subnet = checkSubnet(p.docker?.subnet ?? "172.30.0.0/24");
    take(subnet);
    const trusted = checkTrustedNetworks(p.trustedNetworks ?? [], runtime, subnet.plan);
    take(trusted);
    const untrusted = checkUntrustedSources(p.untrustedSources ?? [], trusted.trusted);
    take(untrusted);
    const tailnet = [p.tailnet?.ipv4, p.tailnet?.ipv6].filter((x): x is string => !!x).map((x) => canonicalIp(x) ?? x);
    const listen = checkListenAddresses(p.docker?.listenAddresses ?? [], trusted.trusted, tailnet);
    take(listen);
    problems.push(
        ...checkLinuxEdgeIpv6(runtime, p.tailnet?.ipv6, p.docker?.listenAddresses ?? [], p.docker?.ip6tables ?? false),
    );
    if (p.docker?.ip6tables && EDGE_PLACEMENT[runtime] !== "container")
        add(
            "docker.ip6tables",
            `is for the Linux edge only: on ${runtime} the edge runs on the Mac and sees IPv6 clients by their own address already; remove it`,
        );
    const wan = checkWanAddress(p.wan?.publicIp, p.dnsToken?.allowedIps ?? []);
    take(wan);
    const token = checkDnsToken(p.dnsToken?.allowedIps ?? [], p.dnsToken?.expiresOn, opts.now ?? new Date());
    take(token);
    const resolvers = checkResolvers(p.acme?.resolvers ?? []);
    take(resolvers);

    // --- further hosts
    const further = buildHosts(
        raw["hosts"],
        { ...(p.docker ? { engine: p.docker.host } : {}), tailnet, trustsNetworks: trusted.trusted.length > 0 },
        zodProblems,
    );
    take(further);
    const hostsUnreadable = further.problems.length > 0;

    // --- services, each checked against the host it runs on
    const edgeContext: ServiceContext = {
        domain,
        privateFqdn,
        dataDir,
        runtime,
        ...(dockerSocket ? { dockerSocket } : {}),
        hostAddresses: [...tailnet, ...listen.addresses],
        edge: EDGE_PLACEMENT[runtime],
        ...(secretNames ? { secretNames } : {}),
    };
    const contextOn = (host: Host): ServiceContext => {
        const socket = host.docker.host.startsWith("unix://") ? host.docker.host.slice("unix://".length) : undefined;
        return {
            ...edgeContext,
            dataDir: host.docker.dataDir,
            runtime: host.docker.runtime,
            ...(socket ? { dockerSocket: socket } : { dockerSocket: undefined }),
            hostAddresses: [host.tailnet.ipv4, ...(host.tailnet.ipv6 ? [host.tailnet.ipv6] : [])],
            edge: "gateway",
        };
    };
    // The status page and the dashboard join the service table here, so every rule applies to them.
    const added = addMonitoring(raw["monitoring"], raw["dashboard"], raw["services"], secretNames, zodProblems);
    take(added);
    const fromServices = problems.length;
    problems.push(
        ...checkHostNames(
            added.rawServices,
            further.hosts.map((h) => h.name),
            hostsUnreadable,
        ),
    );
    const services = buildServices(
        added.rawServices,
        (hostName) => {
            const host = further.hosts.find((h) => h.name === hostName);
            return host ? contextOn(host) : edgeContext;
        },
        problems,
    );
    const dynamicWan = p.wan?.publicIp === DYNAMIC;
    problems.push(...checkHostnames(services, privateFqdn, dynamicWan ? wanRecordName({ domain }) : undefined));
    for (const h of [undefined, ...further.hosts.map((x) => x.name)])
        problems.push(...checkPublishConflicts(services.filter((x) => x.kind === "managed" && x.host === h)));
    const dependencies = [...checkDependencies(services), ...checkPlacement(services)];
    const networkBases = [p.docker?.network ?? "homelab", ...further.hosts.map((h) => h.docker.network)];
    problems.push(
        ...checkNetworkQualifiedUpstreams(services, stackNetworks(networkBases)),
        ...checkPublicTwins(services),
    );
    problems.push(...dependencies);
    if (dependencies.length === 0) problems.push(...checkSegmentBridges(services), ...checkPublicUpstreams(services));
    problems.push(
        ...checkNameLengths(
            domain,
            subdomain,
            services.flatMap((s) => Object.values(s.hostnames).map((h): [string, string] => [`services.${s.name}`, h])),
            services.flatMap((s): [string, string][] =>
                s.hostnames.mtls ? [[`services.${s.name}`, s.hostnames.mtls]] : [],
            ),
        ),
    );

    for (let i = fromServices; i < problems.length; i++) {
        const q = problems[i] as LocalProblem;
        problems[i] = { ...q, key: reportedKey(q.key, added.origins) };
    }

    const firstMtls = services.find((s) => s.expose.includes("mtls"));
    const wanUnreadable = raw["wan"] !== undefined && p.wan === undefined;
    if (firstMtls && p.wan?.publicIp === undefined && !wanUnreadable)
        add(
            "wan.publicIp",
            `is required because service ${firstMtls.name} exposes mtls: its DNS record points at the home's public address`,
        );

    // The Linux edge publishes :443 on the tailnet address and the listed ones only (never
    // 0.0.0.0, and never depending on the service table, which would replace it): the WAN
    // reaches it where the router forwards :443, which must be listed.
    if (firstMtls && EDGE_PLACEMENT[runtime] === "container" && (p.docker?.listenAddresses ?? []).length === 0)
        add(
            "docker.listenAddresses",
            `must list the host's LAN address that the router forwards :443 to, because service ${firstMtls.name} exposes mtls: the edge publishes :80/:443 only on the tailnet address and the addresses listed here`,
        );

    problems.push(...checkAdopt(p.adopt ?? []));

    // --- users
    problems.push(...checkUsers(p.users ?? []));
    if (added.monitoring) problems.push(...checkUserCheckNames(p.users ?? []));
    const users: User[] = (p.users ?? [])
        .map((u) => ({ name: u.name, validityDays: u.validityDays }))
        .sort((a, b) => (a.name < b.name ? -1 : 1));

    // A further host is never a trusted client of the edge, as if listed in untrustedSources: its
    // containers, public ones too, reach the tailnet from its tailnet address (Docker masquerades
    // them), where the edge would trust them as any tailnet device and serve them every private
    // name; and its LAN address the same way (homelab:hosts.<name>.addresses). Caddy dials the
    // gateway; nothing on that host needs the edge's private plane.
    const hostSources = further.hosts.flatMap((h) =>
        [h.tailnet.ipv4, ...(h.tailnet.ipv6 ? [h.tailnet.ipv6] : []), ...h.addresses].map((a) =>
            a.includes(":") ? `${a}/128` : `${a}/32`,
        ),
    );

    if (
        problems.length > 0 ||
        !p.domain ||
        !p.zoneId ||
        !p.accountId ||
        !p.tailnet ||
        !p.acme ||
        !p.docker ||
        !subnet.plan
    ) {
        if (problems.length === 0) problems.push({ key: "(config)", message: "is incomplete" });
        throw new ConfigError(problems.map((x) => ({ key: `${NAMESPACE}:${x.key}`, message: x.message })));
    }

    return {
        domain: p.domain,
        zoneId: p.zoneId,
        accountId: p.accountId,
        tailnet: { ipv4: tailnet[0] as string, ...(p.tailnet.ipv6 ? { ipv6: tailnet[1] as string } : {}) },
        private: { subdomain, fqdn: privateFqdn, wildcard: `*.${privateFqdn}` },
        trustedNetworks: trusted.trusted,
        untrustedSources: [...untrusted.untrusted, ...hostSources.filter((c) => !untrusted.untrusted.includes(c))],
        ...(wan.publicIp ? { wan: { publicIp: wan.publicIp } } : {}),
        listenAddresses: listen.addresses,
        acme: {
            email: p.acme.email,
            resolvers: resolvers.resolvers,
            propagationTimeout: p.acme.propagationTimeout,
            ...(p.acme.ca ? { ca: p.acme.ca } : {}),
        },
        docker: {
            host: p.docker.host,
            runtime,
            network: p.docker.network,
            subnet: subnet.plan.block,
            dataDir,
            ip6tables: p.docker.ip6tables,
        },
        edge: EDGE_PLACEMENT[runtime],
        addresses: subnet.plan,
        dnsToken: {
            allowedIps: token.allowedIps,
            ...(p.dnsToken?.expiresOn ? { expiresOn: p.dnsToken.expiresOn } : {}),
        },
        services,
        hosts: further.hosts,
        users,
        ...(added.monitoring ? { monitoring: added.monitoring } : {}),
        ...(added.dashboard ? { dashboard: added.dashboard } : {}),
        secretNames: [...(secretNames ?? [])].sort(),
        adopt: [...(p.adopt ?? [])],
    };
}

function buildServices(
    rawServices: unknown,
    ctxFor: (host: string | undefined) => ServiceContext,
    problems: LocalProblem[],
): Service[] {
    const services: Service[] = [];
    if (rawServices === undefined) return services;
    if (typeof rawServices !== "object" || rawServices === null || Array.isArray(rawServices)) {
        problems.push({ key: "services", message: "must be a map of service name → settings" });
        return services;
    }
    const entries = Object.entries(rawServices as Record<string, unknown>).sort(([a], [b]) =>
        a < b ? -1 : a > b ? 1 : 0,
    );
    for (const [name, value] of entries) {
        const sk = `services.${name}`;
        const nameProblem = serviceNameProblem(name);
        if (nameProblem) {
            problems.push({ key: sk, message: nameProblem });
            continue;
        }
        const r = serviceSchema.safeParse(value);
        if (!r.success) {
            problems.push(...zodProblems(sk, r.error, value));
            continue;
        }
        const built = buildService(name, r.data, (value ?? {}) as Record<string, unknown>, ctxFor(r.data.host));
        problems.push(...built.problems);
        if (built.service) services.push(built.service);
    }
    return services;
}
