// Data-plane cost of the access model, on loopback, one machine, interleaved runs:
//   (a) rendered chain, Linux edge: HAProxy → Caddy mTLS listener (PROXY v2) → upstream   [client certificate]
//   (b) the hand-made design of the second seed: HAProxy → Caddy mTLS listener → TLS loop back
//       into Caddy's plain listener with verification off → upstream                    [client certificate]
//   (c) the floor: Caddy alone terminating mTLS (the rendered site) → upstream           [client certificate]
//   (d) the trusted path, Linux edge: HAProxy → Caddy plain listener (PROXY v2) → upstream
//   (e) an experiment: (a) with the rendered haproxy.cfg minus `nbthread 1` (one thread per CPU)
//   (f) rendered chain, Mac edge: native HAProxy → relay HAProxy (PROXY v2 with the edge's secret)
//       → Caddy mTLS listener → upstream                                                  [client certificate]
//   (g) the trusted path, Mac edge: native HAProxy → relay (the edge's secret) → Caddy plain listener → upstream
//   (h) a control: (c) behind a bare TCP hop (an HAProxy with no rules and no PROXY header), the
//       cost of putting any process between the client and Caddy
// Same upstream (an HAProxy that answers 200 itself), same client certificate, the same Caddy for
// (a), (d), (e), (f) and (g) (the lab's), HTTP/1.1. The load generator is vegeta's attack engine
// (bench/loadgen) with a source address per new connection: untrusted paths come from a pool of
// loopback addresses, because the rendered edge refuses more than 100 new connections per 10 s
// from any one untrusted address (render/haproxy.ts EDGE_LIMITS), by design.
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ChildProcess, execFileSync, spawn, spawnSync } from "child_process";
import { Lab, startLab, SOURCES, EDGE_PORTS, RELAY, HOSTS, ClientCert } from "../test/e2e/lab";
import { caddyBinary, haproxy3Binary } from "../test/support/binaries";

export const CONFIGS = ["a", "b", "c", "d", "e", "f", "g", "h"] as const;
export type Config = (typeof CONFIGS)[number];
export const CONFIG_LABEL: Record<Config, string> = {
    a: "(a) HAProxy → Caddy mTLS → upstream (rendered, Linux edge)",
    b: "(b) HAProxy → Caddy mTLS → TLS loop → Caddy plain → upstream (seed)",
    c: "(c) Caddy mTLS alone → upstream (floor)",
    d: "(d) HAProxy → Caddy plain → upstream (trusted path, Linux edge)",
    e: "(e) = (a) with HAProxy's default threads, one per CPU (experiment)",
    f: "(f) native HAProxy → relay (the edge's secret) → Caddy mTLS → upstream (rendered, Mac edge)",
    g: "(g) native HAProxy → relay (the edge's secret) → Caddy plain → upstream (trusted path, Mac edge)",
    h: "(h) bare TCP hop → Caddy mTLS alone → upstream (control: (c) behind a process with no rules)",
};
/** Paths whose client presents a user's certificate (the mTLS plane); the others are trusted. */
export const MTLS_CONFIGS: readonly Config[] = ["a", "b", "c", "e", "f", "h"];

// The benchmark's own listeners: outside the lab's (edges 18080/18443 and 28080/28443, relay
// 8443/9443 on 127.0.0.1, Caddy 8443/9443 on its own address, Caddy's admin 2019) and below
// Linux's ephemeral range (32768+), so neither the lab nor a client socket can hold them.
const UPSTREAM_PORT = 19000;
const SEED_HAPROXY = 19443;
const SEED_MTLS = 19444;
const SEED_PLAIN = 19445;
export const FLOOR = 19446;
const ONE_THREAD = 19447;
const ONE_THREAD_HTTP = 19080;
export const BARE_HOP = 19448;
/** Where the lab's Caddy listens (its address plan's Caddy address in 127.0.0.0/24). */
const CADDY_ADDRESS = "127.0.0.195";
const BENCH_PORTS = [UPSTREAM_PORT, SEED_HAPROXY, SEED_MTLS, SEED_PLAIN, FLOOR, ONE_THREAD, ONE_THREAD_HTTP, BARE_HOP];
const LAB_PORTS = [
    ...new Set([
        EDGE_PORTS.container.http,
        EDGE_PORTS.container.https,
        EDGE_PORTS.native.http,
        EDGE_PORTS.native.https,
        RELAY.plain,
        RELAY.mtls,
        8443,
        9443,
        2019,
    ]),
];

/**
 * Untrusted clients: new connections take these loopback addresses in turn. At the highest rates
 * here (about 1,500 new connections/s) 200 addresses keep each near 75 per 10 s, under the edge's
 * 100, even if one path ran for 10 s on end; none is in the lab's trusted networks or its Docker
 * block (127.0.0.0/24).
 */
export const UNTRUSTED_POOL = { first: "127.0.2.1", last: "127.0.2.200", size: 200 } as const;
const POOL_SPEC = `${UNTRUSTED_POOL.first}-${UNTRUSTED_POOL.last}`;

export interface Sample {
    config: Config;
    mode: "keepalive" | "handshake";
    concurrency: number;
    round: number;
    rps: number;
    p50ms: number;
    p99ms: number;
    success: number;
    requests: number;
    /** New connections the load generator opened, and the most from any one source address. */
    connections: number;
    mostFromOneAddress: number;
    /** CPU time per request (µs) by process group, and for the whole machine. */
    cpuUs: Record<string, number>;
}

export interface Rig {
    lab: Lab;
    procs: ChildProcess[];
    /** Process ids of the benchmark's own servers, for CPU accounting. */
    pids: { upstream: number; seedCaddy: number; seedHaproxy: number; oneThread: number; bareHop: number };
    dir: string;
    loadgen: string;
    stop(): Promise<void>;
}

const ROOT = path.resolve(__dirname, "..");

/** The vegeta version bench/loadgen is built against (its go.mod). */
export function loadgenVegetaVersion(): string {
    return (
        fs.readFileSync(path.join(ROOT, "bench/loadgen/go.mod"), "utf8").match(/tsenart\/vegeta\/v12 (v\S+)/)?.[1] ??
        "unknown"
    );
}

/** Builds bench/loadgen (cached outside the repo, keyed by its sources) and returns the binary. */
export function loadgenBinary(): string {
    return benchGoBinary("loadgen");
}

/**
 * Builds the Go program in bench/<folder> (cached outside the repo, keyed by its sources) and
 * returns the binary.
 */
export function benchGoBinary(folder: string): string {
    const src = path.join(ROOT, "bench", folder);
    const hash = crypto.createHash("sha256");
    for (const f of ["go.mod", "go.sum", "main.go"])
        if (fs.existsSync(path.join(src, f))) hash.update(fs.readFileSync(path.join(src, f)));
    const cache =
        process.env["HOMELAB_CACHE"] ??
        path.join(process.env["XDG_CACHE_HOME"] ?? path.join(os.homedir(), ".cache"), "homelab");
    const bin = path.join(cache, `bench-${folder}-${hash.digest("hex").slice(0, 12)}`, folder);
    if (fs.existsSync(bin)) return bin;
    // Same floor as the pinned tools' build scripts (Go 1.21+).
    execFileSync(
        "bash",
        [
            "-c",
            `. ${JSON.stringify(path.join(ROOT, "scripts/go-check.sh"))} && need_go && go build -trimpath -o ${JSON.stringify(bin)} .`,
        ],
        { cwd: src, stdio: ["ignore", "inherit", "inherit"], timeout: 10 * 60_000 },
    );
    return bin;
}

/** Set in the copy of a benchmark script that runs in a network namespace of its own. */
export const NETNS_ENV = "HOMELAB_BENCH_NETNS";

/**
 * Runs a benchmark script (a path from the repository's root) again in a network namespace of its
 * own (unshare --net, loopback only) when this machine allows it, so that an end-to-end test run
 * on the same machine, whose lab takes the same ports (HAProxy and Caddy bind with SO_REUSEPORT),
 * can neither answer the benchmark's requests nor receive them. `prepare` runs first, out here,
 * for what needs the network. Returns the child's exit status, or undefined to run here.
 */
export function inOwnNetwork(
    script: string,
    args: string[],
    sharedNetwork: boolean,
    prepare: () => void,
): number | undefined {
    if (process.env[NETNS_ENV] !== undefined || process.platform !== "linux" || sharedNetwork) return undefined;
    if (spawnSync("unshare", ["--net", "--", "sh", "-c", "ip link set lo up"], { stdio: "ignore" }).status !== 0)
        return undefined;
    prepare();
    const node = [process.execPath, "-r", "ts-node/register/transpile-only", path.join(ROOT, script), ...args];
    const r = spawnSync("unshare", ["--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", ...node], {
        stdio: "inherit",
        cwd: process.cwd(),
        env: { ...process.env, [NETNS_ENV]: "1", TS_NODE_PROJECT: path.join(ROOT, "tsconfig.json") },
    });
    return r.status ?? 1;
}

function upstreamCfg(): string {
    return [
        "global",
        "    maxconn 4096",
        "defaults",
        "    mode http",
        "    timeout client 30s",
        "    timeout connect 5s",
        "    timeout server 30s",
        "frontend upstream",
        `    bind 127.0.0.1:${UPSTREAM_PORT}`,
        '    http-request return status 200 content-type text/plain string "ok"',
        "",
    ].join("\n");
}

interface Block {
    head: string;
    body: string[];
}

/** The top-level blocks of a Caddyfile (rendered, so one block opener or closer per line). */
function caddyBlocks(caddyfile: string): Block[] {
    const out: Block[] = [];
    let cur: Block | undefined;
    let depth = 0;
    for (const line of caddyfile.split("\n")) {
        const t = line.trim();
        if (depth === 0) {
            if (t.endsWith("{")) {
                cur = { head: t.slice(0, -1).trim(), body: [] };
                depth = 1;
            }
            continue;
        }
        if (t === "}") depth--;
        else if (t.endsWith("{")) depth++;
        if (depth === 0) {
            out.push(cur as Block);
            cur = undefined;
        } else cur?.body.push(line);
    }
    if (depth !== 0) throw new Error("could not read the rendered Caddyfile's blocks");
    return out;
}

/** Lines of `body` without the nested block that starts with `name` (e.g. listener_wrappers). */
function withoutBlock(body: string[], name: string): string[] {
    const out: string[] = [];
    let skip = 0;
    for (const line of body) {
        const t = line.trim();
        if (skip > 0) {
            if (t === "}") skip--;
            else if (t.endsWith("{")) skip++;
            continue;
        }
        if (t.startsWith(`${name} `) && t.endsWith("{")) {
            skip = 1;
            continue;
        }
        out.push(line);
    }
    return out;
}

/**
 * The floor: the rendered mTLS site for the cloud service, verbatim (its snippets, its server
 * options but the PROXY-protocol wrapper), served by a Caddy of its own on 127.0.0.1. Plus the
 * second seed's design, hand-written as it was. One Caddy process, benchmark only.
 */
function seedCaddyfile(lab: Lab, fastUpstream: (body: string[]) => string[]): string {
    const blocks = caddyBlocks(fs.readFileSync(path.join(lab.etc, "Caddyfile"), "utf8"));
    const find = (head: string) => {
        const b = blocks.find((x) => x.head === head);
        if (!b)
            throw new Error(
                `the rendered Caddyfile has no "${head}" block; bench/dataplane.ts builds the floor from it`,
            );
        return b;
    };
    const global = find("");
    const mtlsServer = caddyBlocks(global.body.map((l) => l.replace(/^\t/, "")).join("\n")).find(
        (b) => b.head.startsWith("servers ") && b.head.endsWith(":9443"),
    );
    if (!mtlsServer) throw new Error("the rendered Caddyfile has no server options for the mTLS listener (:9443)");
    const serverOptions = withoutBlock(mtlsServer.body, "listener_wrappers").filter((l) => !/^\s*name\s/.test(l));
    const pki = path.join(lab.etc, "pki");
    const absolute = (lines: string[]) => lines.map((l) => l.replace(/ pki\//g, ` ${pki}/`));
    const snippets = ["(certificate)", "(common)", "(client_auth)"].map((h) =>
        [`${h} {`, ...absolute(find(h).body), "}"].join("\n"),
    );
    const site = find(`https://${HOSTS.mtls}:9443`);
    const floorBody = fastUpstream(site.body);
    return `{
	admin off
	auto_https disable_redirects
	servers :${FLOOR} {
${serverOptions.map((l) => `\t${l}`).join("\n")}
	}
	servers :${SEED_MTLS} {
		protocols h1 h2
	}
	servers :${SEED_PLAIN} {
		protocols h1 h2
	}
}

${snippets.join("\n\n")}

# (c) the floor: the rendered mTLS site, straight to the upstream.
https://${HOSTS.mtls}:${FLOOR} {
${floorBody.join("\n")}
}

# (b) the second seed's design.
https://${HOSTS.mtls}:${SEED_PLAIN} {
	tls {
		load ${lab.certFolder}
	}
	reverse_proxy 127.0.0.1:${UPSTREAM_PORT}
}
https://:${SEED_MTLS} {
	tls {
		load ${lab.certFolder}
		client_auth {
			mode require_and_verify
			trust_pool file ${pki}/ca.pem
		}
	}
	reverse_proxy 127.0.0.1:${SEED_PLAIN} {
		header_up Host {host}
		transport http {
			tls
			tls_insecure_skip_verify
			tls_server_name {host}
		}
	}
}
`;
}

/** The global and defaults sections of the benchmark's own TCP proxies (`global` lines first). */
function tcpProxyHead(global: string[] = []): string[] {
    return [
        "global",
        ...global,
        "    maxconn 4096",
        "defaults",
        "    mode tcp",
        "    timeout connect 5s",
        "    timeout client 1h",
        "    timeout server 1h",
    ];
}

function seedHaproxyCfg(): string {
    return [
        ...tcpProxyHead(),
        "frontend https-in",
        `    bind 127.0.0.1:${SEED_HAPROXY}`,
        "    tcp-request inspect-delay 5s",
        "    tcp-request content accept if { req.ssl_hello_type 1 }",
        `    acl is_lan src ${SOURCES.lan}/32`,
        "    use_backend plain if is_lan",
        "    default_backend mtls",
        "backend plain",
        `    server caddy 127.0.0.1:${SEED_PLAIN}`,
        "backend mtls",
        `    server caddy 127.0.0.1:${SEED_MTLS}`,
        "",
    ].join("\n");
}

/**
 * (h): a TCP proxy and nothing else (one thread, as the rendered edge runs; no rules, no limits, no
 * PROXY header) in front of the floor's listener, so (h) against (c) is what any process between
 * the client and Caddy costs on this machine, and (a) against (h) what the rendered edge adds to it.
 */
function bareHopCfg(): string {
    return [
        ...tcpProxyHead(["    nbthread 1"]),
        "frontend https-in",
        `    bind 127.0.0.1:${BARE_HOP}`,
        "    default_backend floor",
        "backend floor",
        `    server caddy 127.0.0.1:${FLOOR}`,
        "",
    ].join("\n");
}

function portOpen(port: number, host = "127.0.0.1"): Promise<boolean> {
    const net = require("net");
    return new Promise<boolean>((res) => {
        const s = net.connect({ host, port }, () => (s.destroy(), res(true)));
        s.on("error", () => res(false));
    });
}

/** Points the rendered lab's services at the fast upstream, then starts the seed and floor. */
export async function startRig(loadgen: string): Promise<Rig> {
    const clash = BENCH_PORTS.filter((p) => LAB_PORTS.includes(p));
    if (clash.length > 0) throw new Error(`benchmark ports ${clash.join(", ")} are the lab's`);
    // A listener left over from something else would answer for ours (waitPorts cannot tell).
    const taken: number[] = [];
    for (const p of BENCH_PORTS) if (await portOpen(p)) taken.push(p);
    if (taken.length > 0)
        throw new Error(`ports ${taken.join(", ")} on 127.0.0.1 are already in use; the benchmark needs them`);
    // Another lab (an end-to-end run) would share the lab's ports with ours: HAProxy and Caddy
    // both bind with SO_REUSEPORT, so the kernel would spread our load over both labs.
    const busy: string[] = [];
    for (const p of LAB_PORTS) if (await portOpen(p)) busy.push(`127.0.0.1:${p}`);
    for (const p of [8443, 9443]) if (await portOpen(p, CADDY_ADDRESS)) busy.push(`${CADDY_ADDRESS}:${p}`);
    if (busy.length > 0)
        throw new Error(
            `${busy.join(", ")} already answer: another lab (an end-to-end test run?) is up; run the benchmark when it has finished`,
        );

    const lab = await startLab();
    if (lab.model.addresses.caddy !== CADDY_ADDRESS) {
        await lab.stop();
        throw new Error(
            `the lab's Caddy is at ${lab.model.addresses.caddy}, not ${CADDY_ADDRESS}: update bench/dataplane.ts`,
        );
    }
    const dir = path.join(lab.dir, "bench");
    fs.mkdirSync(dir);
    const procs: ChildProcess[] = [];
    const start = (bin: string, args: string[], cwd?: string) => {
        const log = fs.openSync(path.join(dir, `${path.basename(bin)}-${procs.length}.log`), "a");
        const p = spawn(bin, args, {
            cwd,
            stdio: ["ignore", log, log],
            env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
        });
        fs.closeSync(log);
        procs.push(p);
        return p;
    };
    const stopAll = async () => {
        for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill("SIGTERM");
        await Promise.all(
            procs.map((p) =>
                p.exitCode === null && p.signalCode === null
                    ? new Promise((res) => p.once("exit", res))
                    : Promise.resolve(),
            ),
        );
        await lab.stop();
    };
    try {
        fs.writeFileSync(path.join(dir, "upstream.cfg"), upstreamCfg());
        const upstream = start(haproxy3Binary(), ["-db", "-f", path.join(dir, "upstream.cfg")]);
        // The rendered config's cloud service, re-pointed at the fast upstream by a reload.
        const cloud = lab.model.services.find((s) => s.name === "cloud")?.upstream as string;
        const esc = cloud.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        const re = new RegExp(`(reverse_proxy\\s+)(?:https?://)?${esc}(?=\\s|$)`, "g");
        const fast = (text: string) => text.replace(re, `$1127.0.0.1:${UPSTREAM_PORT}`);
        const rendered = fs.readFileSync(path.join(lab.etc, "Caddyfile"), "utf8");
        const repointed = (rendered.match(re) ?? []).length;
        // The cloud service is on the plain listener twice (its own name and under the private
        // wildcard) and on the mTLS listener once.
        if (repointed < 2)
            throw new Error(
                `expected the cloud service's upstream ${cloud} in the rendered Caddyfile's reverse_proxy lines, found it ${repointed} times`,
            );
        fs.writeFileSync(path.join(lab.etc, "Caddyfile"), fast(rendered));
        const r = spawnSync(
            caddyBinary(),
            ["reload", "--config", path.join(lab.etc, "Caddyfile"), "--adapter", "caddyfile", "--force"],
            { cwd: lab.etc, encoding: "utf8" },
        );
        if (r.status !== 0) throw new Error(`reload for the benchmark failed: ${r.stderr}`);
        fs.writeFileSync(
            path.join(dir, "seed.Caddyfile"),
            seedCaddyfile(lab, (body) => fast(body.join("\n")).split("\n")),
        );
        const seedCaddy = start(caddyBinary(), [
            "run",
            "--config",
            path.join(dir, "seed.Caddyfile"),
            "--adapter",
            "caddyfile",
        ]);
        fs.writeFileSync(path.join(dir, "seed-haproxy.cfg"), seedHaproxyCfg());
        const seedHaproxy = start(haproxy3Binary(), ["-db", "-f", path.join(dir, "seed-haproxy.cfg")]);
        // (e): the rendered container-edge haproxy.cfg on its own ports, with HAProxy's default
        // threads (one per CPU) instead of the rendered `nbthread 1`.
        const oneThreadCfg = lab.haproxyCfg
            .replace(/\n {4}nbthread 1\n/, "\n")
            .replace(`127.0.0.1:${EDGE_PORTS.container.https}`, `127.0.0.1:${ONE_THREAD}`)
            .replace(`127.0.0.1:${EDGE_PORTS.container.http}`, `127.0.0.1:${ONE_THREAD_HTTP}`);
        if (
            !oneThreadCfg.includes(`127.0.0.1:${ONE_THREAD}`) ||
            !oneThreadCfg.includes(`127.0.0.1:${ONE_THREAD_HTTP}`) ||
            oneThreadCfg.includes("nbthread") ||
            !lab.haproxyCfg.includes("    nbthread 1\n")
        )
            throw new Error("could not derive the default-threads HAProxy config");
        fs.writeFileSync(path.join(dir, "one-thread-haproxy.cfg"), oneThreadCfg);
        const oneThread = start(haproxy3Binary(), ["-db", "-f", path.join(dir, "one-thread-haproxy.cfg")]);
        fs.writeFileSync(path.join(dir, "bare-hop-haproxy.cfg"), bareHopCfg());
        const bareHop = start(haproxy3Binary(), ["-db", "-f", path.join(dir, "bare-hop-haproxy.cfg")]);
        await waitPorts([UPSTREAM_PORT, SEED_HAPROXY, SEED_MTLS, SEED_PLAIN, FLOOR, ONE_THREAD, BARE_HOP]);
        const dead = procs.filter((p) => p.exitCode !== null || p.signalCode !== null);
        if (dead.length > 0) throw new Error(`benchmark servers exited at start; logs in ${dir}`);
        return {
            lab,
            procs,
            pids: {
                upstream: upstream.pid as number,
                seedCaddy: seedCaddy.pid as number,
                seedHaproxy: seedHaproxy.pid as number,
                oneThread: oneThread.pid as number,
                bareHop: bareHop.pid as number,
            },
            dir,
            loadgen,
            stop: stopAll,
        };
    } catch (e) {
        const logs = fs.existsSync(dir)
            ? fs
                  .readdirSync(dir)
                  .filter((f) => f.endsWith(".log"))
                  .map((f) => `${f}: ${fs.readFileSync(path.join(dir, f), "utf8").slice(-1500)}`)
                  .join("\n")
            : "";
        await stopAll();
        throw new Error(`${(e as Error).message}\n${logs}`);
    }
}

async function waitPorts(ports: number[]): Promise<void> {
    const until = Date.now() + 15_000;
    for (const port of ports) {
        for (;;) {
            if (await portOpen(port)) break;
            if (Date.now() > until) throw new Error(`port ${port} did not open`);
            await new Promise((res) => setTimeout(res, 100));
        }
    }
}

export interface Target {
    url: string;
    connectTo: string;
    /** Source addresses, taken in turn by new connections. */
    sources: string;
    cert: boolean;
}

/** The lab's mTLS name on a loopback port, from `sources` (default: the untrusted pool). */
export function at(port: number, sources = POOL_SPEC, cert = true): Target {
    return {
        url: `https://${HOSTS.mtls}:${port}/`,
        connectTo: `${HOSTS.mtls}:${port}:127.0.0.1:${port}`,
        sources,
        cert,
    };
}

function target(config: Config): Target {
    switch (config) {
        case "a":
            return at(EDGE_PORTS.container.https, POOL_SPEC, true);
        case "b":
            return at(SEED_HAPROXY, POOL_SPEC, true);
        case "c":
            return at(FLOOR, POOL_SPEC, true);
        case "d":
            return at(EDGE_PORTS.container.https, SOURCES.lan, false);
        case "e":
            return at(ONE_THREAD, POOL_SPEC, true);
        case "f":
            return at(EDGE_PORTS.native.https, POOL_SPEC, true);
        case "g":
            return at(EDGE_PORTS.native.https, SOURCES.lan, false);
        case "h":
            return at(BARE_HOP, POOL_SPEC, true);
    }
}

/** The load generator's command line for one run (also shown in docs/benchmarks.md). */
export function loadgenArgs(
    config: Config | Target,
    mode: Sample["mode"],
    concurrency: number,
    seconds: number,
    files: { serverCa: string; cert: string; key: string },
): string[] {
    const t = typeof config === "string" ? target(config) : config;
    return [
        `-url=${t.url}`,
        `-connect-to=${t.connectTo}`,
        `-sources=${t.sources}`,
        `-workers=${concurrency}`,
        `-duration=${seconds}s`,
        `-keepalive=${mode === "keepalive"}`,
        `-root-certs=${files.serverCa}`,
        "-timeout=10s",
        ...(t.cert ? [`-cert=${files.cert}`, `-key=${files.key}`] : []),
    ];
}

/** CPU ticks (user + system) of a process and its live descendants (HAProxy's master-worker). */
function processTicks(pid: number): number {
    let ticks = 0;
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
        for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
            const kids = fs.readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim();
            for (const kid of kids ? kids.split(" ") : []) ticks += processTicks(Number(kid));
        }
    } catch {
        // The process is gone (or /proc is not Linux's): nothing to count.
    }
    return ticks;
}

/** Busy CPU ticks of the whole machine (everything but idle and iowait). */
function machineTicks(): number {
    const f = (fs.readFileSync("/proc/stat", "utf8").split("\n")[0] as string).trim().split(/\s+/).slice(1).map(Number);
    return f.reduce((a, b) => a + b, 0) - (f[3] ?? 0) - (f[4] ?? 0);
}

/** All CPU ticks of the machine, idle included. */
function totalTicks(): number {
    return (fs.readFileSync("/proc/stat", "utf8").split("\n")[0] as string)
        .trim()
        .split(/\s+/)
        .slice(1)
        .map(Number)
        .reduce((a, b) => a + b, 0);
}

function sleepMs(ms: number): void {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The machine's busy share of all its CPUs (0–1) over `ms`, while nothing of ours is loaded. */
export function busyShare(ms = 500): number {
    const [b0, t0] = [machineTicks(), totalTicks()];
    sleepMs(ms);
    const [b1, t1] = [machineTicks(), totalTicks()];
    return t1 > t0 ? (b1 - b0) / (t1 - t0) : 0;
}

/** Busier than this between runs means something else is using the machine. */
export const QUIET_BELOW = 0.1;

/** Waits (up to `maxMs`) until the machine is quiet; returns how long it waited and whether it got there. */
export function waitQuiet(maxMs: number): { waitedMs: number; quiet: boolean } {
    const t0 = Date.now();
    for (;;) {
        if (busyShare() < QUIET_BELOW) return { waitedMs: Date.now() - t0, quiet: true };
        if (Date.now() - t0 > maxMs) return { waitedMs: Date.now() - t0, quiet: false };
    }
}

const TICK_US = 1e6 / Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim() || 100);

/**
 * The server processes each path runs through, read when the sample is taken (the lab may have
 * replaced its Caddy). `haproxy` is the whole edge: for the Mac shape the native HAProxy and the
 * relay together; `relay` is the relay alone, shown as a part of it.
 */
function groups(rig: Rig, config: Config): Record<string, number[]> {
    const up = [rig.pids.upstream];
    const h = rig.lab.haproxies;
    const caddy = [rig.lab.caddy.pid as number];
    switch (config) {
        case "a":
        case "d":
            return { haproxy: [h.container.proc.pid as number], caddy, upstream: up };
        case "b":
            return { haproxy: [rig.pids.seedHaproxy], caddy: [rig.pids.seedCaddy], upstream: up };
        case "c":
            return { haproxy: [], caddy: [rig.pids.seedCaddy], upstream: up };
        case "e":
            return { haproxy: [rig.pids.oneThread], caddy, upstream: up };
        case "f":
        case "g":
            return {
                haproxy: [h.native.proc.pid as number, h.relay.proc.pid as number],
                relay: [h.relay.proc.pid as number],
                caddy,
                upstream: up,
            };
        case "h":
            return { haproxy: [rig.pids.bareHop], caddy: [rig.pids.seedCaddy], upstream: up };
    }
}

/** One load-generator run: closed loop with `concurrency` workers for `seconds`. */
export function measure(
    rig: Rig,
    config: Config,
    mode: Sample["mode"],
    concurrency: number,
    seconds: number,
    round: number,
): Sample {
    return {
        config,
        round,
        ...measureTarget(rig, CONFIG_LABEL[config], target(config), groups(rig, config), mode, concurrency, seconds),
    };
}

/**
 * One load-generator run against any target (a path's, or an experiment's own listener), with the
 * CPU time of the process groups `g` (name → pids).
 */
export function measureTarget(
    rig: Rig,
    label: string,
    t: Target,
    g: Record<string, number[]>,
    mode: Sample["mode"],
    concurrency: number,
    seconds: number,
): Omit<Sample, "config" | "round"> {
    const dave = rig.lab.certs["dave"] as ClientCert;
    const args = loadgenArgs(t, mode, concurrency, seconds, {
        serverCa: rig.lab.serverCa,
        cert: dave.cert,
        key: dave.key,
    });
    const ticks = () =>
        Object.fromEntries(Object.entries(g).map(([k, pids]) => [k, pids.reduce((a, p) => a + processTicks(p), 0)]));
    const before = ticks();
    const machineBefore = machineTicks();
    const attack = spawnSync(rig.loadgen, args, {
        encoding: "utf8",
        maxBuffer: 1 << 26,
        timeout: (seconds + 30) * 1000,
    });
    const machineAfter = machineTicks();
    const after = ticks();
    if (attack.status !== 0) throw new Error(`the load generator failed (${label}): ${attack.stderr || attack.error}`);
    const j = JSON.parse(attack.stdout);
    const requests = Math.max(1, j.requests as number);
    const cpuUs: Record<string, number> = {};
    for (const k of Object.keys(g)) cpuUs[k] = (((after[k] as number) - (before[k] as number)) * TICK_US) / requests;
    cpuUs["machine"] = ((machineAfter - machineBefore) * TICK_US) / requests;
    if (j.success < 1) process.stderr.write(`    errors: ${(j.errors as string[]).slice(0, 5).join("; ")}\n`);
    return {
        cpuUs,
        mode,
        concurrency,
        rps: j.throughput,
        p50ms: j.latencies["50th"] / 1e6,
        p99ms: j.latencies["99th"] / 1e6,
        success: j.success,
        requests: j.requests,
        connections: j.sources.connections,
        mostFromOneAddress: j.sources.most_from_one_address,
    };
}
