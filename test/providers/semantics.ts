// What the real providers do with the program's inputs, as data (the JSON files beside this one,
// each entry cited to the provider's source) and a small model of the engine that uses it:
// - readBack: the state a provider stores after create (and after a refresh): the form the next
//   `pulumi up` compares the program's inputs against. Where the provider's read-back is not
//   deterministic (Docker's tcp/udp tie on one port), every possible form is returned.
// - plan: what the next `pulumi up` does with a resource: nothing, an update in place, or a
//   replacement; with the input paths that differ.
// Mocks accept anything; these functions refuse what the providers would not keep stable.
import * as fs from "fs";
import * as path from "path";
import { isDeepStrictEqual } from "util";
import * as ipaddr from "ipaddr.js";
import { canonicalGoDuration } from "../../stacks/grammar";
import { Cidr, canonicalIp as netCanonicalIp, formatCidr, networkAddress, parseCidr } from "../../stacks/net";

export type OnChange = "replace" | "update" | "none";

export interface InputSemantics {
    upstream?: string;
    onChange: OnChange;
    optional?: boolean;
    computed?: boolean;
    default?: unknown;
    readBack?: string;
    suppress?: string;
    collection?: "set" | "list" | "map";
    cite?: string;
    note?: string;
}

export interface ResourceSemantics {
    token: string;
    upstreamType: string;
    deleteBeforeReplace: boolean;
    /** Delete-before-replace as the bridge decides it (e.g. a name the program gives explicitly). */
    effectiveDeleteBeforeReplace?: boolean;
    unlistedInputs: "replace" | "update";
    inputs: Record<string, InputSemantics>;
    cite?: string[];
}

interface ProviderFile {
    provider: { npmPackage: string; npmVersion: string };
    readBackDefs?: Record<string, string>;
    resources: ResourceSemantics[];
}

export const PROVIDER_FILES = ["docker", "cloudflare", "command", "tls", "random"] as const;

function load(): {
    byToken: Map<string, ResourceSemantics>;
    readBackNames: Set<string>;
    versions: Record<string, string>;
} {
    const byToken = new Map<string, ResourceSemantics>();
    const readBackNames = new Set<string>(["same"]);
    const versions: Record<string, string> = {};
    for (const f of PROVIDER_FILES) {
        const data = JSON.parse(fs.readFileSync(path.join(__dirname, `${f}.json`), "utf8")) as ProviderFile;
        versions[data.provider.npmPackage] = data.provider.npmVersion;
        for (const name of Object.keys(data.readBackDefs ?? {})) readBackNames.add(name);
        for (const r of data.resources) byToken.set(r.token, r);
    }
    return { byToken, readBackNames, versions };
}

const DATA = load();

/** The npm versions the data was read for, by package. */
export const DATA_VERSIONS = DATA.versions;

export function semanticsOf(token: string): ResourceSemantics | undefined {
    return DATA.byToken.get(token);
}

export function knownTokens(): string[] {
    return [...DATA.byToken.keys()].sort();
}

/** The top-level input names the data describes for a resource type. */
export function describedInputs(token: string): Set<string> {
    const sem = semanticsOf(token);
    return new Set(Object.keys(sem?.inputs ?? {}).map((k) => k.split(/[.[]/)[0] as string));
}

// ---------------------------------------------------------------------------------------------
// Read-back: named transforms (readBackDefs in the JSON files), implemented here.

/** An address as Docker writes it (canonical), or the text when it is not one. */
function canonicalIp(ip: string): string {
    return netCanonicalIp(ip) ?? ip;
}

/** netip.Addr order: IPv4 before IPv6, each numerically. */
function compareIp(a: string, b: string): number {
    const pa = ipaddr.isValid(a) ? ipaddr.parse(a) : undefined;
    const pb = ipaddr.isValid(b) ? ipaddr.parse(b) : undefined;
    if (!pa || !pb) return a < b ? -1 : a > b ? 1 : 0;
    if (pa.kind() !== pb.kind()) return pa.kind() === "ipv4" ? -1 : 1;
    const ba = pa.toByteArray();
    const bb = pb.toByteArray();
    for (let i = 0; i < ba.length; i++) if (ba[i] !== bb[i]) return (ba[i] as number) - (bb[i] as number);
    return 0;
}

interface Port {
    internal: number;
    external: number;
    ip: string;
    protocol: string;
}

/**
 * Docker's published ports as the provider reads them: the `port/proto` keys sorted by port number
 * only (so 6881/tcp and 6881/udp come back in either order), each key's bindings in dockerd's order:
 * Docker 27+ sorts them (host port, then host address as netip orders it); Docker 20.10 reports
 * them in the reverse of the order they were given (seen on the engine tier's dockerd). Returns
 * every possible order.
 */
export function dockerPortReadBacks(ports: Port[]): Port[][] {
    const norm = ports.map((p) => ({
        internal: p.internal,
        external: p.external ?? p.internal,
        ip: canonicalIp(p.ip ?? "0.0.0.0"),
        protocol: p.protocol ?? "tcp",
    }));
    const keys = [...new Set(norm.map((p) => `${p.internal}/${p.protocol}`))];
    const sorted = (key: string) =>
        norm
            .filter((p) => `${p.internal}/${p.protocol}` === key)
            .sort((a, b) => a.external - b.external || compareIp(a.ip, b.ip));
    const reversed = (key: string) => norm.filter((p) => `${p.internal}/${p.protocol}` === key).reverse();
    const byPort = new Map<number, string[]>();
    for (const k of keys) {
        const port = Number(k.split("/")[0]);
        byPort.set(port, [...(byPort.get(port) ?? []), k]);
    }
    let orders: string[][] = [[]];
    for (const port of [...byPort.keys()].sort((a, b) => a - b)) {
        const group = byPort.get(port) as string[];
        const perms = group.length === 1 ? [group] : [group, [...group].reverse()];
        orders = orders.flatMap((o) => perms.map((p) => [...o, ...p]));
    }
    return [sorted, reversed].flatMap((bindings) => orders.map((o) => o.flatMap(bindings)));
}

/** kreuzwerker's suppressIfPortsDidNotChangeForMigrationV0ToV1, as its source has it. */
export function portsSuppressed(state: Port[], config: Port[]): boolean {
    if (state.length !== config.length) return false;
    const cfg = config.map((p) => ({
        ...p,
        ip: p.ip ?? "0.0.0.0",
        protocol: p.protocol ?? "tcp",
        external: p.external ?? p.internal,
    }));
    const hasProto = (internal: number, protocol: string) =>
        cfg.some((p) => p.internal === internal && p.protocol === protocol);
    for (const old of state) {
        let found = false;
        for (const n of cfg) {
            if (n.internal !== old.internal) continue;
            if (n.protocol !== old.protocol) {
                if (hasProto(old.internal, old.protocol)) continue;
                return false;
            }
            if (n.external !== old.external || n.ip !== old.ip) return false;
            found = true;
            break;
        }
        if (!found) return false;
    }
    return true;
}

/** The first host address of a subnet: the gateway Docker 29+ allocates and reports. */
function firstHost(subnet: string): string {
    const bytes = networkAddress(parseCidr(subnet) as Cidr).toByteArray();
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) + 1;
    return ipaddr.fromByteArray(bytes).toString();
}

/** A CIDR with its host bits cleared, as Docker 29+ reports it. */
function canonicalCidr(cidr: string): string {
    return formatCidr(parseCidr(cidr) as Cidr);
}

/** A daemon whose default log driver is json-file and whose daemon.json sets a log option. */
export const DAEMON_LOG_DRIVER = "json-file";
const DAEMON_LOG_OPTS = { tag: "{{.Name}}" };

type State = Record<string, any>;

/**
 * dockerd fills a healthcheck timing the container leaves at zero from the image's own HEALTHCHECK
 * (moby daemon/commit.go), and the provider reads it back. The program sets every timing but
 * startInterval, so only an image with `--start-interval` shows this: as a state-only update.
 */
export function withImageHealthcheckTimings(state: State, timing = "5s"): State {
    const hc = { ...state.healthcheck };
    for (const k of ["interval", "timeout", "startPeriod", "startInterval"])
        if (hc[k] === undefined || hc[k] === "0s") hc[k] = timing;
    return { ...state, healthcheck: hc };
}

/** Every form the provider may store for a resource created with these inputs. */
export function readBacks(token: string, inputs: State): State[] {
    const sem = semanticsOf(token);
    if (!sem) throw new Error(`no provider semantics for ${token}: add it to test/providers/*.json`);
    let states: State[] = [structuredClone(inputs)];
    const each = (f: (s: State) => State[]) => (states = states.flatMap(f));
    for (const [key, s] of Object.entries(sem.inputs)) {
        const rb = s.readBack ?? "same";
        if (!DATA.readBackNames.has(rb) && !["goDuration", "setOf", "fromEngine"].includes(rb))
            throw new Error(`${token} ${key}: read-back "${rb}" is not defined`);
    }
    if (token === "docker:index/container:Container") {
        if (inputs.ports) each((s) => dockerPortReadBacks(inputs.ports).map((ports) => ({ ...s, ports })));
        if (inputs.memory !== undefined && inputs.memorySwap === undefined)
            each((s) => [{ ...s, memorySwap: inputs.memory * 2 }]);
        if (inputs.healthcheck) {
            each((s) => {
                const hc = { ...s.healthcheck };
                for (const k of ["interval", "timeout", "startPeriod", "startInterval"])
                    if (hc[k] !== undefined) hc[k] = canonicalGoDuration(hc[k]);
                return [{ ...s, healthcheck: hc }];
            });
        }
        if (inputs.logOpts && (inputs.logDriver ?? DAEMON_LOG_DRIVER) === DAEMON_LOG_DRIVER)
            each((s) => [s, { ...s, logOpts: { ...DAEMON_LOG_OPTS, ...s.logOpts } }]);
        if (inputs.hosts)
            each((s) => [
                {
                    ...s,
                    hosts: s.hosts.map((h: { host: string; ip: string }) => ({
                        host: `${h.host}:${h.ip}`.split(":")[0],
                        ip: `${h.host}:${h.ip}`.split(":")[1],
                    })),
                },
            ]);
        if (inputs.devices)
            each((s) => [{ ...s, devices: s.devices.map((d: State) => ({ permissions: "rwm", ...d })) }]);
        if (typeof inputs.workingDir === "string")
            each((s) => [{ ...s, workingDir: path.posix.normalize(s.workingDir).replace(/(.)\/$/, "$1") }]);
    }
    if (token === "docker:index/network:Network" && inputs.ipamConfigs) {
        // Docker <= 28 reports the configured strings; Docker >= 29 canonical ones and the gateway.
        each((s) => [
            s,
            {
                ...s,
                ipamConfigs: s.ipamConfigs.map((c: State) => ({
                    subnet: canonicalCidr(c.subnet),
                    ...(c.ipRange ? { ipRange: canonicalCidr(c.ipRange) } : {}),
                    gateway: c.gateway ? canonicalIp(c.gateway) : firstHost(c.subnet),
                })),
            },
        ]);
    }
    if (token === "cloudflare:index/apiToken:ApiToken" && inputs.policies) {
        each((s) => [
            {
                ...s,
                policies: s.policies.map((p: State) => ({
                    ...p,
                    resources: typeof p.resources === "string" ? JSON.stringify(JSON.parse(p.resources)) : p.resources,
                })),
            },
        ]);
    }
    return states;
}

// ---------------------------------------------------------------------------------------------
// Plan: what the next `pulumi up` does.

export interface PlanOptions {
    ignoreChanges?: string[];
    replaceOnChanges?: string[];
}

export interface Planned {
    change: "same" | "update" | "replace";
    /** Top-level inputs that differ, each with what a change to it does. */
    diffs: { input: string; onChange: OnChange }[];
}

function isEmpty(v: unknown): boolean {
    return (
        v === undefined ||
        v === null ||
        v === "" ||
        (Array.isArray(v) && v.length === 0) ||
        (typeof v === "object" && v !== null && Object.keys(v).length === 0)
    );
}

/** Canonical JSON of a value, with the collections the provider treats as sets sorted. */
function canon(sem: ResourceSemantics, key: string, v: unknown): unknown {
    const setPaths = new Set(
        Object.entries(sem.inputs)
            .filter(([, s]) => s.collection === "set" || s.readBack === "setOf")
            .map(([k]) => k),
    );
    const walk = (p: string, x: unknown): unknown => {
        if (Array.isArray(x)) {
            const items = x.map((i) => walk(`${p}[]`, i));
            return setPaths.has(p)
                ? [...items].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1))
                : items;
        }
        if (x && typeof x === "object")
            return Object.fromEntries(
                Object.entries(x)
                    .sort(([a], [b]) => (a < b ? -1 : 1))
                    .map(([k, y]) => [k, walk(`${p}.${k}`, y)]),
            );
        return x;
    };
    return walk(key, v);
}

function equalInput(sem: ResourceSemantics, key: string, state: unknown, config: unknown): boolean {
    const s = sem.inputs[key];
    if (isDeepStrictEqual(canon(sem, key, state), canon(sem, key, config))) return true;
    if (s?.suppress === "suppressIfPortsDidNotChangeForMigrationV0ToV1")
        return portsSuppressed((state ?? []) as Port[], (config ?? []) as Port[]);
    if (s?.suppress === "emptyConfigIsNoop" && isEmpty(config)) return true;
    if (s?.suppress === "cnameCaseInsensitive" && typeof state === "string" && typeof config === "string")
        return state.toLowerCase() === config.toLowerCase();
    return false;
}

/** The value at a dotted path (`healthcheck.interval`) below a top-level input's value. */
function at(value: unknown, path: string[]): unknown {
    return path.reduce<unknown>(
        (v, k) => (v && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined),
        value,
    );
}

/**
 * Whether `replaceOnChanges` makes a difference in `key` a replacement: the whole input, or a path
 * below it whose own value differs (as the engine compares property paths).
 */
function replacedBy(paths: string[], key: string, old: unknown, config: unknown): boolean {
    return paths.some((r) => {
        if (r === key || r === "*" || r === `${key}[*]`) return true;
        if (!r.startsWith(`${key}.`)) return false;
        const sub = r.slice(key.length + 1).split(".");
        return !isDeepStrictEqual(at(old, sub), at(config, sub));
    });
}

/** The next `pulumi up`'s step for a resource whose state is `state`, given the program's new inputs. */
export function plan(token: string, state: State, inputs: State, opts: PlanOptions = {}): Planned {
    const sem = semanticsOf(token);
    if (!sem) throw new Error(`no provider semantics for ${token}`);
    const diffs: Planned["diffs"] = [];
    const keys = new Set([...Object.keys(inputs), ...Object.keys(state).filter((k) => k in sem.inputs)]);
    for (const key of [...keys].sort()) {
        if (key.startsWith("__")) continue;
        if ((opts.ignoreChanges ?? []).includes(key)) continue;
        const s = sem.inputs[key];
        const config = inputs[key];
        const old = state[key];
        if (config === undefined || config === null) {
            // Left out: an Optional+Computed attribute keeps the state's value.
            if (s?.computed || isEmpty(old) || isDeepStrictEqual(old, s?.default)) continue;
        } else if (equalInput(sem, key, old, config)) continue;
        const onChange: OnChange = replacedBy(opts.replaceOnChanges ?? [], key, old, config)
            ? "replace"
            : (s?.onChange ?? sem.unlistedInputs);
        if (onChange !== "none") diffs.push({ input: key, onChange });
    }
    const change = diffs.some((d) => d.onChange === "replace") ? "replace" : diffs.length > 0 ? "update" : "same";
    return { change, diffs };
}

/** The step for each possible read-back form: the worst of them. */
export function planAgainstReadBack(
    token: string,
    previousInputs: State,
    inputs: State,
    opts: PlanOptions = {},
): Planned {
    const order = { same: 0, update: 1, replace: 2 } as const;
    let worst: Planned = { change: "same", diffs: [] };
    for (const state of readBacks(token, previousInputs)) {
        const p = plan(token, state, inputs, opts);
        if (order[p.change] > order[worst.change]) worst = p;
    }
    return worst;
}
