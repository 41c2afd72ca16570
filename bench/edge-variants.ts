// What the container edge's keep-alive gap is made of: variants of the rendered haproxy.cfg, and a
// forwarder that is not HAProxy, each on a port of its own beside the benchmark's rig, measured
// side by side with the floor (c) and the bare hop (h) in interleaved rounds. Prints a table; the
// findings are written up by hand in docs/benchmarks.md ("The edge's cost: what was tried").
//
//   npm run bench:variants [-- --workers 1,8 --rounds 3 --new-connections]
//
// Variants (all one thread, as rendered):
//   rendered       the lab's rendered container-edge haproxy.cfg, unchanged
//   no-rules       its global and defaults sections, a frontend with no rules, PROXY v2 to Caddy
//   busy-polling   rendered + `busy-polling` (the poller never sleeps: it runs only for its own
//                  measurements, since it keeps a CPU busy and the machine never idle)
//   low-latency    rendered + `tune.sched.low-latency on`
//   no-zero-copy   rendered + `tune.disable-zero-copy-forwarding`
//   splice-auto    rendered + `option splice-auto`
//   go-forwarder   bench/forwarder (Go's io.Copy) in front of the floor, no PROXY header
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { ChildProcess, spawn } from "child_process";
import {
    BARE_HOP,
    FLOOR,
    Rig,
    Sample,
    Target,
    at,
    benchGoBinary,
    inOwnNetwork,
    loadgenBinary,
    measureTarget,
    startRig,
    waitQuiet,
} from "./dataplane";
import { EDGE_PORTS } from "../test/e2e/lab";
import { caddyBinary, haproxy3Binary } from "../test/support/binaries";

/** The variants' own ports (their :80 frontends 100 above), beside the rig's. */
const FIRST_PORT = 19600;

interface Options {
    workers: number[];
    rounds: number;
    modes: Sample["mode"][];
}

function parseOptions(args: string[]): Options {
    const o: Options = { workers: [1, 8], rounds: 3, modes: ["keepalive"] };
    for (let i = 0; i < args.length; i++) {
        const a = args[i];
        const value = () => {
            const v = args[++i];
            if (v === undefined) throw new Error(`${a} needs a value`);
            return v;
        };
        if (a === "--workers") {
            o.workers = value().split(",").map(Number);
            if (o.workers.some((n) => !Number.isInteger(n) || n < 1 || n > 64))
                throw new Error("--workers: whole numbers from 1 to 64, comma-separated");
        } else if (a === "--rounds") {
            o.rounds = Number(value());
            if (!Number.isInteger(o.rounds) || o.rounds < 1 || o.rounds > 9)
                throw new Error("--rounds: a whole number from 1 to 9");
        } else if (a === "--new-connections") o.modes = ["keepalive", "handshake"];
        else if (a === "--shared-network") continue;
        else throw new Error(`unknown argument ${a}`);
    }
    return o;
}

/** The rendered config with one line added to a section, checked so a renamed section fails loudly. */
function withLine(cfg: string, section: "global" | "defaults", line: string): string {
    const head = `\n${section}\n`;
    if (!cfg.includes(head)) throw new Error(`the rendered haproxy.cfg has no ${section} section`);
    return cfg.replace(head, `${head}    ${line}\n`);
}

/** The rendered config's global and defaults, and a frontend that forwards everything to Caddy's mTLS listener. */
function noRules(cfg: string): string {
    const sections = cfg.split(/\n(?=\S)/);
    const keep = sections.filter((s) => /^(global|defaults)\n/.test(s));
    const backend = sections.find((s) => s.startsWith("backend caddy_mtls\n"));
    if (keep.length !== 2 || !backend) throw new Error("the rendered haproxy.cfg's sections have changed");
    return [
        ...keep,
        `frontend https\n    bind 127.0.0.1:${EDGE_PORTS.container.https}\n    default_backend caddy_mtls`,
        backend,
        "",
    ].join("\n");
}

/** A variant on its own port (the rendered edge's :443 and :80 moved). */
function onPort(cfg: string, port: number): string {
    const https = `127.0.0.1:${EDGE_PORTS.container.https}`;
    const http = `127.0.0.1:${EDGE_PORTS.container.http}`;
    if (!cfg.includes(https)) throw new Error(`a variant does not bind ${https}`);
    return cfg.replace(https, `127.0.0.1:${port}`).replace(http, `127.0.0.1:${port + 100}`);
}

interface Entry {
    name: string;
    target: Target;
    /** Process groups whose CPU time is counted; `edge` is what sits in front of Caddy. */
    groups: Record<string, number[]>;
    /** Started for each of its measurements and stopped after it (a process that never idles). */
    only?: { start: () => ChildProcess; port: number };
}

function stopped(p: ChildProcess): Promise<unknown> {
    if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
    p.kill("SIGTERM");
    return new Promise((res) => p.once("exit", res));
}

/** Waits (up to 5 s) until something accepts connections on 127.0.0.1:`port`. */
async function portUp(port: number): Promise<void> {
    const until = Date.now() + 5_000;
    for (;;) {
        const open = await new Promise<boolean>((res) => {
            const s = net.connect(port, "127.0.0.1");
            s.once("connect", () => (s.destroy(), res(true)));
            s.once("error", () => res(false));
        });
        if (open) return;
        if (Date.now() > until) throw new Error(`nothing listens on 127.0.0.1:${port}`);
        await new Promise((res) => setTimeout(res, 50));
    }
}

async function main(): Promise<void> {
    const args = process.argv.slice(2);
    const options = parseOptions(args);
    const status = inOwnNetwork("bench/edge-variants.ts", args, args.includes("--shared-network"), () => {
        loadgenBinary();
        benchGoBinary("forwarder");
        caddyBinary();
    });
    if (status !== undefined) process.exit(status);

    const rig: Rig = await startRig(loadgenBinary());
    const procs: ChildProcess[] = [];
    try {
        const rendered = rig.lab.haproxyCfg;
        const variants: [string, string][] = [
            ["rendered", rendered],
            ["no-rules", noRules(rendered)],
            ["busy-polling", withLine(rendered, "global", "busy-polling")],
            ["low-latency", withLine(rendered, "global", "tune.sched.low-latency on")],
            ["no-zero-copy", withLine(rendered, "global", "tune.disable-zero-copy-forwarding")],
            ["splice-auto", withLine(rendered, "defaults", "option splice-auto")],
        ];
        const labCaddy = rig.lab.caddy.pid as number;
        const up = [rig.pids.upstream];
        const entries: Entry[] = [
            {
                name: "(c) floor",
                target: at(FLOOR),
                groups: { edge: [], caddy: [rig.pids.seedCaddy], upstream: up },
            },
            {
                name: "(h) bare HAProxy hop",
                target: at(BARE_HOP),
                groups: { edge: [rig.pids.bareHop], caddy: [rig.pids.seedCaddy], upstream: up },
            },
        ];
        variants.forEach(([name, cfg], i) => {
            const port = FIRST_PORT + i;
            const file = path.join(rig.dir, `variant-${name}.cfg`);
            fs.writeFileSync(file, onPort(cfg, port));
            const start = () => {
                const log = fs.openSync(`${file}.log`, "a");
                const p = spawn(haproxy3Binary(), ["-db", "-f", file], { stdio: ["ignore", log, log] });
                fs.closeSync(log);
                return p;
            };
            if (name === "busy-polling")
                entries.push({
                    name,
                    target: at(port),
                    groups: { caddy: [labCaddy], upstream: up },
                    only: { start, port },
                });
            else {
                const p = start();
                procs.push(p);
                entries.push({
                    name,
                    target: at(port),
                    groups: { edge: [p.pid as number], caddy: [labCaddy], upstream: up },
                });
            }
        });
        const fwdPort = FIRST_PORT + variants.length;
        const fwd = spawn(benchGoBinary("forwarder"), [`127.0.0.1:${fwdPort}`, `127.0.0.1:${FLOOR}`], {
            stdio: "ignore",
        });
        procs.push(fwd);
        entries.push({
            name: "go-forwarder",
            target: at(fwdPort),
            groups: { edge: [fwd.pid as number], caddy: [rig.pids.seedCaddy], upstream: up },
        });
        await new Promise((res) => setTimeout(res, 1500));
        const dead = procs.filter((p) => p.exitCode !== null || p.signalCode !== null);
        if (dead.length > 0) throw new Error(`a variant exited at start; logs in ${rig.dir}`);

        const rows: string[] = [
            "| variant | load | workers | req/s | of (c) | of (h) | edge CPU µs/req | rounds (req/s) |",
            "|---|---|--:|--:|--:|--:|--:|---|",
        ];
        for (const mode of options.modes)
            for (const workers of options.workers) {
                const runs = new Map<string, { rps: number; edge: number }[]>();
                for (let round = 0; round < options.rounds; round++)
                    for (let i = 0; i < entries.length; i++) {
                        const e = entries[(i + round) % entries.length] as Entry;
                        waitQuiet(30_000);
                        const own = e.only?.start();
                        if (own) await portUp((e.only as { port: number }).port);
                        const groups = own ? { ...e.groups, edge: [own.pid as number] } : e.groups;
                        const s = measureTarget(rig, e.name, e.target, groups, mode, workers, 3);
                        if (own) await stopped(own);
                        if (s.success < 1) throw new Error(`${e.name}: only ${s.success * 100}% of requests succeeded`);
                        runs.set(e.name, [...(runs.get(e.name) ?? []), { rps: s.rps, edge: s.cpuUs["edge"] ?? 0 }]);
                        process.stderr.write(`  ${e.name} ${mode} ${workers}: ${Math.round(s.rps)} req/s\n`);
                    }
                const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
                const rps = (name: string) => median((runs.get(name) ?? []).map((r) => r.rps));
                for (const e of entries) {
                    const r = runs.get(e.name) ?? [];
                    const pct = (of: string) => `${((rps(e.name) / rps(of)) * 100).toFixed(1)}%`;
                    rows.push(
                        `| ${e.name} | ${mode === "keepalive" ? "keep-alive" : "new TLS connections"} | ${workers} | ${Math.round(rps(e.name)).toLocaleString("en-US")} | ${pct("(c) floor")} | ${pct("(h) bare HAProxy hop")} | ${median(r.map((x) => x.edge)).toFixed(0)} | ${r.map((x) => Math.round(x.rps)).join(" ")} |`,
                    );
                }
            }
        process.stdout.write(`${rows.join("\n")}\n`);
    } finally {
        await Promise.all(procs.map(stopped));
        await rig.stop();
    }
}

main().catch((e: Error) => {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
});
