// npm run bench [-- --smoke] [--out <file>]
// Runs the data-plane and program-scale benchmarks in one run on this machine, prints a table and
// writes it (with the machine, versions and commands) to docs/benchmarks.md, or with --smoke a
// short run to a temporary file, for CI. Nothing here is a timed assertion: targets are reported
// as met or missed, and a run fails only if a request fails or a measurement cannot be taken.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFileSync, spawnSync } from "child_process";
import { CONFIGS, CONFIG_LABEL, Config, Sample, measure, startRig } from "../bench/dataplane";
import { caddyBinary, haproxyBinary } from "../test/support/binaries";
import versions from "../render/versions.json";

const ROOT = path.resolve(__dirname, "..");

interface Plan {
    name: string;
    concurrency: number[];
    seconds: number;
    rounds: number;
    /** [what, services, users] for bench/program.ts. */
    program: [string, number, number][];
}

const FULL: Plan = {
    name: "full",
    concurrency: [1, 8, 32],
    seconds: 3,
    rounds: 3,
    program: [
        ["example", 0, 0],
        ["render", 12, 1000],
        ["render", 100, 1000],
        ["render", 1000, 1000],
        ["eval", 12, 0],
        ["eval", 100, 0],
        ["eval", 1000, 0],
        ["eval", 12, 250],
        ["eval", 12, 500],
        ["eval", 12, 1000],
        ["eval", 100, 1000],
        ["eval", 1000, 1000],
        ["evaljs", 12, 1000],
        ["evaljs", 1000, 1000],
        ["sign", 1000, 0],
        ["p12", 1000, 0],
    ],
};

const SMOKE: Plan = {
    name: "smoke",
    concurrency: [4],
    seconds: 1,
    rounds: 1,
    program: [
        ["example", 0, 0],
        ["render", 12, 20],
        ["render", 100, 20],
        ["eval", 12, 5],
        ["evaljs", 12, 5],
        ["sign", 5, 0],
        ["p12", 5, 0],
    ],
};

const MODES: Sample["mode"][] = ["keepalive", "handshake"];

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

const workers = (n: number) => `${n} worker${n === 1 ? "" : "s"}`;
const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

function firstLine(cmd: string, args: string[]): string {
    try {
        return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).split("\n")[0]!.trim();
    } catch {
        return "unavailable";
    }
}

function vegetaBinary(): string {
    return execFileSync("bash", [path.join(ROOT, "scripts/build-vegeta.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], timeout: 10 * 60_000 }).trim().split("\n").pop() as string;
}

interface Machine {
    rows: [string, string][];
}

function machine(vegeta: string): Machine {
    const cpus = os.cpus();
    return {
        rows: [
            ["CPU", `${cpus[0]?.model ?? "unknown"} × ${cpus.length}`],
            ["Memory", `${fmt(os.totalmem() / 2 ** 30, 1)} GiB`],
            ["OS", `${os.type()} ${os.release()} (${os.arch()})`],
            ["Node.js", process.version],
            ["Caddy", `${firstLine(caddyBinary(), ["version"]).split(" ")[0]} + caddy-dns/cloudflare ${versions.caddyDnsCloudflare} (the test build of the pinned image)`],
            ["HAProxy", `${firstLine(haproxyBinary(), ["-v"]).replace(/ - https.*$/, "")} (Debian's; the stack runs ${versions.haproxyImage})`],
            ["OpenSSL", firstLine("openssl", ["version"])],
            ["vegeta", path.basename(path.dirname(vegeta)).replace(/^vegeta-/, "")],
        ],
    };
}

// ---------------------------------------------------------------- data plane

interface Cell {
    config: Config;
    mode: Sample["mode"];
    concurrency: number;
    rps: number;
    p50ms: number;
    p99ms: number;
    rounds: number;
    cpuUs: Record<string, number>;
}

async function dataPlane(plan: Plan, vegeta: string): Promise<Cell[]> {
    const rig = await startRig(vegeta);
    const samples: Sample[] = [];
    try {
        for (const concurrency of plan.concurrency) {
            for (const mode of MODES) {
                for (let round = 0; round < plan.rounds; round++) {
                    // Interleaved: every round runs all four, starting one further along each time.
                    const order = CONFIGS.map((_, i) => CONFIGS[(i + round) % CONFIGS.length] as Config);
                    for (const config of order) {
                        const s = measure(rig, config, mode, concurrency, plan.seconds, round);
                        if (s.success < 1) throw new Error(`${CONFIG_LABEL[config]} (${mode}, ${concurrency} workers): only ${fmt(s.success * 100, 2)}% of requests succeeded`);
                        samples.push(s);
                        process.stderr.write(`  ${config} ${mode.padEnd(9)} c=${String(concurrency).padEnd(3)} round ${round + 1}: ${fmt(s.rps)} req/s, p50 ${fmt(s.p50ms, 2)} ms, p99 ${fmt(s.p99ms, 2)} ms\n`);
                    }
                }
            }
        }
    } finally {
        await rig.stop();
    }
    const cells: Cell[] = [];
    for (const concurrency of plan.concurrency)
        for (const mode of MODES)
            for (const config of CONFIGS) {
                const xs = samples.filter((s) => s.config === config && s.mode === mode && s.concurrency === concurrency);
                const cpuUs = Object.fromEntries(Object.keys(xs[0]?.cpuUs ?? {}).map((k) => [k, median(xs.map((s) => s.cpuUs[k] as number))]));
                cells.push({ config, mode, concurrency, rounds: xs.length, rps: median(xs.map((s) => s.rps)), p50ms: median(xs.map((s) => s.p50ms)), p99ms: median(xs.map((s) => s.p99ms)), cpuUs });
            }
    return cells;
}

function cell(cells: Cell[], config: Config, mode: Sample["mode"], concurrency: number): Cell {
    return cells.find((c) => c.config === config && c.mode === mode && c.concurrency === concurrency) as Cell;
}

interface Target {
    what: string;
    value: string;
    met: boolean;
}

function dataPlaneTargets(plan: Plan, cells: Cell[]): Target[] {
    const out: Target[] = [];
    for (const concurrency of plan.concurrency) {
        for (const mode of MODES) {
            const r = cell(cells, "a", mode, concurrency).rps / cell(cells, "c", mode, concurrency).rps;
            out.push({ what: `(a) within 10% of (c), ${mode === "keepalive" ? "requests/s (keep-alive)" : "new TLS connections/s"}, ${workers(concurrency)}`, value: `${fmt(r * 100, 1)}% of (c)`, met: r >= 0.9 });
        }
        const r = cell(cells, "a", "keepalive", concurrency).rps / cell(cells, "b", "keepalive", concurrency).rps;
        out.push({ what: `(a) ≥ 1.3× (b), requests/s (keep-alive), ${workers(concurrency)}`, value: `${fmt(r, 2)}×`, met: r >= 1.3 });
    }
    return out;
}

function dataPlaneTable(plan: Plan, cells: Cell[]): string[] {
    const lines = ["| path | workers | keep-alive req/s | p50 ms | p99 ms | new TLS conn/s | p50 ms | p99 ms |", "|---|--:|--:|--:|--:|--:|--:|--:|"];
    for (const concurrency of plan.concurrency)
        for (const config of CONFIGS) {
            const k = cell(cells, config, "keepalive", concurrency);
            const h = cell(cells, config, "handshake", concurrency);
            lines.push(`| ${CONFIG_LABEL[config]} | ${concurrency} | ${fmt(k.rps)} | ${fmt(k.p50ms, 2)} | ${fmt(k.p99ms, 2)} | ${fmt(h.rps)} | ${fmt(h.p50ms, 2)} | ${fmt(h.p99ms, 2)} |`);
        }
    return lines;
}

/** Where the CPU goes, per request, at the highest concurrency (the machine is saturated there). */
function cpuTable(plan: Plan, cells: Cell[]): string[] {
    const concurrency = Math.max(...plan.concurrency);
    const us = (c: Cell, k: string) => (c.cpuUs[k] === undefined ? "–" : fmt(c.cpuUs[k] as number));
    const lines = [
        `CPU time per request at ${workers(concurrency)}, µs (from /proc: user + system time of each server process, and all busy CPU of the machine, which includes the load generator and the kernel's loopback work):`,
        "",
        "| path | load | HAProxy | Caddy | upstream | whole machine |",
        "|---|---|--:|--:|--:|--:|",
    ];
    for (const mode of MODES)
        for (const config of CONFIGS) {
            const c = cell(cells, config, mode, concurrency);
            lines.push(`| ${config} | ${mode === "keepalive" ? "keep-alive" : "new TLS connections"} | ${us(c, "haproxy")} | ${us(c, "caddy")} | ${us(c, "upstream")} | ${us(c, "machine")} |`);
        }
    return lines;
}

// ---------------------------------------------------------------- program

interface ProgramResult {
    what: string;
    services: number;
    users: number;
    wallMs: number;
    gcMs: number;
    maxRssMb: number;
    /** For the example stack: how many services and users it has. */
    counts?: { services: number; users: number };
    /** For warm repeated measurements: how many runs the median is of. */
    runs?: number;
}

let compiled: string | undefined;
/** The program compiled ahead of time with tsc (no ts-node, no source-map remapping at run time). */
function compiledTree(): string {
    if (!compiled) {
        compiled = fs.mkdtempSync(path.join(os.tmpdir(), "homelab-bench-js-"));
        execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", ROOT, "--outDir", compiled, "--noEmit", "false", "--sourceMap", "false"], { stdio: "inherit" });
        fs.copyFileSync(path.join(ROOT, "Pulumi.home.yaml"), path.join(compiled, "Pulumi.home.yaml"));
        fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(compiled, "node_modules"));
        process.on("exit", () => fs.rmSync(compiled as string, { recursive: true, force: true }));
    }
    return compiled;
}

function programRun(what: string, services: number, users: number): ProgramResult {
    const js = what === "evaljs";
    const args = js
        ? [path.join(compiledTree(), "bench/program.js"), "eval", String(services), String(users)]
        : ["-r", "ts-node/register/transpile-only", path.join(ROOT, "bench/program.ts"), what, String(services), String(users)];
    const r = spawnSync(process.execPath, args, { cwd: js ? compiledTree() : ROOT, encoding: "utf8", timeout: 20 * 60_000, env: { ...process.env, TS_NODE_PROJECT: path.join(ROOT, "tsconfig.json") } });
    if (r.status !== 0) throw new Error(`bench/program.ts ${what} ${services} ${users} failed:\n${r.stderr}`);
    const j = JSON.parse(r.stdout.trim().split("\n").pop() as string);
    process.stderr.write(`  ${what} ${services} ${users}: ${fmt(j.wallMs)} ms, ${fmt(j.maxRssMb)} MB\n`);
    return { what, services, users, ...j, counts: j.counts };
}

const PROGRAM_LABEL: Record<string, string> = {
    example: "render the example stack (read, validate, render)",
    render: "validate + render all files",
    eval: "evaluate index.ts under Pulumi's mocks (ts-node, as `pulumi up` runs it)",
    evaljs: "the same, compiled ahead of time with tsc",
    sign: "sign client certificates (openssl)",
    p12: "build PKCS#12 bundles",
};

function programTable(results: ProgramResult[]): string[] {
    const lines = ["| measurement | services | users | wall ms | of which GC ms | peak RSS MB |", "|---|--:|--:|--:|--:|--:|"];
    for (const r of results) {
        const svc = r.what === "sign" || r.what === "p12" ? "–" : String(r.counts?.services ?? r.services);
        const users = r.what === "sign" || r.what === "p12" ? String(r.services) : String(r.counts?.users ?? r.users);
        lines.push(`| ${PROGRAM_LABEL[r.what] ?? r.what}${r.runs ? ` (warm, median of ${r.runs})` : ""} | ${svc} | ${users} | ${fmt(r.wallMs, 1)} | ${fmt(r.gcMs, 1)} | ${fmt(r.maxRssMb)} |`);
    }
    return lines;
}

function find(results: ProgramResult[], what: string, services: number, users: number): ProgramResult | undefined {
    return results.find((r) => r.what === what && r.services === services && r.users === users);
}

/** Peak-RSS differences smaller than this are Node.js's run-to-run variation, not the work. */
const RSS_NOISE_MB = 8;

/** Marginal cost per added service or user between measured points: flat means linear. */
function growth(results: ProgramResult[]): string[] {
    const lines: string[] = [];
    const step = (label: string, a: ProgramResult | undefined, b: ProgramResult | undefined, per: (r: ProgramResult) => number, unit: string) => {
        if (!a || !b) return;
        const d = per(b) - per(a);
        const wall = (b.wallMs - a.wallMs) / d;
        const cpu = (b.wallMs - b.gcMs - (a.wallMs - a.gcMs)) / d;
        const rss = b.maxRssMb - a.maxRssMb;
        lines.push(`| ${label} | ${per(a)} → ${per(b)} | ${fmt(wall, 3)} ms | ${fmt(cpu, 3)} ms | ${Math.abs(rss) < RSS_NOISE_MB ? "≈ 0" : `${fmt(rss / d, 3)} MB`} | per ${unit} |`);
    };
    for (const [w, u] of [["render", 1000], ["eval", 0]] as const) {
        const pts = [12, 100, 1000].map((s) => find(results, w, s, u));
        step(`${w}, ${fmt(u)} users`, pts[0], pts[1], (r) => r.services, "service");
        step(`${w}, ${fmt(u)} users`, pts[1], pts[2], (r) => r.services, "service");
    }
    const users = [0, 250, 500, 1000].map((u) => find(results, "eval", 12, u));
    for (let i = 0; i + 1 < users.length; i++) step("eval, 12 services", users[i], users[i + 1], (r) => r.users, "user");
    if (lines.length === 0) return [];
    return [
        "| measurement | range | wall | wall minus GC | peak RSS | unit |",
        "|---|---|--:|--:|--:|---|",
        ...lines,
        "",
        `≈ 0: the two rows' peak RSS differ by less than ${RSS_NOISE_MB} MB, which is Node.js's own run-to-run variation; the work adds no memory that can be measured.`,
    ];
}

/** What the one-thread experiment (e) shows, given its ratios to (a) for keep-alive and new connections. */
function oneThread(keepalive: number, handshake: number): string {
    const change = (r: number) => `${r >= 1 ? "+" : "−"}${fmt(Math.abs(r - 1) * 100)}%`;
    const measured = `(${change(keepalive)} and ${change(handshake)})`;
    const keepsDefault = "the rendered config keeps HAProxy's default (one thread per CPU)";
    const faster = [keepalive, handshake].filter((r) => r >= 1.1).length;
    const notSlower = [keepalive, handshake].filter((r) => r >= 1.05).length;
    if (faster === 0) return `One thread is not meaningfully faster ${measured}, so HAProxy's threads competing for the CPUs are not what keeps (a) from (c); ${keepsDefault}.`;
    if (notSlower < 2) return `The two measures disagree ${measured}: that is this shared machine's run-to-run variation, not a gain; ${keepsDefault}.`;
    return `One thread is faster here ${measured}: on a machine this small HAProxy's threads compete with Caddy and the load generator for the CPUs. The rendered config keeps the default (one thread per CPU), which suits a Mac with more cores than busy processes.`;
}

/** Why (a) lands where it does next to (c), from this run's own numbers. */
function dataPlaneAnalysis(plan: Plan, cells: Cell[]): string[] {
    const hi = Math.max(...plan.concurrency);
    const lo = Math.min(...plan.concurrency);
    const k = (c: Config) => cell(cells, c, "keepalive", hi);
    const h = (c: Config) => cell(cells, c, "handshake", hi);
    const m = (x: Cell) => x.cpuUs["machine"] ?? 0;
    const pct = (a: number, b: number) => `${fmt((a / b - 1) * 100)}%`;
    const lat = (c: Config) => cell(cells, c, "keepalive", lo).p50ms;
    return [
        "### Reading the results",
        "",
        `- **(a) against (b).** The seed's design terminates TLS twice per request (the client's mTLS, then Caddy's own loop back into the plain listener) and proxies HTTP twice inside Caddy: Caddy spends ${fmt(k("b").cpuUs["caddy"] ?? 0)} µs per keep-alive request in (b) against ${fmt(k("a").cpuUs["caddy"] ?? 0)} µs in (a). Routing the mTLS listener straight to the services removes that, which is where the ${fmt(k("a").rps / k("b").rps, 2)}× comes from.`,
        `- **(a) against (c).** With ${hi} workers every CPU of this machine is busy (the load generator shares them), so requests/s is set by CPU time per request. (a) costs ${fmt(m(k("a")))} µs of machine CPU per keep-alive request against ${fmt(m(k("c")))} µs for (c) (${pct(m(k("a")), m(k("c")))} more), and ${fmt(m(h("a")))} µs against ${fmt(m(h("c")))} µs per new TLS connection (${pct(m(h("a")), m(h("c")))} more). The difference is the extra hop: HAProxy itself (${fmt(k("a").cpuUs["haproxy"] ?? 0)} µs per request, ${fmt(h("a").cpuUs["haproxy"] ?? 0)} µs per connection), a second loopback TCP connection in the kernel, and Caddy reading the PROXY header. No configuration removes a process hop; the hop is the price of the access model, because Caddy chooses client authentication by listener and SNI, never by source address, so something in front of it has to choose the listener by source.`,
        `- **Without CPU contention** (${workers(lo)}) requests/s is one over the round trip, and the hop adds ${fmt((lat("a") - lat("c")) * 1000)} µs to the median keep-alive latency (${fmt(lat("a"), 2)} ms for (a), ${fmt(lat("c"), 2)} ms for (c)). That is a large share of a loopback round trip and a negligible one of any real client's: over a home uplink or a phone network the round trip is tens of milliseconds.`,
        `- **(e)**, HAProxy on one thread: ${fmt(k("e").rps)} keep-alive requests/s and ${fmt(h("e").rps)} new connections/s against ${fmt(k("a").rps)} and ${fmt(h("a").rps)} for (a). ${oneThread(k("e").rps / k("a").rps, h("e").rps / h("a").rps)}`,
        "- **What would close it:** a client on another machine (then the proxies get the CPUs the load generator takes here), or more CPUs than busy processes. For the homelab itself the gap is moot: a home uplink carries far fewer requests than any row here, and the mTLS plane serves a family's phones.",
        "",
    ];
}

function programAnalysis(results: ProgramResult[]): string[] {
    const out: string[] = [];
    const per = (w: string) => {
        const r = results.find((x) => x.what === w);
        return r ? r.wallMs / Math.max(1, r.services) : undefined;
    };
    const r = (s: number) => find(results, "render", s, 1000);
    const e = (s: number, u: number) => find(results, "eval", s, u);
    const slope = (a?: ProgramResult, b?: ProgramResult, x: (p: ProgramResult) => number = (p) => p.services, gc = false) =>
        a && b ? (b.wallMs - (gc ? b.gcMs : 0) - (a.wallMs - (gc ? a.gcMs : 0))) / (x(b) - x(a)) : undefined;
    const r1 = slope(r(12), r(100));
    const r2 = slope(r(100), r(1000));
    if (r1 !== undefined && r2 !== undefined) out.push(`- **Rendering** grows by ${fmt(r1 * 1000)} µs per service from 12 to 100 services and ${fmt(r2 * 1000)} µs per service from 100 to 1,000: ${Math.max(r1, r2) < 1.5 * Math.min(r1, r2) ? "linear" : "not the same per service in both steps, but microseconds either way"}. 1,000 services with 1,000 users render in ${fmt(r(1000)?.wallMs ?? 0)} ms.`);
    const e1 = slope(e(12, 0), e(100, 0));
    const e2 = slope(e(100, 0), e(1000, 0));
    if (e1 !== undefined && e2 !== undefined)
        out.push(
            `- **Evaluating** grows by ${fmt(e1)} ms per service from 12 to 100 services and ${fmt(e2)} ms per service from 100 to 1,000 (no users, so the services are all that changes; a managed service is a container, its image, and for some a DNS record, a tunnel route or an Access application).`,
        );
    const w1 = slope(e(100, 1000), e(1000, 1000));
    const c1 = slope(e(100, 1000), e(1000, 1000), undefined, true);
    if (w1 !== undefined && c1 !== undefined)
        out.push(
            `- **Services with 1,000 users** cost ${fmt(w1)} ms each from 100 to 1,000 services, ${fmt(c1)} ms without garbage collection: the work per service is the same as without users, and what is added is collection time, because the users' outputs make the heap larger (garbage collection ${fmt((e(100, 1000)?.gcMs ?? 0) / 1000, 1)} s at 100 services, ${fmt((e(1000, 1000)?.gcMs ?? 0) / 1000, 1)} s at 1,000).`,
        );
    const users = [0, 250, 500, 1000].map((u) => e(12, u));
    const wall = users.slice(1).map((b, i) => slope(users[i], b, (p) => p.users));
    const cpu = users.slice(1).map((b, i) => slope(users[i], b, (p) => p.users, true));
    if (wall.every((x) => x !== undefined)) {
        out.push(
            `- **Users dominate evaluation.** Each user is four resources (key, CSR, certificate, password) and one PKCS#12 bundle. Marginal cost per user: ${wall.map((x) => `${fmt(x as number, 1)} ms`).join(", ")} over 0→250→500→1,000 users; without garbage collection ${cpu.map((x) => `${fmt(x as number, 1)} ms`).join(", ")}. What grows is the garbage collector's share as the heap grows (about ${fmt(((users[3]?.maxRssMb ?? 0) - (users[0]?.maxRssMb ?? 0)) / 1000, 1)} MB per user): the Pulumi SDK keeps a stack trace string on every output's promise while the program runs, and a user has dozens of outputs. The work itself is linear; heap size is what makes the curve bend.`,
        );
    }
    const ts = e(1000, 1000);
    const js = find(results, "evaljs", 1000, 1000);
    if (ts && js)
        out.push(
            `- **Most evaluation time is the Pulumi SDK formatting stack traces.** The SDK wraps every input property of every resource in a promise that records \`new Error().stack\`, and under ts-node each of those stacks is remapped through source maps; a container has about fifty input properties. A CPU profile of 300 services puts about two thirds of the time there. Compiled ahead of time with \`tsc\` (no ts-node at run time), the same 1,000 services with 1,000 users evaluate in ${fmt(js.wallMs / 1000, 1)} s instead of ${fmt(ts.wallMs / 1000, 1)} s (${fmt(ts.wallMs / js.wallMs, 1)}×). The program stays a TypeScript program because that is how Pulumi runs it and it keeps stacks readable; a very large stack could set \`runtime.options.typescript: false\` and point \`main\` at a compiled \`bin/index.js\`.`,
        );
    const p = per("p12");
    const sgn = per("sign");
    if (p !== undefined && sgn !== undefined) out.push(`- **Crypto:** one PKCS#12 bundle takes ${fmt(p, 1)} ms (node-forge's PKCS#12 key derivation, SHA-1 × 2,048 iterations, three times per bundle), one client certificate ${fmt(sgn, 1)} ms to sign here (a key from Node.js, then a CSR and a signature from the openssl CLI, two processes; the tls provider does all of it in-process in a real run). A stack of 1,000 users pays about ${fmt((p * 1000) / 1000, 0)} s for bundles on a full evaluation.`);
    if (out.length === 0) return [];
    return ["### Reading the results", "", ...out, "", "Not a target here but worth knowing: a real `pulumi up` adds the engine and provider round trips per resource, which these runs leave out; the example stack's real runs are dominated by Cloudflare's and Docker's APIs, not by this program.", ""];
}

// ---------------------------------------------------------------- report

function report(plan: Plan, m: Machine, cells: Cell[], results: ProgramResult[], started: Date, seconds: number): string {
    const targets = dataPlaneTargets(plan, cells);
    const example = find(results, "example", 0, 0);
    if (example) targets.push({ what: "render the example stack in under a second", value: `${fmt(example.wallMs, 1)} ms`, met: example.wallMs < 1000 });
    const out: string[] = [
        "# Benchmarks",
        "",
        `Generated by \`npm run bench${plan.name === "smoke" ? " -- --smoke" : ""}\` on ${started.toISOString().slice(0, 10)} (${fmt(seconds)} s); do not edit by hand. Numbers are from one machine and move between runs by a few percent; compare rows of one run, not runs.`,
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        ...m.rows.map(([k, v]) => `| ${k} | ${v} |`),
        "",
        "## Targets",
        "",
        "| target | result | |",
        "|---|--:|---|",
        ...targets.map((t) => `| ${t.what} | ${t.value} | ${t.met ? "met" : "**missed**"} |`),
        "",
        "## Data plane",
        "",
        "Four paths to the same upstream (an HAProxy answering `200 ok` itself, so the upstream is never the bottleneck), all on loopback, with the same client certificate where one is needed (a user's certificate from the program's own CA, ECDSA P-256):",
        "",
        "- **(a)** the rendered chain: HAProxy (rendered haproxy.cfg) → PROXY v2 → Caddy's mTLS listener (rendered Caddyfile) → upstream; the client comes from the \"WAN\" address 127.0.0.4.",
        "- **(b)** the second seed's design: HAProxy → Caddy mTLS site → a second TLS connection back into Caddy's plain listener with verification off → upstream.",
        "- **(c)** the floor: one Caddy terminating mTLS with the same trust pool, leaf allowlist and site directives, straight to the upstream: the cost of one TLS termination and nothing else.",
        "- **(d)** the trusted path: HAProxy → PROXY v2 → Caddy's plain listener → upstream, from the \"LAN\" address 127.0.0.2, no client certificate.",
        "- **(e)** an experiment, not the product: (a) with `nbthread 1` added to the rendered haproxy.cfg, to show how much of the gap between (a) and (c) is HAProxy's threads competing for this machine's CPUs.",
        "",
        `Load: [vegeta](https://github.com/tsenart/vegeta) as a closed loop (\`-rate=0\`, N workers), HTTP/1.1, TLS session tickets off. *Keep-alive* reuses connections (requests/s); *new TLS connections* sets \`-keepalive=false\`, so every request is a new TCP connection and a full TLS 1.3 handshake with client authentication. Each cell is the median of ${plan.rounds} interleaved rounds of ${plan.seconds} s (each round runs every path, starting one further along). The load generator shares the CPUs with the servers.`,
        "",
        ...dataPlaneTable(plan, cells),
        "",
        ...cpuTable(plan, cells),
        "",
        ...dataPlaneAnalysis(plan, cells),
        "## Program",
        "",
        "Each row is its own Node.js process (`bench/program.ts`), so peak RSS is that of the work measured (Node.js, ts-node and the modules included). Synthetic stacks: services of every shape (native upstreams, private, mtls, public with and without Access, env and volumes); users are plain names. *Evaluate* runs `index.ts` as `pulumi up` would, under Pulumi's mocks (no engine, no providers): every resource registered, every output resolved, every PKCS#12 bundle built; certificate signing is done once and shared, and measured on its own below.",
        "",
        ...programTable(results),
        "",
    ];
    const g = growth(results);
    if (g.length > 0) out.push("Marginal cost (difference between two rows, divided by the added services or users):", "", ...g, "");
    out.push(...programAnalysis(results));
    out.push(
        "## Commands",
        "",
        "```sh",
        "bash scripts/setup.sh            # once: npm ci, HAProxy/OpenSSL from Debian, the Caddy test build, vegeta",
        `npm run bench${plan.name === "smoke" ? " -- --smoke" : ""}`,
        "# one data-plane run by hand, e.g. (a) with keep-alive, 8 workers:",
        "echo 'GET https://cloud.example.dev:18443/' | vegeta attack -rate=0 -workers=8 -max-workers=8 -duration=3s \\",
        "  -http2=false -session-tickets=false -laddr=127.0.0.4 -connect-to=cloud.example.dev:18443:127.0.0.1:18443 \\",
        "  -root-certs=server-ca.pem -cert=dave.pem -key=dave.key | vegeta report",
        "# one program measurement by hand:",
        "node -r ts-node/register/transpile-only bench/program.ts eval 100 1000",
        "```",
        "",
    );
    return out.join("\n");
}

async function main(): Promise<void> {
    const args = process.argv.slice(2);
    const plan = args.includes("--smoke") ? SMOKE : FULL;
    const outIdx = args.indexOf("--out");
    const outFile = outIdx >= 0 && args[outIdx + 1] ? path.resolve(args[outIdx + 1] as string) : plan === SMOKE ? path.join(os.tmpdir(), "homelab-benchmarks-smoke.md") : path.join(ROOT, "docs/benchmarks.md");
    const started = new Date();
    const t0 = Date.now();
    const vegeta = vegetaBinary();
    const m = machine(vegeta);
    process.stderr.write(`data plane (${plan.name}):\n`);
    const cells = await dataPlane(plan, vegeta);
    process.stderr.write(`program (${plan.name}):\n`);
    const results = plan.program.map(([what, s, u]) => programRun(what, s, u));
    const md = report(plan, m, cells, results, started, (Date.now() - t0) / 1000);
    process.stdout.write(md);
    fs.mkdirSync(path.dirname(outFile), { recursive: true });
    fs.writeFileSync(outFile, md);
    process.stderr.write(`wrote ${outFile}\n`);
}

main().catch((e) => {
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    process.exit(1);
});
