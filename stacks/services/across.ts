// The rules across services: one apex and unique hostnames, published ports that do not
// collide, dependencies that exist, and the network segments internal services join. Pure.
import { LocalProblem } from "../checks";
import { Access, isInternal, ManagedService, PublishedPort, Service, upstreamHosts } from "../model";

const problem = (key: string, message: string): LocalProblem => ({ key, message });

// --- across services

/** One apex, and every hostname used once. */
export function checkHostnames(services: Service[], privateFqdn: string, wanRecord?: string): LocalProblem[] {
    const out: LocalProblem[] = [];
    const apexes = services.filter((s) => s.apex);
    if (apexes.length > 1)
        out.push(
            problem(
                "services",
                `only one service may be the apex (${privateFqdn}); found ${apexes.map((s) => s.name).join(", ")}`,
            ),
        );
    const byHost = new Map<string, string>([[privateFqdn, "(apex)"]]);
    // With a dynamic address, the record the DDNS updater keeps at the home's address.
    if (wanRecord === privateFqdn)
        out.push(
            problem(
                "private.subdomain",
                `makes ${privateFqdn}, the record the DDNS updater keeps at the home's address (homelab:wan.publicIp: dynamic): two A records on one name would send tailnet clients to the WAN and WAN clients to the tailnet; choose another subdomain`,
            ),
        );
    else if (wanRecord) byHost.set(wanRecord, "(wan)");
    for (const s of services) {
        for (const [plane, host] of Object.entries(s.hostnames)) {
            if (s.apex && plane === "private") continue;
            const other = byHost.get(host);
            if (other !== undefined && other !== s.name) {
                const by =
                    other === "(apex)"
                        ? "the private plane (homelab:private.subdomain)"
                        : other === "(wan)"
                          ? "the record the DDNS updater keeps at the home's address (homelab:wan.publicIp: dynamic)"
                          : `service ${other}`;
                out.push(problem(`services.${s.name}`, `hostname ${host} is already used by ${by}`));
            } else byHost.set(host, s.name);
        }
    }
    return out;
}

/**
 * Each container port and protocol is published on one host address: Docker reports several
 * bindings of one port in an order that differs between versions (20.10 reverses them, 27+ sorts
 * them, and TCP and UDP of one port come in either order), and the Docker provider compares them
 * by position, forgiving the order only when each port and protocol has one binding. Otherwise
 * the container would be replaced on every run on one Docker version or another.
 */
function checkPublishStable(s: Service): LocalProblem[] {
    if (s.kind !== "managed") return [];
    const seen = new Set<string>();
    const out: LocalProblem[] = [];
    s.publish.forEach((p, i) => {
        const key = `${p.containerPort}/${p.protocol}`;
        if (seen.has(key))
            out.push(
                problem(
                    `services.${s.name}.publish[${i}]`,
                    `container port ${key} is already published on another host address: publish each container port and protocol once (on one address, or on every IPv4 address by leaving the address out), or the Docker provider would replace the container on every run`,
                ),
            );
        seen.add(key);
    });
    return out;
}

/** No two services publish the same host port and protocol on overlapping addresses. */
export function checkPublishConflicts(services: Service[]): LocalProblem[] {
    const out: LocalProblem[] = services.flatMap(checkPublishStable);
    const taken: { s: string; p: PublishedPort }[] = [];
    for (const s of services) {
        if (s.kind !== "managed") continue;
        s.publish.forEach((p, i) => {
            const clash = taken.find(
                (t) =>
                    t.p.hostPort === p.hostPort &&
                    t.p.protocol === p.protocol &&
                    (t.p.hostIp === undefined || p.hostIp === undefined || t.p.hostIp === p.hostIp),
            );
            if (clash)
                out.push(
                    problem(
                        `services.${s.name}.publish[${i}]`,
                        `host port ${p.hostPort}/${p.protocol} is already published by ${clash.s === s.name ? "this service" : `service ${clash.s}`}`,
                    ),
                );
            else taken.push({ s: s.name, p });
        });
    }
    return out;
}

/** dependsOn names managed services of this stack, never itself, and without cycles. */
export type Segment = "private" | "public";

/**
 * The network segment(s) each container this stack runs sits on: a public service on the public
 * one, any other exposed service on the private one, and an internal service (expose: []) on the
 * segments of the services that depend on it, through other internal ones. Assumes no cycles.
 */
export function serviceSegments(services: Service[]): Map<string, Segment[]> {
    const managed = services.filter((s): s is ManagedService => s.kind === "managed");
    const byName = new Map(managed.map((s) => [s.name, s]));
    const segs = new Map<string, Set<Segment>>(
        managed.map((s) => [
            s.name,
            new Set<Segment>(isInternal(s) ? [] : [s.expose.includes("public") ? "public" : "private"]),
        ]),
    );
    for (let changed = true, rounds = 0; changed && rounds <= managed.length; rounds++) {
        changed = false;
        for (const s of managed) {
            for (const d of s.dependsOn) {
                const target = byName.get(d);
                if (!target || !isInternal(target)) continue;
                const to = segs.get(d) as Set<Segment>;
                for (const n of segs.get(s.name) as Set<Segment>) {
                    if (to.has(n)) continue;
                    to.add(n);
                    changed = true;
                }
            }
        }
    }
    const order: Segment[] = ["private", "public"];
    return new Map(
        [...segs].map(([name, set]) => [name, set.size === 0 ? ["private"] : order.filter((n) => set.has(n))]),
    );
}

/** An internal service on both segments would be a bridge from the internet-facing side to the private one. */
export function checkSegmentBridges(services: Service[]): LocalProblem[] {
    const segs = serviceSegments(services);
    const dependents = (name: string) =>
        services.filter((s) => s.kind === "managed" && s.dependsOn.includes(name)).map((s) => s.name);
    return services
        .filter((s) => s.kind === "managed" && isInternal(s) && (segs.get(s.name) ?? []).length > 1)
        .map((s) =>
            problem(
                `services.${s.name}`,
                `is needed by both public and private services (through ${dependents(s.name).join(", ")}): one container on both networks would let a compromised public service reach the private side; run one instance for each side`,
            ),
        );
}

/**
 * A public service with an upstream is reached by cloudflared, which sits on the public network
 * only: an upstream that names one of the stack's containers on the private side could never
 * answer (and must not: that is the segmentation).
 */
export function checkPublicUpstreams(services: Service[]): LocalProblem[] {
    const segs = serviceSegments(services);
    const byName = new Map(services.map((s) => [s.name, s]));
    return services
        .filter((s) => s.kind === "external" && s.expose.includes("public"))
        .flatMap((s) => {
            const host = s.upstream.replace(/:\d+$/, "");
            const on = segs.get(host);
            if (!on) return [];
            const key = `services.${s.name}.upstream`;
            if (!on.includes("public"))
                return [
                    problem(
                        key,
                        `"${host}" is a container of this stack on the private network, which cloudflared (on the public network only) cannot reach; expose ${host} on public itself instead of naming it as an upstream`,
                    ),
                ];
            const gate = byName.get(host)?.access;
            if (gate && !sameAccess(gate, s.access))
                return [
                    problem(
                        key,
                        `"${host}" is behind Cloudflare Access; serving it again as ${s.name} ${s.access ? "with another access list" : "without Access"} would let in whom ${host}'s policy keeps out: give ${s.name} the same access, or drop the upstream`,
                    ),
                ];
            return [];
        });
}

/**
 * The same appliance served twice on the public plane: behind Access once and without it (or
 * with another list) again would let in whom the first policy keeps out, as for a container.
 */
export function checkPublicTwins(services: Service[]): LocalProblem[] {
    const byTarget = new Map<string, Service[]>();
    for (const s of services)
        if (s.kind === "external" && s.expose.includes("public")) {
            const k = s.upstream.toLowerCase();
            byTarget.set(k, [...(byTarget.get(k) ?? []), s]);
        }
    const out: LocalProblem[] = [];
    for (const twins of byTarget.values()) {
        const gated = twins.find((s) => s.access);
        if (!gated?.access) continue;
        for (const s of twins)
            if (s !== gated && !sameAccess(gated.access, s.access))
                out.push(
                    problem(
                        `services.${s.name}.upstream`,
                        `${s.upstream} is also ${gated.name}'s upstream, which is behind Cloudflare Access; serving it again ${s.access ? "with another access list" : "without Access"} would let in whom ${gated.name}'s policy keeps out: give ${s.name} the same access, or drop one of them`,
                    ),
                );
    }
    return out;
}

/**
 * Docker's DNS answers `<container>.<network>` as it answers `<container>`: an upstream written
 * that way would slip past every rule about which of the stack's containers an upstream names
 * (Access, the networks a container is on, the stack's own containers). Refused: the name alone
 * reaches the same container.
 */
export function checkNetworkQualifiedUpstreams(services: Service[], networks: string[]): LocalProblem[] {
    const out: LocalProblem[] = [];
    const lower = networks.map((n) => n.toLowerCase());
    for (const s of services) {
        for (const u of upstreamHosts(s)) {
            const host = u.host.toLowerCase();
            const network = lower.find((n) => host.endsWith(`.${n}`));
            if (network === undefined) continue;
            const container = host.slice(0, -(network.length + 1));
            out.push(
                problem(
                    u.key,
                    `"${host}" names a container by one of the stack's Docker networks (${network}), which Docker's DNS answers as "${container}": write ${container} instead, so the stack's rules for its own containers apply to it`,
                ),
            );
        }
    }
    return out;
}

function sameAccess(a: Access, b: Access | undefined): boolean {
    const key = (x: Access) => JSON.stringify([[...x.emails].sort(), [...x.emailDomains].sort()]);
    return b !== undefined && key(a) === key(b);
}

export function checkDependencies(services: Service[]): LocalProblem[] {
    const out: LocalProblem[] = [];
    const byName = new Map(services.map((s) => [s.name, s]));
    for (const s of services) {
        if (s.kind !== "managed") continue;
        s.dependsOn.forEach((d) => {
            const target = byName.get(d);
            const key = `services.${s.name}.dependsOn`;
            if (d === s.name) out.push(problem(key, "a service cannot depend on itself"));
            else if (!target) out.push(problem(key, `"${d}" is not a service of this stack`));
            else if (target.kind !== "managed")
                out.push(
                    problem(
                        key,
                        `"${d}" is not a container this stack runs (it has an upstream), so there is nothing to start first`,
                    ),
                );
        });
    }
    if (out.length > 0) return out;
    // Depth-first search for a cycle; report it once, naming its services in order.
    const state = new Map<string, "visiting" | "done">();
    const stack: string[] = [];
    const visit = (n: string): string[] | undefined => {
        if (state.get(n) === "done") return undefined;
        if (state.get(n) === "visiting") return [...stack.slice(stack.indexOf(n)), n];
        state.set(n, "visiting");
        stack.push(n);
        const s = byName.get(n);
        for (const d of s && s.kind === "managed" ? s.dependsOn : []) {
            const cycle = visit(d);
            if (cycle) return cycle;
        }
        stack.pop();
        state.set(n, "done");
        return undefined;
    };
    for (const s of services) {
        const cycle = visit(s.name);
        if (cycle) return [problem(`services.${cycle[0]}.dependsOn`, `forms a cycle: ${cycle.join(" → ")}`)];
    }
    return out;
}
