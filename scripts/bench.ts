// npm run bench [-- --smoke | --paths <a,b,…> --workers <1,8,32>] [--out <file>] [--shared-network]
// npm run bench -- --from-json <saved run> [--out <file>]
// Runs the data-plane and program-scale benchmarks in one run on this machine, prints a table and
// writes it (with the machine, versions and commands) to docs/benchmarks.md, or with --smoke a
// short run to a temporary file, for CI. Nothing here is a timed assertion: targets are reported
// as met or missed, and a run fails only if a request fails or a measurement cannot be taken.
// --paths and --workers (either or both) run a subset of the full run's data plane, e.g.
// `--paths a,c,f --workers 1,8` to measure one change in a few minutes: the chosen paths (a–h) at
// the chosen worker counts (of the full run's 1, 8, 32), with the full run's rounds and seconds so
// the rows compare with docs/benchmarks.md's, and no program measurements. It writes to a temporary
// file (or --out), never to docs/benchmarks.md, which comes only from a full run; a target whose
// comparison needs a path that did not run shows "–" and names that path (no path is added).
// The data plane runs in a network namespace of its own where the machine allows (Linux, root:
// unshare --net), so an end-to-end run's lab cannot share its ports; --shared-network skips that.
// Unknown flags, paths and worker counts are refused (parseBenchArgs), as are --smoke with a subset
// and --from-json with anything but --out.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFileSync, spawnSync } from "child_process";
import {
    CONFIGS,
    CONFIG_LABEL,
    Config,
    MTLS_CONFIGS,
    QUIET_BELOW,
    Sample,
    UNTRUSTED_POOL,
    busyShare,
    inOwnNetwork,
    NETNS_ENV,
    loadgenArgs,
    loadgenBinary,
    loadgenVegetaVersion,
    measure,
    startRig,
    waitQuiet,
} from "../bench/dataplane";
import { caddyBinary, haproxy3Binary } from "../test/support/binaries";
import { EDGE_LIMITS } from "../render/haproxy";
import versions from "../render/versions.json";

const ROOT = path.resolve(__dirname, "..");

interface Plan {
    name: "full" | "smoke" | "subset";
    /** The data-plane paths, in the table's order. */
    paths: readonly Config[];
    concurrency: readonly number[];
    seconds: number;
    rounds: number;
    /** [what, services, users] for bench/program.ts. */
    program: [string, number, number][];
}

const FULL: Plan = {
    name: "full",
    paths: CONFIGS,
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
    paths: CONFIGS,
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

/** A part of the full run's data plane: its rounds and seconds, so the rows compare with a full run's. */
function subsetPlan(paths: readonly Config[] | undefined, concurrency: readonly number[] | undefined): Plan {
    return {
        ...FULL,
        name: "subset",
        paths: paths ?? FULL.paths,
        concurrency: concurrency ?? FULL.concurrency,
        program: [],
    };
}

/** The command line that makes a run of this plan. */
function command(plan: Plan): string {
    if (plan.name === "smoke") return "npm run bench -- --smoke";
    if (plan.name === "subset")
        return `npm run bench -- --paths ${plan.paths.join(",")} --workers ${plan.concurrency.join(",")}`;
    return "npm run bench";
}

// ---------------------------------------------------------------- arguments

/** A command line this script refuses; main prints the message and the usage, and exits 2. */
export class BenchArgsError extends Error {}

export interface BenchArgs {
    smoke: boolean;
    sharedNetwork: boolean;
    out?: string;
    fromJson?: string;
    /** --paths: a subset of the data plane's paths, in the table's order (a–h); unset: all. */
    paths?: Config[];
    /** --workers: a subset of the full run's worker counts, ascending; unset: all. */
    workers?: number[];
}

export const USAGE =
    "usage: npm run bench [-- --smoke | --paths <a,b,…> --workers <1,8,32>] [--out <file>] [--shared-network]\n" +
    "       npm run bench -- --from-json <saved run> [--out <file>]";

const SWITCHES = ["--smoke", "--shared-network"];
const VALUED: Record<string, string> = {
    "--paths": `a comma-separated list of paths, of ${CONFIGS.join(", ")}`,
    "--workers": `a comma-separated list of worker counts, of ${FULL.concurrency.join(", ")} (the full run's)`,
    "--out": "the file to write the report to",
    "--from-json": "a saved run (the JSON file a run names when it ends)",
};

/** One comma-separated list: no empty items, no item twice. */
function items(flag: string, value: string, valid: string): string[] {
    const xs = value.split(",").map((x) => x.trim());
    if (value.trim() === "") throw new BenchArgsError(`${flag}: the list is empty; give ${valid}`);
    if (xs.includes("")) throw new BenchArgsError(`${flag}: empty item in "${value}"; give ${valid}`);
    const twice = xs.find((x, i) => xs.indexOf(x) !== i);
    if (twice !== undefined) throw new BenchArgsError(`${flag}: ${twice} is listed twice; give ${valid}`);
    return xs;
}

/**
 * The command line after `npm run bench --`, checked: pure, throws BenchArgsError naming the flag
 * and the valid values for anything it does not know. `--flag value` and `--flag=value` both work.
 */
export function parseBenchArgs(argv: readonly string[]): BenchArgs {
    const given = new Map<string, string | true>();
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i] as string;
        const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
        const flag = eq > 0 ? arg.slice(0, eq) : arg;
        let value: string | true;
        if (SWITCHES.includes(flag)) {
            if (eq > 0) throw new BenchArgsError(`${flag} takes no value`);
            value = true;
        } else if (flag in VALUED) {
            const next = eq > 0 ? arg.slice(eq + 1) : argv[++i];
            if (next === undefined || (eq < 0 && next.startsWith("--")))
                throw new BenchArgsError(`${flag} needs a value: ${VALUED[flag]}`);
            value = next;
        } else if (arg.startsWith("-"))
            throw new BenchArgsError(
                `unknown flag ${flag}; the flags are ${[...SWITCHES, ...Object.keys(VALUED)].join(", ")}`,
            );
        else throw new BenchArgsError(`unexpected argument "${arg}": every value follows its flag`);
        if (given.has(flag)) throw new BenchArgsError(`${flag} is given twice`);
        given.set(flag, value);
    }
    const str = (flag: string) => given.get(flag) as string | undefined;
    const out: BenchArgs = { smoke: given.has("--smoke"), sharedNetwork: given.has("--shared-network") };
    if (str("--out") !== undefined) out.out = str("--out");
    if (str("--from-json") !== undefined) out.fromJson = str("--from-json");
    const paths = str("--paths");
    if (paths !== undefined) {
        const xs = items("--paths", paths, VALUED["--paths"] as string);
        const unknown = xs.find((x) => !(CONFIGS as readonly string[]).includes(x));
        if (unknown !== undefined)
            throw new BenchArgsError(`--paths: unknown path "${unknown}"; the paths are ${CONFIGS.join(", ")}`);
        out.paths = CONFIGS.filter((c) => xs.includes(c));
    }
    const workers = str("--workers");
    if (workers !== undefined) {
        const xs = items("--workers", workers, VALUED["--workers"] as string);
        const valid = `the full run's worker counts are ${FULL.concurrency.join(", ")}`;
        const invalid = xs.find((x) => !/^[1-9][0-9]*$/.test(x));
        if (invalid !== undefined)
            throw new BenchArgsError(`--workers: "${invalid}" is not a worker count (a whole number); ${valid}`);
        const unknown = xs.find((x) => !FULL.concurrency.includes(Number(x)));
        if (unknown !== undefined)
            throw new BenchArgsError(
                `--workers: ${unknown} is not one of the full run's worker counts, so its rows would have nothing to compare with in docs/benchmarks.md; ${valid}`,
            );
        out.workers = xs.map(Number).sort((a, b) => a - b);
    }
    const subset = out.paths !== undefined || out.workers !== undefined;
    if (out.smoke && subset)
        throw new BenchArgsError(
            `--smoke cannot be combined with --paths or --workers: --smoke is CI's short run of every path and the program (${SMOKE.rounds} round of ${SMOKE.seconds} s, ${SMOKE.concurrency.join(", ")} workers), a subset is a part of the full run (${FULL.rounds} rounds of ${FULL.seconds} s, workers ${FULL.concurrency.join(", ")}) that compares with docs/benchmarks.md; use one or the other`,
        );
    if (out.fromJson !== undefined) {
        const other = [...given.keys()].filter((f) => f !== "--from-json" && f !== "--out");
        if (other.length > 0)
            throw new BenchArgsError(
                `--from-json writes a saved run's report again and takes only --out, not ${other.join(", ")}: the saved run says what it ran`,
            );
    }
    return out;
}

/**
 * Where a run's report goes: --out if given, docs/benchmarks.md for a full run, a temporary file
 * for a smoke or subset run. docs/benchmarks.md comes only from a full run, also with --out.
 */
export function reportFile(
    plan: Plan["name"],
    out: string | undefined,
    dirs: { root: string; tmp: string; cwd: string } = { root: ROOT, tmp: os.tmpdir(), cwd: process.cwd() },
): string {
    const docs = path.join(dirs.root, "docs/benchmarks.md");
    if (out === undefined) return plan === "full" ? docs : path.join(dirs.tmp, `homelab-benchmarks-${plan}.md`);
    const file = path.resolve(dirs.cwd, out);
    if (plan !== "full" && file === docs)
        throw new BenchArgsError(
            `--out: docs/benchmarks.md comes only from a full run (npm run bench); write this ${plan} run elsewhere`,
        );
    return file;
}

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** "(a)", "(a) and (c)", "(a), (c) and (f)". */
const and = (xs: string[]) => (xs.length < 2 ? xs.join("") : `${xs.slice(0, -1).join(", ")} and ${xs[xs.length - 1]}`);
const workers = (n: number) => `${n} worker${n === 1 ? "" : "s"}`;
const fmt = (n: number, digits = 0) =>
    n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

function firstLine(cmd: string, args: string[]): string {
    try {
        return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
            .split("\n")[0]!
            .trim();
    } catch {
        return "unavailable";
    }
}

/** The TLS library an HAProxy runs on (`haproxy -vv`), e.g. "OpenSSL 3.0.22". */
function haproxyTlsLibrary(binary: string): string {
    try {
        const vv = execFileSync(binary, ["-vv"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        return (
            vv
                .match(/Running on (\S+) version : (\S+ \S+)/)
                ?.slice(1, 3)
                .join(" ")
                .replace(/^(\S+) \1 /, "$1 ") ?? "an unknown TLS library"
        );
    } catch {
        return "an unknown TLS library";
    }
}

interface Machine {
    rows: [string, string][];
    /** Whether the data plane ran in a network namespace of its own. */
    ownNetwork: boolean;
}

/** The machine table's HAProxy row: the 3.x every HAProxy of the data plane runs. */
export function haproxyRow(): string {
    const v = firstLine(haproxy3Binary(), ["-v"]).replace(/ - https.*$/, "");
    return `${v}, running on ${haproxyTlsLibrary(haproxy3Binary())} (Debian trixie's, for every HAProxy here: the edges, the relay, the seed's chain and the upstream; the stack runs ${versions.haproxyImage}, a Mac's native edge Homebrew's 3.x)`;
}

function machine(): Machine {
    const cpus = os.cpus();
    return {
        ownNetwork: process.env[NETNS_ENV] !== undefined,
        rows: [
            ["CPU", `${cpus[0]?.model ?? "unknown"} × ${cpus.length}`],
            ["Memory", `${fmt(os.totalmem() / 2 ** 30, 1)} GiB`],
            ["OS", `${os.type()} ${os.release()} (${os.arch()})`],
            ["Node.js", process.version],
            [
                "Caddy",
                `${firstLine(caddyBinary(), ["version"]).split(" ")[0]} + caddy-dns/cloudflare ${versions.caddyDnsCloudflare} (the test build of the pinned image)`,
            ],
            ["HAProxy", haproxyRow()],
            ["OpenSSL", firstLine("openssl", ["version"])],
            [
                "vegeta",
                `${loadgenVegetaVersion()} (its attack library, in bench/loadgen, built with ${firstLine("go", ["env", "GOVERSION"])})`,
            ],
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
    /** The most new connections any one source address opened in one run of this cell. */
    mostFromOneAddress: number;
    /** (max − min) / median of the rounds' requests/s. */
    spread: number;
}

/** Time the program measurements waited for an idle machine before starting. */
const programWait = { waitedMs: 0, busyStarts: 0 };

/** What the benchmark saw of other work on the machine (see quietSample). */
const interference = { samples: 0, waitedMs: 0, repeated: 0, busyStarts: 0 };

/**
 * One run on a quiet machine: waits until nothing else uses the CPUs (up to 3 minutes), runs, and
 * runs again (up to twice) if the machine is busy right after, i.e. something else started meanwhile.
 */
function quietSample(run: () => Sample): Sample {
    for (let attempt = 0; ; attempt++) {
        const before = waitQuiet(180_000);
        interference.waitedMs += before.waitedMs;
        if (!before.quiet) interference.busyStarts++;
        const s = run();
        interference.samples++;
        const after = busyShare();
        if (after < QUIET_BELOW || attempt === 2) return s;
        interference.repeated++;
        process.stderr.write(
            `    the machine was ${fmt(after * 100)}% busy after that run: something else is running; repeating it\n`,
        );
    }
}

async function dataPlane(plan: Plan, loadgen: string): Promise<Cell[]> {
    const rig = await startRig(loadgen);
    const samples: Sample[] = [];
    try {
        for (const concurrency of plan.concurrency) {
            for (const mode of MODES) {
                for (let round = 0; round < plan.rounds; round++) {
                    // Interleaved: every round runs every path, starting one further along each time.
                    const order = plan.paths.map((_, i) => plan.paths[(i + round) % plan.paths.length] as Config);
                    for (const config of order) {
                        const s = quietSample(() => measure(rig, config, mode, concurrency, plan.seconds, round));
                        if (s.success < 1)
                            throw new Error(
                                `${CONFIG_LABEL[config]} (${mode}, ${concurrency} workers): only ${fmt(s.success * 100, 2)}% of requests succeeded`,
                            );
                        samples.push(s);
                        process.stderr.write(
                            `  ${config} ${mode.padEnd(9)} c=${String(concurrency).padEnd(3)} round ${round + 1}: ${fmt(s.rps)} req/s, p50 ${fmt(s.p50ms, 2)} ms, p99 ${fmt(s.p99ms, 2)} ms\n`,
                        );
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
            for (const config of plan.paths) {
                const xs = samples.filter(
                    (s) => s.config === config && s.mode === mode && s.concurrency === concurrency,
                );
                const cpuUs = Object.fromEntries(
                    Object.keys(xs[0]?.cpuUs ?? {}).map((k) => [k, median(xs.map((s) => s.cpuUs[k] as number))]),
                );
                cells.push({
                    config,
                    mode,
                    concurrency,
                    rounds: xs.length,
                    rps: median(xs.map((s) => s.rps)),
                    p50ms: median(xs.map((s) => s.p50ms)),
                    p99ms: median(xs.map((s) => s.p99ms)),
                    cpuUs,
                    mostFromOneAddress: Math.max(...xs.map((s) => s.mostFromOneAddress)),
                    spread:
                        (Math.max(...xs.map((s) => s.rps)) - Math.min(...xs.map((s) => s.rps))) /
                        median(xs.map((s) => s.rps)),
                });
            }
    return cells;
}

function interferenceNote(): string {
    const i = interference;
    if (i.waitedMs < 5_000 && i.repeated === 0 && i.busyStarts === 0)
        return `in this run nothing else was running (${fmt(i.samples)} runs).`;
    return `in this run it waited ${fmt(i.waitedMs / 1000)} s in all for other work to finish, repeated ${fmt(i.repeated)} of ${fmt(i.samples)} runs${i.busyStarts > 0 ? `, and ${fmt(i.busyStarts)} runs had to start on a busy machine after 3 minutes of waiting` : ""}.`;
}

/** How much the rounds of one cell disagree, in this run. */
function variation(plan: Plan, cells: Cell[]): string {
    if (plan.rounds < 2)
        return "this run has one round per cell, so it says nothing about how much. Compare rows of one run, not runs.";
    const spreads = cells.map((c) => c.spread * 100);
    return `in this run the ${plan.rounds} rounds of one cell differ in requests/s by ${fmt(median(spreads))}% at the median (highest minus lowest, over their median) and by up to ${fmt(Math.max(...spreads))}%. Each cell is the median of its rounds; compare rows of one run, not runs, and treat differences smaller than about ${fmt(median(spreads))}% as noise.`;
}

function cell(cells: Cell[], config: Config, mode: Sample["mode"], concurrency: number): Cell {
    return cells.find((c) => c.config === config && c.mode === mode && c.concurrency === concurrency) as Cell;
}

interface Target {
    what: string;
    value: string;
    met: boolean;
    /** Paths the target compares that this run (a subset) left out: then it shows "–" and names them. */
    notRun?: Config[];
}

function dataPlaneTargets(plan: Plan, cells: Cell[]): Target[] {
    const out: Target[] = [];
    /** A target comparing two paths; "–" with a note if either did not run (none is added to the run). */
    const compare = (
        what: string,
        x: Config,
        y: Config,
        ratio: () => number,
        value: (r: number) => string,
        min: number,
    ) => {
        const notRun = [x, y].filter((c) => !plan.paths.includes(c));
        if (notRun.length > 0) {
            out.push({ what, value: "–", met: false, notRun });
            return;
        }
        const r = ratio();
        out.push({ what, value: value(r), met: r >= min });
    };
    for (const concurrency of plan.concurrency) {
        for (const mode of MODES)
            compare(
                `(a) within 10% of (c), ${mode === "keepalive" ? "requests/s (keep-alive)" : "new TLS connections/s"}, ${workers(concurrency)}`,
                "a",
                "c",
                () => cell(cells, "a", mode, concurrency).rps / cell(cells, "c", mode, concurrency).rps,
                (r) => `${fmt(r * 100, 1)}% of (c)`,
                0.9,
            );
        compare(
            `(a) ≥ 1.3× (b), requests/s (keep-alive), ${workers(concurrency)}`,
            "a",
            "b",
            () => cell(cells, "a", "keepalive", concurrency).rps / cell(cells, "b", "keepalive", concurrency).rps,
            (r) => `${fmt(r, 2)}×`,
            1.3,
        );
        // The edge's cost (the fifth issue's goals): new connections at least as cheap as the
        // hand-made chain, and the Mac edge close to Caddy alone.
        const share = (x: Config, y: Config, mode: Sample["mode"]) => () =>
            cell(cells, x, mode, concurrency).rps / cell(cells, y, mode, concurrency).rps;
        compare(
            `(a) ≥ (b), new TLS connections/s, ${workers(concurrency)}`,
            "a",
            "b",
            share("a", "b", "handshake"),
            (r) => `${fmt(r, 2)}×`,
            1,
        );
        compare(
            `(f) ≥ 70% of (c), new TLS connections/s, ${workers(concurrency)}`,
            "f",
            "c",
            share("f", "c", "handshake"),
            (r) => `${fmt(r * 100, 1)}% of (c)`,
            0.7,
        );
        if (concurrency <= 8)
            compare(
                `(f) within 15% of (c), requests/s (keep-alive), ${workers(concurrency)}`,
                "f",
                "c",
                share("f", "c", "keepalive"),
                (r) => `${fmt(r * 100, 1)}% of (c)`,
                0.85,
            );
    }
    return out;
}

/** The status column of a target: met, missed, or which of its paths this subset left out. */
function targetStatus(t: Target): string {
    if (t.notRun) return `not measured: ${t.notRun.map((c) => `(${c})`).join(" and ")} not in this run`;
    return t.met ? "met" : "**missed**";
}

function dataPlaneTable(plan: Plan, cells: Cell[]): string[] {
    const lines = [
        "| path | workers | keep-alive req/s | p50 ms | p99 ms | new TLS conn/s | p50 ms | p99 ms |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ];
    for (const concurrency of plan.concurrency)
        for (const config of plan.paths) {
            const k = cell(cells, config, "keepalive", concurrency);
            const h = cell(cells, config, "handshake", concurrency);
            lines.push(
                `| ${CONFIG_LABEL[config]} | ${concurrency} | ${fmt(k.rps)} | ${fmt(k.p50ms, 2)} | ${fmt(k.p99ms, 2)} | ${fmt(h.rps)} | ${fmt(h.p50ms, 2)} | ${fmt(h.p99ms, 2)} |`,
            );
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
        "| path | load | HAProxy (the edge) | of which the relay | Caddy | upstream | whole machine |",
        "|---|---|--:|--:|--:|--:|--:|",
    ];
    for (const mode of MODES)
        for (const config of plan.paths) {
            const c = cell(cells, config, mode, concurrency);
            lines.push(
                `| ${config} | ${mode === "keepalive" ? "keep-alive" : "new TLS connections"} | ${us(c, "haproxy")} | ${us(c, "relay")} | ${us(c, "caddy")} | ${us(c, "upstream")} | ${us(c, "machine")} |`,
            );
        }
    lines.push(
        "",
        "For (f) and (g) the edge is both HAProxy processes, the native edge and the relay; the relay's share is shown on its own. (b), (c) and (h) run in one Caddy of their own, (a), (d), (e), (f) and (g) in the lab's.",
    );
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
        execFileSync(
            process.execPath,
            [
                require.resolve("typescript/bin/tsc"),
                "-p",
                ROOT,
                "--outDir",
                compiled,
                "--noEmit",
                "false",
                "--sourceMap",
                "false",
            ],
            { stdio: "inherit" },
        );
        fs.copyFileSync(path.join(ROOT, "Pulumi.home.yaml"), path.join(compiled, "Pulumi.home.yaml"));
        // The shell scripts the components read at run time (render/shell.ts).
        fs.cpSync(path.join(ROOT, "shell"), path.join(compiled, "shell"), { recursive: true });
        fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(compiled, "node_modules"));
        process.on("exit", () => fs.rmSync(compiled as string, { recursive: true, force: true }));
    }
    return compiled;
}

function programRun(what: string, services: number, users: number): ProgramResult {
    const before = waitQuiet(180_000);
    programWait.waitedMs += before.waitedMs;
    if (!before.quiet) programWait.busyStarts++;
    const js = what === "evaljs";
    const args = js
        ? [path.join(compiledTree(), "bench/program.js"), "eval", String(services), String(users)]
        : [
              "-r",
              "ts-node/register/transpile-only",
              path.join(ROOT, "bench/program.ts"),
              what,
              String(services),
              String(users),
          ];
    const r = spawnSync(process.execPath, args, {
        cwd: js ? compiledTree() : ROOT,
        encoding: "utf8",
        timeout: 20 * 60_000,
        env: { ...process.env, TS_NODE_PROJECT: path.join(ROOT, "tsconfig.json") },
    });
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
    const lines = [
        "| measurement | services | users | wall ms | of which GC ms | peak RSS MB |",
        "|---|--:|--:|--:|--:|--:|",
    ];
    for (const r of results) {
        const svc = r.what === "sign" || r.what === "p12" ? "–" : String(r.counts?.services ?? r.services);
        const users = r.what === "sign" || r.what === "p12" ? String(r.services) : String(r.counts?.users ?? r.users);
        lines.push(
            `| ${PROGRAM_LABEL[r.what] ?? r.what}${r.runs ? ` (warm, median of ${r.runs})` : ""} | ${svc} | ${users} | ${fmt(r.wallMs, 1)} | ${fmt(r.gcMs, 1)} | ${fmt(r.maxRssMb)} |`,
        );
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
    const step = (
        label: string,
        a: ProgramResult | undefined,
        b: ProgramResult | undefined,
        per: (r: ProgramResult) => number,
        unit: string,
    ) => {
        if (!a || !b) return;
        const d = per(b) - per(a);
        const wall = (b.wallMs - a.wallMs) / d;
        const cpu = (b.wallMs - b.gcMs - (a.wallMs - a.gcMs)) / d;
        const rss = b.maxRssMb - a.maxRssMb;
        lines.push(
            `| ${label} | ${per(a)} → ${per(b)} | ${fmt(wall, 3)} ms | ${fmt(cpu, 3)} ms | ${Math.abs(rss) < RSS_NOISE_MB ? "≈ 0" : `${fmt(rss / d, 3)} MB`} | per ${unit} |`,
        );
    };
    for (const [w, u] of [
        ["render", 1000],
        ["eval", 0],
    ] as const) {
        const pts = [12, 100, 1000].map((s) => find(results, w, s, u));
        step(`${w}, ${fmt(u)} users`, pts[0], pts[1], (r) => r.services, "service");
        step(`${w}, ${fmt(u)} users`, pts[1], pts[2], (r) => r.services, "service");
    }
    const users = [0, 250, 500, 1000].map((u) => find(results, "eval", 12, u));
    for (let i = 0; i + 1 < users.length; i++)
        step("eval, 12 services", users[i], users[i + 1], (r) => r.users, "user");
    if (lines.length === 0) return [];
    return [
        "| measurement | range | wall | wall minus GC | peak RSS | unit |",
        "|---|---|--:|--:|--:|---|",
        ...lines,
        "",
        `≈ 0: the two rows' peak RSS differ by less than ${RSS_NOISE_MB} MB, which is Node.js's own run-to-run variation; the work adds no memory that can be measured.`,
    ];
}

/** What the threads experiment (e) shows, given its ratios to (a) for keep-alive and new connections. */
function oneThread(keepalive: number, handshake: number): string {
    const change = (r: number) => `${r >= 1 ? "+" : "−"}${fmt(Math.abs(r - 1) * 100)}%`;
    const measured = `(${change(keepalive)} and ${change(handshake)} against the rendered one thread)`;
    const faster = [keepalive, handshake].filter((r) => r >= 1.1).length;
    if (faster === 0)
        return `HAProxy's default threads are not faster here ${measured}; the rendered config's one thread spends less CPU per connection (the table above), which is why it is the default.`;
    return `HAProxy's default threads are faster here ${measured}: read that against this run's variation; the rendered config keeps one thread, which a home's traffic does not outgrow.`;
}

/** Caddy's CPU per request and per connection behind the Mac edge (f) and the Linux edge (a). */
function caddyBehindEdges(kf: number, ka: number, hf: number, ha: number): string {
    const same = [kf / ka, hf / ha].every((r) => Math.abs(r - 1) < 0.1);
    const numbers = `${fmt(kf)} against ${fmt(ka)} µs per request, ${fmt(hf)} against ${fmt(ha)} µs per connection`;
    if (same) return `Caddy's share hardly moves (${numbers}): it does the same work behind either edge.`;
    return `Caddy does the same work behind either edge (the same listener, the same PROXY header from the same address) and is charged ${numbers}: on CPUs this few, shared by more busy processes in (f), the CPU time of the same work also grows with contention (caches, scheduling), so read that column's difference as contention, not as work the Mac edge adds to Caddy.`;
}

/** The edge's CPU per new connection on the Mac edge's trusted path (g) and its mTLS path (f). */
function sameRelayCost(g: number, f: number): string {
    const r = g / f;
    if (Math.abs(r - 1) < 0.15)
        return `That is about what (f) costs the edge (${fmt(f)} µs): the relay's hop (a PROXY header with the secret) is the edge's own connection, whether or not the client inside presents a certificate.`;
    return `(f) costs the edge ${fmt(f)} µs per connection: the relay's hop is the edge's own connection either way, so a difference this size (${fmt(Math.abs(r - 1) * 100)}%) is most likely this run's variation.`;
}

/**
 * What was tried to make new connections through the edge cheaper (the fifth issue), measured with
 * subset runs side by side, and kept here because a full run measures only what is.
 */
function edgeCostTried(): string[] {
    return [
        "### The edge's cost: what was tried",
        "",
        "Measured on this machine on 2026-12-04 with `npm run bench -- --paths a,b,c,f --workers 1,8` (the third run without (b)), one change at a time; compare within a run. Keep-alive requests/s and new TLS connections/s, and the edge's CPU time per request at 8 workers (the steadier measure):",
        "",
        "| run | (a) 1 / 8 workers | (b) 1 / 8 | (c) 1 / 8 | (f) 1 / 8 | (f) share of (c), new conn. | edge CPU µs, (a) / (f), keep-alive | new conn. |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
        "| 1. before: relay by mutual TLS, HAProxy's default threads | 2,232 / 6,814 · 528 / 1,086 | 1,359 / 4,535 · 466 / 1,051 | 2,701 / 9,088 · 623 / 1,346 | 1,599 / 5,430 · 292 / 602 | 47% / 45% | 31 / 86 | 199 / 1,554 |",
        "| 2. the edge's secret in a PROXY v2 TLV, no TLS between edge and relay | 2,503 / 7,287 · 558 / 1,131 | 1,499 / 4,698 · 502 / 1,094 | 3,022 / 9,340 · 678 / 1,386 | 2,146 / 6,483 · 499 / 990 | 74% / 71% | 30 / 56 | 189 / 351 |",
        "| 3. and every HAProxy on one thread (`nbthread 1`) | 2,417 / 7,875 · 542 / 1,143 | – | 2,868 / 8,585 · 661 / 1,344 | 2,116 / 6,831 · 499 / 1,030 | 75% / 77% | 23 / 39 | 148 / 254 |",
        "",
        "(Each path cell: keep-alive requests/s at 1 / 8 workers · new TLS connections/s at 1 / 8 workers.)",
        "",
        "- **Kept: the edge's secret instead of mutual TLS to the relay.** The relay's handshake with the edge was most of the Mac edge's cost per new connection (1,554 µs of the edge's CPU, of which the relay 745). HAProxy already resumed its TLS session with the relay (its default, which the configs kept), so what remained was a TLS 1.3 resumption with a fresh key exchange on both sides, per connection. A 256-bit secret in a TLV of the PROXY header that the edge already sent, checked by its SHA-256, costs a hash: the edge's CPU per new connection fell to 351 µs, and (f) went from under half of (c) to over 70%. Is it safe on the Mac's loopback against every container? A container reaches the relay's port like the edge, so it can send any header, but not the secret: no container may mount the folders it is written to (homelab:docker.dataDir), the relay's folder holds only its hash, and the hop it travels (the Mac's loopback into the relay's own network, where only Caddy sits beside it) passes no container. The e2e suite sends the relay forged headers, a wrong secret, the hash, the secret one character short and the secret in another TLV, from a container's address and the WAN's: none gets a byte to Caddy.",
        "- **Kept: one thread.** Without TLS between them, every HAProxy here is a TCP proxy; with one thread the edge spends about a quarter less CPU per request and per connection (no locks around the stick tables, one fewer thread competing with Caddy and the load generator for two CPUs), and a home's traffic needs a fraction of one core. (e) keeps HAProxy's default beside it.",
        "- **Not changed: the edge waits for the ClientHello before it connects to Caddy.** Connecting first would save a loopback round trip per connection but give every silent connection a second socket at Caddy; the short pre-handshake timeouts and per-source limits are worth more than that.",
        "- **Not reached: (a) and (f) within 10% and 15% of (c) for keep-alive.** Every request through the edge crosses one more process and one more loopback connection (about 20–40 µs of CPU on this machine, where the load generator, Caddy and the proxies share two CPUs); (c) has neither. On a machine with more CPUs than busy processes, or with the client elsewhere, the gap narrows; the edge's per-request CPU is the number to watch. What the gap is made of was measured next.",
        "",
        "**What the keep-alive gap is made of.** Measured on 2026-12-05 with `npm run bench:variants` (bench/edge-variants.ts: each variant of the rendered container edge on a port of its own beside the rig, in front of the lab's Caddy, and a Go forwarder in front of the floor; 3 interleaved rounds of 3 s, keep-alive; 1 worker and 8 workers in two runs, the machine otherwise idle):",
        "",
        "| variant | 1 worker: req/s | of (c) | 8 workers: req/s | of (c) | edge CPU µs/req, 8 workers |",
        "|---|--:|--:|--:|--:|--:|",
        "| (c) the floor, no hop | 3,111 | 100% | 9,818 | 100% | – |",
        "| (h) a bare HAProxy hop (no rules, no PROXY header) | 2,526 | 81% | 8,126 | 83% | 21 |",
        "| the rendered edge, unchanged | 2,518 | 81% | 7,964 | 81% | 22 |",
        "| its global and defaults, a frontend with no rules (PROXY v2 to Caddy) | 2,565 | 82% | 8,053 | 82% | 21 |",
        "| + `busy-polling` (the poller never sleeps) | 2,124 | 68% | 4,753 | 48% | 144 |",
        "| + `tune.sched.low-latency on` | 2,513 | 81% | 7,827 | 80% | 22 |",
        "| + `tune.disable-zero-copy-forwarding` | 2,535 | 82% | 7,851 | 80% | 22 |",
        "| + `option splice-auto` | 2,482 | 80% | 8,027 | 82% | 21 |",
        "| a Go forwarder (`io.Copy` both ways; bench/forwarder), no PROXY header | 2,389 | 77% | 7,478 | 76% | 35 |",
        "",
        "- **The rules cost nothing per request; the hop is the gap.** A keep-alive request meets none of the edge's rules (they run once per connection), and the rendered edge is within this run's noise of an HAProxy with no rules at all, and of a bare hop with no PROXY header either: every one serves about 80% of (c)'s requests/s at both worker counts. A forwarder that is not HAProxy does no better (77%, 76%). So no setting of the edge's config can bring (a) within 10% of (c) for keep-alive on this machine, and (f), which has two hops, cannot come within 15%. The full run's (h) row shows the same every time it runs.",
        "- **Dropped: busy polling** (HAProxy's answer to slow wake-ups in VMs) keeps a CPU busy for good: with two CPUs shared by the load generator, Caddy and the proxies, it takes more than it gives (68% and 48% of (c)), and a homelab's edge must idle. **Dropped:** the low-latency scheduler, zero-copy forwarding off and kernel splicing: all within noise of the rendered config. The VM's guest halt-polling (`/sys/module/haltpoll/parameters/guest_halt_poll_ns`, 0 on this machine) set to the kernel's default of 200 µs for one subset run moved nothing either; it was set back.",
        "- **What would remove the hop:** only a design without a process between the client and Caddy: Caddy choosing client authentication by source address itself (its `remote_ip` handshake matcher, JSON config only), or the kernel splitting by source (nftables DNAT, which keeps the client's address without a PROXY header). Both would drop what the edge does before TLS (the per-source limits, the short wait for a ClientHello, the split with nothing terminated), and on a Mac the split has to happen outside Docker anyway. The design keeps the edge; these keep-alive targets are out of reach of it on this machine.",
        "",
    ];
}

/**
 * (h) against (c) and (a) against (h), keep-alive, at the worker counts the keep-alive targets name
 * (1 and 8): what any process in front of Caddy costs here, and what the rendered edge adds to it.
 */
function bareHop(plan: Plan, cells: Cell[]): string[] {
    const at = plan.concurrency.filter((n) => n <= 8);
    if (at.length === 0 || !["a", "c", "h"].every((c) => plan.paths.includes(c as Config))) return [];
    const rps = (c: Config, n: number) => cell(cells, c, "keepalive", n).rps;
    const list = (f: (n: number, i: number) => string) => and(at.map(f));
    const hop = at.map((n) => rps("h", n) / rps("c", n));
    const edge = at.map((n) => rps("a", n) / rps("h", n));
    const verdict = hop.every((r) => r < 0.9)
        ? "so a process with no rules at all already misses the keep-alive target of (a) within 10% of (c): what is left of the gap is the hop, not the edge's rules."
        : "so a bare hop can be within 10% of (c) here: what the rendered edge adds to it is the part of the gap to work on.";
    return [
        `- **The hop alone** (h), keep-alive at ${list((n) => workers(n))}: a bare TCP hop in front of the floor serves ${list((_, i) => `${fmt((hop[i] as number) * 100)}%`)} of (c)'s requests/s, and the rendered edge (a) ${list((_, i) => `${fmt((edge[i] as number) * 100)}%`)} of (h)'s (it also carries the PROXY header and runs in the lab's Caddy). Each request and its response cross one more process and one more loopback connection whatever that process does, ${verdict}`,
    ];
}

/** A signed difference, e.g. "+36 µs" or "−12 µs". */
function signed(d: number, unit: string, digits = 0): string {
    return `${d >= 0 ? "+" : "−"}${fmt(Math.abs(d), digits)} ${unit}`;
}

/** Why the paths land where they do, from this run's own numbers. */
function dataPlaneAnalysis(plan: Plan, cells: Cell[]): string[] {
    const hi = Math.max(...plan.concurrency);
    const lo = Math.min(...plan.concurrency);
    const k = (c: Config) => cell(cells, c, "keepalive", hi);
    const h = (c: Config) => cell(cells, c, "handshake", hi);
    const m = (x: Cell) => x.cpuUs["machine"] ?? 0;
    const cpu = (x: Cell, g: string) => x.cpuUs[g] ?? 0;
    const pct = (a: number, b: number) => `${fmt((a / b - 1) * 100)}%`;
    const share = (a: number, b: number) => `${fmt((a / b) * 100)}% of`;
    const lat = (c: Config, mode: Sample["mode"] = "keepalive") => cell(cells, c, mode, lo).p50ms;
    const L = EDGE_LIMITS;
    // The Mac edge's two processes, apart: the relay is measured on its own, the native edge is the rest.
    const edge = (x: Cell) =>
        `${fmt(cpu(x, "haproxy"))} µs (native edge ${fmt(cpu(x, "haproxy") - cpu(x, "relay"))}, relay ${fmt(cpu(x, "relay"))})`;
    return [
        "### Reading the results",
        "",
        `- **(a) against (b).** The seed's design terminates TLS twice per request (the client's mTLS, then Caddy's own loop back into the plain listener) and proxies HTTP twice inside Caddy: Caddy spends ${fmt(cpu(k("b"), "caddy"))} µs per keep-alive request in (b) against ${fmt(cpu(k("a"), "caddy"))} µs in (a). Routing the mTLS listener straight to the services removes that, which is where the ${fmt(k("a").rps / k("b").rps, 2)}× comes from.`,
        `- **(a) against (c).** With ${hi} workers every CPU of this machine is busy (the load generator shares them), so requests/s is set by CPU time per request. (a) costs ${fmt(m(k("a")))} µs of machine CPU per keep-alive request against ${fmt(m(k("c")))} µs for (c) (${pct(m(k("a")), m(k("c")))} more), and ${fmt(m(h("a")))} µs against ${fmt(m(h("c")))} µs per new TLS connection (${pct(m(h("a")), m(h("c")))} more). The difference is the extra hop: HAProxy itself (${fmt(cpu(k("a"), "haproxy"))} µs per request, ${fmt(cpu(h("a"), "haproxy"))} µs per connection), a second loopback TCP connection in the kernel, and Caddy reading the PROXY header. No setting of the rendered chain removes a process hop.`,
        ...bareHop(plan, cells),
        `- **Why the hop is there.** Not because Caddy could not choose client authentication by source address: its TLS connection policies can match the client's address during the handshake (the \`remote_ip\` handshake matcher, \`tls.handshake_match.remote_ip\`), so one Caddy could in principle demand a certificate only from untrusted addresses. The hop is there because (1) the product's design asks for an L4 edge that splits by source before any TLS is terminated; (2) the :80 redirect, the per-source limits (at most ${L.perSource} concurrent and ${L.perSourceRate10s} new connections per 10 s from one untrusted address, ${fmt(L.untrustedTotal)} untrusted connections in all) and the ${L.helloTimeout.replace(/^(\d+)s$/, "$1 s")} allowed for sending a ClientHello are L4 work that HAProxy does before a connection reaches Caddy; (3) on a Mac no container sees client addresses at all (Docker Desktop, OrbStack and Colima forward published ports from a gateway address), so the split has to happen on the host, outside Docker, which is the shape (f) and (g) measure; and (4) the Caddyfile cannot express the \`remote_ip\` handshake matcher (only Caddy's JSON config can), and this program renders a Caddyfile.`,
        `- **Without CPU contention** (${workers(lo)}) requests/s is one over the round trip, and the hop adds ${fmt((lat("a") - lat("c")) * 1000)} µs to the median keep-alive latency (${fmt(lat("a"), 2)} ms for (a), ${fmt(lat("c"), 2)} ms for (c)) and ${fmt((lat("a", "handshake") - lat("c", "handshake")) * 1000)} µs to a new connection's (${fmt(lat("a", "handshake"), 2)} ms against ${fmt(lat("c", "handshake"), 2)} ms): a new mTLS connection is several round trips (TCP, the TLS 1.3 flights with the client's certificate, then the request), and each crosses the extra process. That is a large share of a loopback round trip and a negligible one of any real client's: over a home uplink or a phone network the round trip is tens of milliseconds.`,
        `- **The Mac edge (f) against the Linux edge (a).** (f) carries the client's connection through two HAProxy processes joined by a plain TCP connection: the native edge sends the relay a PROXY v2 header with the edge's secret in a TLV, the relay compares the secret's SHA-256 with its file, and the client's own TLS with Caddy runs inside, end to end. (Until this version that hop was mutual TLS with the edge's own CA: docs/benchmarks.md's earlier runs have (f) at 36–42% of (c) for new connections, the edge spending most of it on that handshake.) At ${workers(hi)}, (f) serves ${fmt(k("f").rps)} keep-alive requests/s against ${fmt(k("a").rps)} for (a) (${share(k("f").rps, k("a").rps)} (a)) and ${fmt(h("f").rps)} new connections/s against ${fmt(h("a").rps)} (${share(h("f").rps, h("a").rps)} (a)). Per keep-alive request the machine spends ${fmt(m(k("f")))} µs against ${fmt(m(k("a")))} µs (${signed(m(k("f")) - m(k("a")), "µs")}, ${pct(m(k("f")), m(k("a")))}); the edge spends ${edge(k("f"))} where the container edge spends ${fmt(cpu(k("a"), "haproxy"))} µs: each request and response crosses one more HAProxy and one more loopback connection. Per new connection the machine spends ${fmt(m(h("f")))} µs against ${fmt(m(h("a")))} µs (${signed(m(h("f")) - m(h("a")), "µs")}, ${pct(m(h("f")), m(h("a")))}); the edge ${edge(h("f"))} against ${fmt(cpu(h("a"), "haproxy"))} µs: every client connection is also a new TCP connection from the native edge to the relay, with a PROXY header and one SHA-256 of the secret, on top of the client's handshake with Caddy. ${caddyBehindEdges(cpu(k("f"), "caddy"), cpu(k("a"), "caddy"), cpu(h("f"), "caddy"), cpu(h("a"), "caddy"))}`,
        `- **The Mac edge without contention** (${workers(lo)}): the median keep-alive request takes ${fmt(lat("f"), 2)} ms against ${fmt(lat("a"), 2)} ms for (a) (${signed((lat("f") - lat("a")) * 1000, "µs")}), and a new connection ${fmt(lat("f", "handshake"), 2)} ms against ${fmt(lat("a", "handshake"), 2)} ms (${signed((lat("f", "handshake") - lat("a", "handshake")) * 1000, "µs")}): the native edge opens its connection to the relay only once the client's ClientHello has arrived, so the client's handshake with Caddy waits for that connection too.`,
        `- **The trusted path on the Mac edge** (g) against (d): ${fmt(k("g").rps)} against ${fmt(k("d").rps)} keep-alive requests/s and ${fmt(h("g").rps)} against ${fmt(h("d").rps)} new connections/s at ${workers(hi)}; per new connection the edge spends ${edge(h("g"))} against ${fmt(cpu(h("d"), "haproxy"))} µs. ${sameRelayCost(cpu(h("g"), "haproxy"), cpu(h("f"), "haproxy"))}`,
        `- **What the rig leaves out for the Mac:** everything here runs on one Linux host, so the relay's ports are plain loopback listeners. On a Mac the native edge reaches the relay through the port that Docker Desktop, OrbStack or Colima publishes on 127.0.0.1 and forwards into its Linux VM, one more copy of every byte that this rig does not measure; (f) and (g) are the cost of the extra process and its hop alone.`,
        `- **(e)**, HAProxy on one thread per CPU: ${fmt(k("e").rps)} keep-alive requests/s and ${fmt(h("e").rps)} new connections/s against ${fmt(k("a").rps)} and ${fmt(h("a").rps)} for (a). ${oneThread(k("e").rps / k("a").rps, h("e").rps / h("a").rps)}`,
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
    const slope = (
        a?: ProgramResult,
        b?: ProgramResult,
        x: (p: ProgramResult) => number = (p) => p.services,
        gc = false,
    ) => (a && b ? (b.wallMs - (gc ? b.gcMs : 0) - (a.wallMs - (gc ? a.gcMs : 0))) / (x(b) - x(a)) : undefined);
    const r1 = slope(r(12), r(100));
    const r2 = slope(r(100), r(1000));
    if (r1 !== undefined && r2 !== undefined)
        out.push(
            `- **Rendering** grows by ${fmt(r1 * 1000)} µs per service from 12 to 100 services and ${fmt(r2 * 1000)} µs per service from 100 to 1,000: ${Math.max(r1, r2) < 1.5 * Math.min(r1, r2) ? "linear" : "not the same per service in both steps, but microseconds either way"}. 1,000 services with 1,000 users render in ${fmt(r(1000)?.wallMs ?? 0)} ms.`,
        );
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
    if (p !== undefined && sgn !== undefined)
        out.push(
            `- **Crypto:** one PKCS#12 bundle takes ${fmt(p, 1)} ms (node-forge's PKCS#12 key derivation, SHA-1 × 2,048 iterations, three times per bundle), one client certificate ${fmt(sgn, 1)} ms to sign here (a key from Node.js, then a CSR and a signature from the openssl CLI, two processes; the tls provider does all of it in-process in a real run). A stack of 1,000 users pays about ${fmt((p * 1000) / 1000, 0)} s for bundles on a full evaluation.`,
        );
    if (out.length === 0) return [];
    return [
        "### Reading the results",
        "",
        ...out,
        "",
        "Not a target here but worth knowing: a real `pulumi up` adds the engine and provider round trips per resource, which these runs leave out; the example stack's real runs are dominated by Cloudflare's and Docker's APIs, not by this program.",
        "",
    ];
}

// ---------------------------------------------------------------- report

function report(
    plan: Plan,
    m: Machine,
    cells: Cell[],
    results: ProgramResult[],
    started: Date,
    seconds: number,
): string {
    const targets = dataPlaneTargets(plan, cells);
    const example = find(results, "example", 0, 0);
    if (example)
        targets.push({
            what: "render the example stack in under a second",
            value: `${fmt(example.wallMs, 1)} ms`,
            met: example.wallMs < 1000,
        });
    const subset = plan.name === "subset";
    const mtls = cells.filter((c) => MTLS_CONFIGS.includes(c.config));
    const paths = and(plan.paths.map((c) => `(${c})`));
    const otherPaths = FULL.paths.filter((c) => !plan.paths.includes(c));
    const otherWorkers = FULL.concurrency.filter((n) => !plan.concurrency.includes(n));
    const leftOut = [
        otherPaths.length > 0
            ? `${otherPaths.length === 1 ? "path" : "paths"} ${and(otherPaths.map((c) => `(${c})`))}, `
            : "",
        otherWorkers.length > 0
            ? `${and(otherWorkers.map(String))} ${otherWorkers.length === 1 && otherWorkers[0] === 1 ? "worker" : "workers"}, `
            : "",
    ].join("");
    const out: string[] = [
        subset
            ? `# Benchmarks: a subset (paths ${plan.paths.join(", ")}; workers ${plan.concurrency.join(", ")})`
            : "# Benchmarks",
        "",
        `Generated by \`${command(plan)}\` on ${started.toISOString().slice(0, 10)} (${fmt(seconds)} s); do not edit by hand. Numbers are from one machine and they move between runs: ${variation(plan, cells)}`,
        "",
        ...(subset
            ? [
                  `**A subset of the full run:** ${plan.paths.length === 1 ? "path" : "paths"} ${paths} at ${and(plan.concurrency.map(String))} ${plan.concurrency.length === 1 && plan.concurrency[0] === 1 ? "worker" : "workers"}, each cell ${plan.rounds} rounds of ${plan.seconds} s as in a full run, so its rows compare with those of docs/benchmarks.md. It leaves out ${leftOut}the program measurements and the reading of the results (which compares every path at the lowest and the highest worker count); a target whose comparison needs a path that did not run shows "–" and names that path. docs/benchmarks.md comes only from a full run (\`npm run bench\`).`,
                  "",
              ]
            : []),
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
        ...targets.map((t) => `| ${t.what} | ${t.value} | ${targetStatus(t)} |`),
        "",
        "## Data plane",
        "",
        `${["No", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine"][CONFIGS.length] ?? CONFIGS.length} paths to the same upstream (an HAProxy answering \`200 ok\` itself, so the upstream is never the bottleneck), all on loopback, with the same client certificate where one is needed (a user's certificate from the program's own CA, ECDSA P-256). The rendered configs are the end-to-end lab's (\`test/e2e/lab.ts\`): both edge shapes side by side in front of one Caddy, which listens on its own address (127.0.0.195) and believes PROXY headers only from HAProxy's fixed address (127.0.0.194).`,
        "",
        "- **(a)** the rendered chain, Linux edge: HAProxy (rendered haproxy.cfg, as the container runs it) → PROXY v2 → Caddy's mTLS listener (rendered Caddyfile) → upstream.",
        "- **(b)** the second seed's design: HAProxy → Caddy mTLS site → a second TLS connection back into Caddy's plain listener with verification off → upstream.",
        "- **(c)** the floor: one Caddy terminating mTLS with the rendered mTLS site, verbatim (trust pool, leaf allowlist, site directives, server options), straight to the upstream: the cost of one TLS termination and nothing else.",
        '- **(d)** the trusted path, Linux edge: HAProxy → PROXY v2 → Caddy\'s plain listener → upstream, from the "LAN" address 127.0.0.2, no client certificate.',
        "- **(e)** an experiment, not the product: (a) with the rendered haproxy.cfg's `nbthread 1` taken out (HAProxy's default: one thread per CPU), to show what the one thread the product runs saves or costs on this machine.",
        "- **(f)** the rendered chain, Mac edge: the native HAProxy (rendered native-edge config, 127.0.0.1:28443) → PROXY v2 with the edge's secret in a TLV → the relay HAProxy (rendered relay config, 127.0.0.1:9443, standing in for the relay container's port published on the Mac's loopback) → PROXY v2 → Caddy's mTLS listener → upstream.",
        "- **(g)** the trusted path, Mac edge: the same two HAProxy processes (relay port 8443) → Caddy's plain listener → upstream, from 127.0.0.2, no client certificate.",
        "- **(h)** a control, not the product: (c) behind a bare TCP hop, an HAProxy on one thread with no rules, no limits and no PROXY header. (h) against (c) is what putting any process between the client and Caddy costs on this machine; (a) against (h) is what the rendered edge adds to a bare hop.",
        "",
        `${m.ownNetwork ? "The data plane runs in a network namespace of its own (`unshare --net`, loopback only), so an end-to-end test run on the same machine, whose lab takes the same ports, cannot share its listeners. " : "The data plane runs in the machine's own network namespace (`unshare --net` was not available), so nothing else may use the lab's ports meanwhile. "}Before every run the benchmark waits until the machine is idle (under ${fmt(QUIET_BELOW * 100)}% of its CPUs busy over half a second) and repeats a run after which it is not, so that other work on the machine stays out of the numbers: ${interferenceNote()}`,
        "",
        `Load: [vegeta](https://github.com/tsenart/vegeta)'s attack engine as a closed loop (\`-rate=0\`, N workers), HTTP/1.1, TLS session tickets off. *Keep-alive* reuses connections (requests/s); *new TLS connections* sets \`-keepalive=false\`, so every request is a new TCP connection and a full TLS 1.3 handshake with the client's certificate on the mTLS paths. Each cell is the median of ${plan.rounds} interleaved rounds of ${plan.seconds} s (each round runs every path, starting one further along). The load generator shares the CPUs with the servers.`,
        "",
        `**Source addresses.** The rendered edge limits every untrusted source address to ${EDGE_LIMITS.perSource} concurrent connections and ${EDGE_LIMITS.perSourceRate10s} new ones per 10 s (${fmt(EDGE_LIMITS.untrustedTotal)} untrusted connections in all), so a load generator opening hundreds of new TLS connections per second from one "WAN" address, as earlier runs of this benchmark did from 127.0.0.4, is refused after its first ${EDGE_LIMITS.perSourceRate10s}: by design, and the benchmark does not loosen the product's limits. The vegeta command binds all its connections to one \`-laddr\`, and several vegeta processes with an address each would not do either: one worker is one process, so one address, and at ${EDGE_LIMITS.perSourceRate10s} new connections per 10 s per address, 1,000 new connections/s need ${fmt(1000 / (EDGE_LIMITS.perSourceRate10s / 10))} or more addresses in use at once. So the load generator is \`bench/loadgen\`: vegeta's own attack library with one change, a dialer that binds each new connection to the next of ${UNTRUSTED_POOL.size} loopback addresses (${UNTRUSTED_POOL.first}–${UNTRUSTED_POOL.last}, untrusted, outside the lab's Docker block), as that many clients would. Every mTLS path, (a) (b) (c) (e) (f) (h), uses the same pool, including those with no limits in front of them, so the rows compare like with like; the trusted paths (d) and (g) come from 127.0.0.2, which the edge does not limit. ${mtls.length > 0 ? `In this run no address opened more than ${fmt(Math.max(...mtls.map((c) => c.mostFromOneAddress)))} new connections in one ${plan.seconds} s run` : "No path of this run uses the pool"}, and every request succeeded.`,
        "",
        ...dataPlaneTable(plan, cells),
        "",
        ...cpuTable(plan, cells),
        "",
    ];
    if (!subset) out.push(...analysisAndProgram(plan, cells, results));
    out.push(
        "## Commands",
        "",
        "```sh",
        "bash scripts/setup.sh            # once: npm ci, HAProxy/OpenSSL from Debian, the Caddy test build, vegeta",
        command(plan),
        ...(subset
            ? []
            : [
                  "# a part of the data plane, to measure one change in a few minutes (no program rows; to a temporary file, not here):",
                  "npm run bench -- --paths a,c,f --workers 1,8",
              ]),
        "# the load generator (npm run bench builds it itself, cached under ~/.cache/homelab):",
        "go -C bench/loadgen build -o /tmp/loadgen .",
        "# one data-plane run by hand, e.g. (f) with new connections, 8 workers (prints vegeta's JSON report):",
        `/tmp/loadgen ${loadgenArgs("f", "handshake", 8, 3, { serverCa: "server-ca.pem", cert: "dave.pem", key: "dave.key" }).join(" ")}`,
        "# one program measurement by hand:",
        "node -r ts-node/register/transpile-only bench/program.ts eval 100 1000",
        "```",
        "",
    );
    return out.join("\n");
}

/** The data plane's reading of the results and the program's section (a full or smoke run). */
function analysisAndProgram(plan: Plan, cells: Cell[], results: ProgramResult[]): string[] {
    const out: string[] = [
        ...dataPlaneAnalysis(plan, cells),
        ...edgeCostTried(),
        "## Program",
        "",
        "Each row is its own Node.js process (`bench/program.ts`), so peak RSS is that of the work measured (Node.js, ts-node and the modules included). Synthetic stacks: services of every shape (native upstreams, private, mtls, public with and without Access, env and volumes); users are plain names. *Evaluate* runs `index.ts` as `pulumi up` would, under Pulumi's mocks (no engine, no providers): every resource registered, every output resolved, every PKCS#12 bundle built; certificate signing is done once and shared, and measured on its own below.",
        "",
        `Each measurement starts on an idle machine (as for the data plane)${programWait.waitedMs >= 5_000 ? `; in this run they waited ${fmt(programWait.waitedMs / 1000)} s in all for other work to finish${programWait.busyStarts > 0 ? `, and ${programWait.busyStarts} started on a busy machine after 3 minutes of waiting` : ""}` : ""}. Wall time still includes whatever else the machine did meanwhile.`,
        "",
        ...programTable(results),
        "",
    ];
    const g = growth(results);
    if (g.length > 0)
        out.push("Marginal cost (difference between two rows, divided by the added services or users):", "", ...g, "");
    out.push(...programAnalysis(results));
    return out;
}

/** Everything a report is made of: saved by every run, so that `--from-json` can write it again. */
interface Raw {
    plan: Plan["name"];
    /** The plan's paths and worker counts (saved since subsets; older saved runs are full or smoke). */
    paths?: Config[];
    concurrency?: number[];
    machine: Machine;
    cells: Cell[];
    results: ProgramResult[];
    started: string;
    seconds: number;
    interference: typeof interference;
    programWait: typeof programWait;
}

function write(outFile: string, md: string): void {
    process.stdout.write(md);
    fs.mkdirSync(path.dirname(outFile), { recursive: true });
    fs.writeFileSync(outFile, md);
    process.stderr.write(`wrote ${outFile}\n`);
}

/** The plan a saved run was made with. */
function savedPlan(raw: Raw): Plan {
    if (raw.plan === "smoke") return SMOKE;
    if (raw.plan === "subset") return subsetPlan(raw.paths, raw.concurrency);
    return FULL;
}

async function main(): Promise<void> {
    const args = process.argv.slice(2);
    const opts = parseBenchArgs(args);
    if (opts.fromJson !== undefined) {
        // The report of a run already made, written again (e.g. after a change to its text).
        const raw = JSON.parse(fs.readFileSync(opts.fromJson, "utf8")) as Raw;
        const plan = savedPlan(raw);
        Object.assign(interference, raw.interference);
        Object.assign(programWait, raw.programWait);
        const outFile = reportFile(plan.name, opts.out);
        write(outFile, report(plan, raw.machine, raw.cells, raw.results, new Date(raw.started), raw.seconds));
        return;
    }
    const plan = opts.smoke
        ? SMOKE
        : opts.paths !== undefined || opts.workers !== undefined
          ? subsetPlan(opts.paths, opts.workers)
          : FULL;
    // Before the network namespace and a run of minutes: refused here, not at the end.
    const outFile = reportFile(plan.name, opts.out);
    // What needs the network (the module proxy, Caddy's build) happens out here, first.
    const status = inOwnNetwork("scripts/bench.ts", args, opts.sharedNetwork, () => {
        loadgenBinary();
        caddyBinary();
    });
    if (status !== undefined) process.exit(status);
    const started = new Date();
    const t0 = Date.now();
    const loadgen = loadgenBinary();
    const m = machine();
    const what =
        plan.name === "subset"
            ? `subset: paths ${plan.paths.join(", ")}; workers ${plan.concurrency.join(", ")}; no program measurements`
            : plan.name;
    process.stderr.write(`data plane (${what}):\n`);
    const cells = await dataPlane(plan, loadgen);
    if (plan.program.length > 0) process.stderr.write(`program (${plan.name}):\n`);
    const results = plan.program.map(([what, s, u]) => programRun(what, s, u));
    const seconds = (Date.now() - t0) / 1000;
    const raw: Raw = {
        plan: plan.name,
        paths: [...plan.paths],
        concurrency: [...plan.concurrency],
        machine: m,
        cells,
        results,
        started: started.toISOString(),
        seconds,
        interference,
        programWait,
    };
    const rawFile = path.join(os.tmpdir(), `homelab-benchmarks-${plan.name}.json`);
    fs.writeFileSync(rawFile, JSON.stringify(raw, null, 1));
    process.stderr.write(
        `measurements saved to ${rawFile} (npm run bench -- --from-json ${rawFile} writes the report again)\n`,
    );
    write(outFile, report(plan, m, cells, results, started, seconds));
}

if (require.main === module)
    main().catch((e) => {
        if (e instanceof BenchArgsError) {
            process.stderr.write(`bench: ${e.message}\n${USAGE}\n`);
            process.exit(2);
        }
        process.stderr.write(`${(e as Error).stack ?? e}\n`);
        process.exit(1);
    });
