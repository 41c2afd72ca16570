// `homelab:hosts`: further Docker hosts, and where each service runs. Pure.
//
// One stack has one edge host (homelab:docker: the edge, Caddy, the client-certificate listener)
// and any number of further hosts, each its own Docker engine joined by the tailnet. Each rule
// below keeps one promise: two hosts are never one engine (two plans would fight over the same
// containers), a host's services are reached only through its gateway, and a service reaches only
// the containers on its own host.
import { LocalProblem, checkSubnet } from "./checks";
import { normalisePath, sshTarget } from "./grammar";
import { dataDirProblem } from "./hostPaths";
import { Host, Service, hostOf, upstreamHosts } from "./model";
import { canonicalIp } from "./net";
import { hostNameProblem, hostSchema } from "./schema";
import type { z } from "zod";

const problem = (key: string, message: string): LocalProblem => ({ key, message });

/** Which engine a docker.host URL reaches: the socket path, or the SSH host and port (whoever logs in). */
export function engineKey(url: string): string {
    // /var/run is /run on every Linux and on a Mac (as the host-path rules read it).
    if (url.startsWith("unix://"))
        return `unix:${normalisePath(url.slice("unix://".length)).replace(/^\/var\/run(?=\/|$)/, "/run")}`;
    const t = sshTarget(url);
    if (!t) return url;
    return `ssh:${(canonicalIp(t.host) ?? t.host).toLowerCase()}:${t.port ?? 22}`;
}

/** What the edge host says about itself, to compare further hosts with. */
export interface EdgeHostFacts {
    engine?: string;
    tailnet: string[];
    /** Whether homelab:trustedNetworks lists any network (then each host must say its addresses). */
    trustsNetworks: boolean;
}

type ZodProblems = (top: string, err: z.ZodError, input: unknown) => LocalProblem[];

/** `homelab:hosts` → the further hosts, or problems (each naming its key). */
export function buildHosts(
    raw: unknown,
    edge: EdgeHostFacts,
    zodProblems: ZodProblems,
): { problems: LocalProblem[]; hosts: Host[] } {
    const problems: LocalProblem[] = [];
    const hosts: Host[] = [];
    if (raw === undefined) return { problems, hosts };
    if (typeof raw !== "object" || raw === null || Array.isArray(raw))
        return { problems: [problem("hosts", "must be a map of host name → { docker, tailnet }")], hosts };
    const engines = new Map<string, string>(edge.engine ? [[engineKey(edge.engine), "homelab:docker.host"]] : []);
    const addresses = new Map<string, string>(edge.tailnet.map((a) => [a, "homelab:tailnet"]));
    for (const [name, value] of Object.entries(raw as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) {
        const hk = `hosts.${name}`;
        const nameProblem = hostNameProblem(name);
        if (nameProblem) {
            problems.push(problem(hk, `the host name ${nameProblem}`));
            continue;
        }
        const r = hostSchema.safeParse(value);
        if (!r.success) {
            problems.push(...zodProblems(hk, r.error, value));
            continue;
        }
        const p = r.data;
        const before = problems.length;
        const engine = engineKey(p.docker.host);
        const sameEngine = engines.get(engine);
        if (sameEngine)
            problems.push(
                problem(
                    `${hk}.docker.host`,
                    `reaches the same Docker engine as ${sameEngine}: one engine is one host; put its services on that host instead`,
                ),
            );
        else engines.set(engine, `homelab:${hk}.docker.host`);
        const tailnet = [p.tailnet.ipv4, p.tailnet.ipv6]
            .filter((a): a is string => !!a)
            .map((a) => canonicalIp(a) ?? a);
        tailnet.forEach((a, i) => {
            const key = `${hk}.tailnet.${i === 0 ? "ipv4" : "ipv6"}`;
            const owner = addresses.get(a);
            if (owner)
                problems.push(
                    problem(key, `${a} is already the tailnet address of ${owner}: one address, one machine`),
                );
            else addresses.set(a, `homelab:${key}`);
        });
        const others = hostAddresses(hk, p.addresses, edge.trustsNetworks, problems);
        const dataDir = normalisePath(p.docker.dataDir);
        const socket = p.docker.host.startsWith("unix://") ? p.docker.host.slice("unix://".length) : undefined;
        const place = dataDirProblem(dataDir, p.docker.runtime, socket);
        if (place) problems.push(problem(`${hk}.docker.dataDir`, place));
        const subnet = checkSubnet(p.docker.subnet, `${hk}.docker.subnet`);
        problems.push(...subnet.problems);
        if (problems.length > before || !subnet.plan) continue;
        hosts.push({
            name,
            docker: {
                host: p.docker.host,
                runtime: p.docker.runtime,
                network: p.docker.network,
                subnet: subnet.plan.block,
                dataDir,
            },
            tailnet: { ipv4: tailnet[0] as string, ...(tailnet[1] ? { ipv6: tailnet[1] } : {}) },
            addresses: others,
            addressPlan: subnet.plan,
        });
    }
    return { problems, hosts };
}

/**
 * A further host's other addresses (its LAN address). Docker hands its containers' connections to
 * the outside from the host's own addresses, so a compromised container there reaches the edge
 * from them: the edge must never trust them, as it never trusts the host's tailnet addresses. With
 * trusted networks the list is required ([] when the host has no address on them).
 */
function hostAddresses(
    hk: string,
    given: string[] | undefined,
    trustsNetworks: boolean,
    problems: LocalProblem[],
): string[] {
    if (given === undefined) {
        if (trustsNetworks)
            problems.push(
                problem(
                    `${hk}.addresses`,
                    "is required with homelab:trustedNetworks: list the host's own addresses on those networks (its LAN address), or [] if it has none there. Its containers reach the edge from them, and the edge must not trust them",
                ),
            );
        return [];
    }
    const out: string[] = [];
    given.forEach((a, i) => {
        const ip = canonicalIp(a);
        if (!ip) problems.push(problem(`${hk}.addresses[${i}]`, `"${a}" is not an IP address`));
        else if (!out.includes(ip)) out.push(ip);
    });
    return out;
}

/** Each service's `host` names a further host. (Unknown ones are reported once, here.) */
export function checkHostNames(raw: unknown, hostNames: string[], hostsUnreadable: boolean): LocalProblem[] {
    if (hostsUnreadable || typeof raw !== "object" || raw === null) return [];
    const out: LocalProblem[] = [];
    for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
        const host = value && typeof value === "object" ? (value as Record<string, unknown>)["host"] : undefined;
        if (typeof host === "string" && !hostNameProblem(host) && !hostNames.includes(host))
            out.push(
                problem(
                    `services.${name}.host`,
                    hostNames.length === 0
                        ? `"${host}" is not a host of this stack (homelab:hosts is empty); leave host out to run it on the edge host`
                        : `"${host}" is not a host of this stack (homelab:hosts: ${hostNames.join(", ")})`,
                ),
            );
    }
    return out;
}

const where = (h: string | undefined) => (h ? `host ${h}` : "the edge host");

/**
 * A service reaches only containers on its own host: Docker's names and networks end at the
 * engine. So dependsOn stays on one host (an internal service lives with every service that uses
 * it), and an upstream or forward-auth server that names a container of this stack must be one
 * that Caddy (and cloudflared) on the edge host can reach.
 */
export function checkPlacement(services: Service[]): LocalProblem[] {
    const out: LocalProblem[] = [];
    const byName = new Map(services.map((s) => [s.name, s]));
    const managedHost = (name: string): { found: boolean; host?: string } => {
        const t = byName.get(name);
        return t && t.kind === "managed" ? { found: true, ...(t.host ? { host: t.host } : {}) } : { found: false };
    };
    for (const s of services) {
        if (s.kind === "managed")
            for (const d of s.dependsOn) {
                const t = managedHost(d);
                if (t.found && t.host !== s.host) {
                    const move = s.host ? `give it host: ${s.host}` : "remove its host";
                    out.push(
                        problem(
                            `services.${s.name}.dependsOn`,
                            `"${d}" runs on ${where(t.host)} and ${s.name} on ${where(s.host)}: a container reaches only containers on its own host; run ${d} beside it (${move})`,
                        ),
                    );
                }
            }
        for (const { key, host: container } of upstreamHosts(s)) {
            const t = managedHost(container);
            if (t.found && t.host)
                out.push(
                    problem(
                        key,
                        `"${container}" runs on host ${t.host}, which Caddy and cloudflared on the edge host reach only through its gateway, by the service's own name: expose ${container} itself instead of naming it here`,
                    ),
                );
        }
    }
    return out;
}

export { hostOf };
