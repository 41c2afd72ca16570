// Data-plane cost of the access model, on loopback, one machine, interleaved runs:
//   (a) rendered chain: HAProxy → Caddy mTLS listener (PROXY v2) → upstream   [client certificate]
//   (b) the hand-made design of the second seed: HAProxy → Caddy mTLS listener → TLS loop back
//       into Caddy's plain listener with verification off → upstream          [client certificate]
//   (c) the floor: Caddy alone terminating mTLS → upstream                     [client certificate]
//   (d) the trusted path: HAProxy → Caddy plain listener (PROXY v2) → upstream
//   (e) an experiment: (a) with the rendered haproxy.cfg plus `nbthread 1`
// Same upstream (an HAProxy that answers 200 itself), same client certificate, vegeta as the load
// generator (it presents client certificates), HTTP/1.1.
import * as fs from "fs";
import * as path from "path";
import { ChildProcess, spawn, spawnSync } from "child_process";
import { Lab, startLab, SOURCES, HAPROXY_HTTP, HAPROXY_HTTPS, HOSTS, ClientCert } from "../test/e2e/lab";
import { caddyBinary, haproxyBinary } from "../test/support/binaries";

export const CONFIGS = ["a", "b", "c", "d", "e"] as const;
export type Config = (typeof CONFIGS)[number];
export const CONFIG_LABEL: Record<Config, string> = {
    a: "(a) HAProxy → Caddy mTLS → upstream (rendered)",
    b: "(b) HAProxy → Caddy mTLS → TLS loop → Caddy plain → upstream (seed)",
    c: "(c) Caddy mTLS alone → upstream (floor)",
    d: "(d) HAProxy → Caddy plain → upstream (trusted path)",
    e: "(e) = (a) with HAProxy on one thread (experiment)",
};

const UPSTREAM_PORT = 19000;
const SEED_HAPROXY = 28443;
const SEED_MTLS = 29443;
const SEED_PLAIN = 29444;
const FLOOR = 39443;
const ONE_THREAD = 18444;

export interface Sample {
    config: Config;
    mode: "keepalive" | "handshake";
    concurrency: number;
    round: number;
    rps: number;
    p50ms: number;
    p99ms: number;
    success: number;
    /** CPU time per request (µs) by process group, and for the whole machine. */
    cpuUs: Record<string, number>;
}

export interface Rig {
    lab: Lab;
    procs: ChildProcess[];
    /** Process ids of each server, for CPU accounting. */
    pids: { upstream: number; seedCaddy: number; seedHaproxy: number; oneThread: number };
    dir: string;
    vegeta: string;
    stop(): Promise<void>;
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

/** The second seed's design, and the mTLS-only floor, as Caddyfiles (benchmark only). */
function seedCaddyfile(lab: Lab, certFolder: string): string {
    const pki = path.join(lab.etc, "pki");
    return `{
	admin off
	auto_https disable_redirects
	servers :${SEED_MTLS} {
		protocols h1 h2
	}
	servers :${SEED_PLAIN} {
		protocols h1 h2
	}
}
https://${HOSTS.mtls}:${SEED_PLAIN} {
	tls {
		load ${certFolder}
	}
	reverse_proxy 127.0.0.1:${UPSTREAM_PORT}
}
https://:${SEED_MTLS} {
	tls {
		load ${certFolder}
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
https://${HOSTS.mtls}:${FLOOR} {
	tls {
		load ${certFolder}
		client_auth {
			mode require_and_verify
			trust_pool file ${pki}/ca.pem
			verifier leaf file ${pki}/clients.pem
		}
	}
	header Strict-Transport-Security "max-age=31536000"
	header -Server
	reverse_proxy 127.0.0.1:${UPSTREAM_PORT} {
		flush_interval -1
	}
}
`;
}

function seedHaproxyCfg(): string {
    return [
        "global",
        "    maxconn 4096",
        "defaults",
        "    mode tcp",
        "    timeout connect 5s",
        "    timeout client 1h",
        "    timeout server 1h",
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

/** Points the rendered lab's services at the fast upstream, then starts the seed and floor. */
export async function startRig(vegeta: string): Promise<Rig> {
    const lab = await startLab();
    const dir = path.join(lab.dir, "bench");
    fs.mkdirSync(dir);
    const procs: ChildProcess[] = [];
    const start = (bin: string, args: string[], cwd?: string) => {
        const log = fs.openSync(path.join(dir, `${path.basename(bin)}-${procs.length}.log`), "a");
        const p = spawn(bin, args, { cwd, stdio: ["ignore", log, log], env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir } });
        fs.closeSync(log);
        procs.push(p);
        return p;
    };
    fs.writeFileSync(path.join(dir, "upstream.cfg"), upstreamCfg());
    const upstream = start(haproxyBinary(), ["-db", "-f", path.join(dir, "upstream.cfg")]);
    // The rendered config's cloud service, re-pointed at the fast upstream by a reload.
    const certFolder = lab.caddyfile.match(/load (\S+)/)?.[1] as string;
    const prod = fs.readFileSync(path.join(lab.etc, "Caddyfile"), "utf8").replace(new RegExp(`reverse_proxy 127\\.0\\.0\\.1:${lab.echoes["cloud"]!.port}`, "g"), `reverse_proxy 127.0.0.1:${UPSTREAM_PORT}`);
    fs.writeFileSync(path.join(lab.etc, "Caddyfile"), prod);
    const r = spawnSync(caddyBinary(), ["reload", "--config", path.join(lab.etc, "Caddyfile"), "--adapter", "caddyfile", "--force"], { cwd: lab.etc, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`reload for the benchmark failed: ${r.stderr}`);
    fs.writeFileSync(path.join(dir, "seed.Caddyfile"), seedCaddyfile(lab, certFolder));
    const seedCaddy = start(caddyBinary(), ["run", "--config", path.join(dir, "seed.Caddyfile"), "--adapter", "caddyfile"]);
    fs.writeFileSync(path.join(dir, "seed-haproxy.cfg"), seedHaproxyCfg());
    const seedHaproxy = start(haproxyBinary(), ["-db", "-f", path.join(dir, "seed-haproxy.cfg")]);
    // (e): the rendered haproxy.cfg on its own port, one thread.
    const oneThreadCfg = lab.haproxyCfg
        .replace("global\n", "global\n    nbthread 1\n")
        .replace(`127.0.0.1:${HAPROXY_HTTPS}`, `127.0.0.1:${ONE_THREAD}`)
        .replace(`127.0.0.1:${HAPROXY_HTTP}`, "127.0.0.1:18081");
    if (!oneThreadCfg.includes(`127.0.0.1:${ONE_THREAD}`) || !oneThreadCfg.includes("nbthread 1")) throw new Error("could not derive the one-thread HAProxy config");
    fs.writeFileSync(path.join(dir, "one-thread-haproxy.cfg"), oneThreadCfg);
    const oneThread = start(haproxyBinary(), ["-db", "-f", path.join(dir, "one-thread-haproxy.cfg")]);
    const stopAll = async () => {
        for (const p of procs) if (p.exitCode === null) p.kill("SIGTERM");
        await Promise.all(procs.map((p) => (p.exitCode === null ? new Promise((res) => p.once("exit", res)) : Promise.resolve())));
        await lab.stop();
    };
    try {
        await waitPorts([UPSTREAM_PORT, SEED_HAPROXY, SEED_MTLS, SEED_PLAIN, FLOOR, ONE_THREAD]);
    } catch (e) {
        await stopAll();
        throw e;
    }
    return {
        lab,
        procs,
        pids: { upstream: upstream.pid as number, seedCaddy: seedCaddy.pid as number, seedHaproxy: seedHaproxy.pid as number, oneThread: oneThread.pid as number },
        dir,
        vegeta,
        stop: stopAll,
    };
}

async function waitPorts(ports: number[]): Promise<void> {
    const net = require("net");
    const until = Date.now() + 15_000;
    for (const port of ports) {
        for (;;) {
            const ok = await new Promise<boolean>((res) => {
                const s = net.connect({ host: "127.0.0.1", port }, () => (s.destroy(), res(true)));
                s.on("error", () => res(false));
            });
            if (ok) break;
            if (Date.now() > until) throw new Error(`port ${port} did not open`);
            await new Promise((res) => setTimeout(res, 100));
        }
    }
}

function target(config: Config): { url: string; connectTo: string; laddr: string; cert: boolean } {
    switch (config) {
        case "a":
            return { url: `https://${HOSTS.mtls}:${HAPROXY_HTTPS}/`, connectTo: `${HOSTS.mtls}:${HAPROXY_HTTPS}:127.0.0.1:${HAPROXY_HTTPS}`, laddr: SOURCES.wan, cert: true };
        case "b":
            return { url: `https://${HOSTS.mtls}:${SEED_HAPROXY}/`, connectTo: `${HOSTS.mtls}:${SEED_HAPROXY}:127.0.0.1:${SEED_HAPROXY}`, laddr: SOURCES.wan, cert: true };
        case "c":
            return { url: `https://${HOSTS.mtls}:${FLOOR}/`, connectTo: `${HOSTS.mtls}:${FLOOR}:127.0.0.1:${FLOOR}`, laddr: SOURCES.wan, cert: true };
        case "d":
            return { url: `https://${HOSTS.mtls}:${HAPROXY_HTTPS}/`, connectTo: `${HOSTS.mtls}:${HAPROXY_HTTPS}:127.0.0.1:${HAPROXY_HTTPS}`, laddr: SOURCES.lan, cert: false };
        case "e":
            return { url: `https://${HOSTS.mtls}:${ONE_THREAD}/`, connectTo: `${HOSTS.mtls}:${ONE_THREAD}:127.0.0.1:${ONE_THREAD}`, laddr: SOURCES.wan, cert: true };
    }
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

const TICK_US = 1e6 / Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim() || 100);

/** The server processes each path runs through. */
function groups(rig: Rig, config: Config): Record<string, number[]> {
    const up = [rig.pids.upstream];
    switch (config) {
        case "a":
        case "d":
            return { haproxy: [rig.lab.haproxy.pid as number], caddy: [rig.lab.caddy.pid as number], upstream: up };
        case "b":
            return { haproxy: [rig.pids.seedHaproxy], caddy: [rig.pids.seedCaddy], upstream: up };
        case "c":
            return { haproxy: [], caddy: [rig.pids.seedCaddy], upstream: up };
        case "e":
            return { haproxy: [rig.pids.oneThread], caddy: [rig.lab.caddy.pid as number], upstream: up };
    }
}

/** One vegeta run: closed loop with `concurrency` workers for `seconds`. */
export function measure(rig: Rig, config: Config, mode: Sample["mode"], concurrency: number, seconds: number, round: number): Sample {
    const t = target(config);
    const dave = rig.lab.certs["dave"] as ClientCert;
    const args = [
        "attack",
        "-rate=0",
        `-max-workers=${concurrency}`,
        `-workers=${concurrency}`,
        `-duration=${seconds}s`,
        "-http2=false",
        `-keepalive=${mode === "keepalive"}`,
        "-session-tickets=false",
        `-laddr=${t.laddr}`,
        `-connect-to=${t.connectTo}`,
        `-root-certs=${rig.lab.serverCa}`,
        "-timeout=10s",
        ...(t.cert ? [`-cert=${dave.cert}`, `-key=${dave.key}`] : []),
    ];
    const g = groups(rig, config);
    const before = Object.fromEntries(Object.entries(g).map(([k, pids]) => [k, pids.reduce((a, p) => a + processTicks(p), 0)]));
    const machineBefore = machineTicks();
    const attack = spawnSync(rig.vegeta, args, { input: `GET ${t.url}\n`, maxBuffer: 1 << 30, timeout: (seconds + 30) * 1000 });
    if (attack.status !== 0) throw new Error(`vegeta attack failed: ${attack.stderr}`);
    const machineAfter = machineTicks();
    const after = Object.fromEntries(Object.entries(g).map(([k, pids]) => [k, pids.reduce((a, p) => a + processTicks(p), 0)]));
    const report = spawnSync(rig.vegeta, ["report", "-type=json"], { input: attack.stdout, encoding: "utf8", maxBuffer: 1 << 28 });
    const j = JSON.parse(report.stdout);
    const requests = Math.max(1, j.requests as number);
    const cpuUs: Record<string, number> = {};
    for (const k of Object.keys(g)) cpuUs[k] = (((after[k] as number) - (before[k] as number)) * TICK_US) / requests;
    cpuUs["machine"] = ((machineAfter - machineBefore) * TICK_US) / requests;
    return {
        cpuUs,
        config,
        mode,
        concurrency,
        round,
        rps: j.throughput,
        p50ms: j.latencies["50th"] / 1e6,
        p99ms: j.latencies["99th"] / 1e6,
        success: j.success,
    };
}
