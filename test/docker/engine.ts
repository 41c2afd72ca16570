// A private Docker engine for the engine tests: its own dockerd (and the containerd it starts),
// in a network and mount namespace of its own, talking only on a unix socket in a temp dir.
//
// Why the namespaces: a plain `dockerd --data-root X --exec-root Y` still writes host state
// (/etc/docker/key.json, /run/containerd/s, /run/docker/plugins, and net.ipv4.ip_forward=1 unless
// --ip-forward=false) and creates its bridges and published ports on the host. Here:
// - the network namespace holds the bridges, the published ports and the test's own addresses
//   (the stack's tailnet address, a listed LAN address): nothing is bound or routed on the host,
//   and no packet can leave the machine (the namespace has no route out);
// - the mount namespace has a tmpfs over /run (so dockerd neither sees a system containerd's
//   socket nor writes under the host's /run) and holds every overlay and netns mount;
// - daemon.json points the trust key into the temp dir, the cgroup driver is cgroupfs (never the
//   host's systemd), and containers go under a cgroup parent of their own.
//
// Stopping is synchronous (stopSync), so the same code runs from mocha's after() hook, from the
// process 'exit' event and from SIGINT/SIGTERM: containers and networks are removed through the
// socket, dockerd gets SIGTERM and, after a grace period, SIGKILL; then any process that is still
// ours (in our namespaces, in our cgroups, or naming our temp dir) is killed by PID, leftover
// mounts, bridges and cgroup directories are removed, and the temp dir is deleted. A run killed
// with SIGKILL leaves an owner file behind; the next run sweeps such leftovers first.
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { ChildProcess, spawn, spawnSync } from "child_process";

/** Debian's docker.io client (the engine's own version); /usr/local/bin may hold a newer one. */
export const DOCKER_CLI = "/usr/bin/docker";
export const DOCKERD = "/usr/sbin/dockerd";
/** Docker 20.10's API version. */
export const API_VERSION = "v1.41";
const DIR_PREFIX = "homelab-docker-";
const OWNER_FILE = "owner.json";

export interface EngineOptions {
    /** What `host-gateway` means in --add-host (there is no default bridge to take it from). */
    hostGatewayIp: string;
    /** Addresses added to the namespace's loopback (CIDR form, e.g. 100.101.102.103/32). */
    loopbackAddresses: string[];
    /** Upstream DNS for containers (default: the host's resolv.conf, unreachable from the namespace). */
    dns?: string;
    /**
     * Docker's own NAT, in the engine's namespace: iptables and ip6tables on (experimental, on
     * 20.10), forwarding on, so published ports keep clients' addresses (IPv4 and IPv6) as Docker
     * Engine does on a Linux host. Default: off (docker-proxy only).
     */
    firewall?: boolean;
}

export interface CmdResult {
    status: number | null;
    stdout: string;
    stderr: string;
}

interface Owner {
    ownerPid: number;
    dockerdPid?: number;
    cgroupParent: string;
    netns?: string;
    mntns?: string;
}

const live = new Set<Engine>();
let handlersInstalled = false;

function sleepSync(ms: number): void {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Alive and not a zombie (an exited child stays a zombie until Node's event loop reaps it). */
function alive(pid: number): boolean {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
    } catch {
        return false;
    }
}

function readlink(p: string): string | undefined {
    try {
        return fs.readlinkSync(p);
    } catch {
        return undefined;
    }
}

function read(p: string): string {
    try {
        return fs.readFileSync(p, "utf8");
    } catch {
        return "";
    }
}

function killPid(pid: number, signal: NodeJS.Signals): void {
    try {
        process.kill(pid, signal);
    } catch {
        /* gone already */
    }
}

/** Mount points of the cgroup hierarchies (v1 controllers and/or the v2 unified tree). */
function cgroupRoots(): string[] {
    return read("/proc/self/mountinfo")
        .split("\n")
        .map((l) => l.split(" "))
        .filter((f) => {
            const dash = f.indexOf("-");
            return dash > 0 && (f[dash + 1] === "cgroup" || f[dash + 1] === "cgroup2");
        })
        .map((f) => f[4] as string);
}

/**
 * The engine's cgroup directories: `<hierarchy>/<parent>` normally, but a controller may place it
 * under the cgroup the test itself runs in (seen here: memory under /process_api/<id>/), so every
 * hierarchy is searched a few levels deep for the parent's (unique) name.
 */
function cgroupDirs(parent: string): string[] {
    const found: string[] = [];
    const search = (d: string, depth: number) => {
        let entries: fs.Dirent[];
        try {
            entries = fs.readdirSync(d, { withFileTypes: true });
        } catch {
            return;
        }
        for (const e of entries) {
            if (!e.isDirectory()) continue;
            if (e.name === parent) found.push(path.join(d, e.name));
            else if (depth < 4) search(path.join(d, e.name), depth + 1);
        }
    };
    for (const root of cgroupRoots()) search(root, 0);
    return found;
}

/** A process's start time (clock ticks since boot): with the PID, it names one process. */
function procStart(pid: number): string | undefined {
    const stat = read(`/proc/${pid}/stat`);
    if (!stat) return undefined;
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
}

/**
 * Every process that belongs to the engine in `dir`: its command line names the temp dir, or it
 * runs in the engine's cgroup parent, or (only while dockerd is alive, because namespace ids are
 * reused once a namespace is gone) it shares dockerd's network or mount namespace.
 */
function ourProcesses(dir: string, owner: Owner, byNamespace: boolean): number[] {
    const out: number[] = [];
    for (const e of fs.readdirSync("/proc")) {
        if (!/^[0-9]+$/.test(e)) continue;
        const pid = Number(e);
        if (pid === process.pid) continue;
        const cmdline = read(`/proc/${pid}/cmdline`).split("\0").join(" ");
        const cg = read(`/proc/${pid}/cgroup`);
        if (
            cmdline.includes(dir) ||
            cg.includes(`/${owner.cgroupParent}/`) ||
            cg.split("\n").some((l) => l.endsWith(`/${owner.cgroupParent}`))
        ) {
            out.push(pid);
            continue;
        }
        if (!byNamespace) continue;
        const netns = readlink(`/proc/${pid}/ns/net`);
        const mntns = readlink(`/proc/${pid}/ns/mnt`);
        if (
            (owner.netns !== undefined && netns === owner.netns) ||
            (owner.mntns !== undefined && mntns === owner.mntns)
        )
            out.push(pid);
    }
    return out;
}

/** Everything after dockerd is gone: stray processes, mounts, bridges, cgroups, the temp dir. */
function sweep(
    dir: string,
    owner: Owner,
    bridges: string[],
    notes: string[],
    known: Map<number, string | undefined> = new Map(),
): void {
    for (let round = 0; round < 3; round++) {
        const seen = [...known].filter(([pid, start]) => alive(pid) && procStart(pid) === start).map(([pid]) => pid);
        const pids = [...new Set([...seen, ...ourProcesses(dir, owner, false)])].filter(alive);
        if (pids.length === 0) break;
        notes.push(`killed stray processes ${pids.join(", ")}`);
        for (const pid of pids) killPid(pid, "SIGKILL");
        const until = Date.now() + 5000;
        while (Date.now() < until && pids.some(alive)) sleepSync(50);
    }
    // Mounts under the temp dir in the host's mount namespace (dockerd's own are in its private
    // one, which went away with it; this only catches what escaped).
    const mounts = read("/proc/self/mountinfo")
        .split("\n")
        .map((l) => l.split(" ")[4])
        .filter((m): m is string => !!m && (m === dir || m.startsWith(`${dir}/`)))
        .sort((a, b) => b.length - a.length);
    for (const m of mounts) {
        notes.push(`unmounted ${m}`);
        spawnSync("umount", ["-l", m], { stdio: "ignore", timeout: 10_000 });
    }
    // Bridges: created inside the namespace, so never on the host; removed if one ever is.
    for (const br of bridges) {
        if (fs.existsSync(`/sys/class/net/${br}`)) {
            notes.push(`deleted bridge ${br}`);
            spawnSync("ip", ["link", "del", br], { stdio: "ignore", timeout: 10_000 });
        }
    }
    for (const top of cgroupDirs(owner.cgroupParent)) {
        const dirs: string[] = [];
        const walk = (d: string) => {
            dirs.push(d);
            for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
        };
        try {
            walk(top);
        } catch {
            /* raced with removal */
        }
        for (const d of dirs.sort((a, b) => b.length - a.length)) {
            try {
                fs.rmdirSync(d);
            } catch (e) {
                notes.push(`could not remove cgroup ${d}: ${(e as Error).message}`);
            }
        }
    }
    fs.rmSync(dir, { recursive: true, force: true });
}

/** Leftovers of a run that was killed outright (its owner process is gone). */
function sweepStale(notes: string[]): void {
    for (const e of fs.readdirSync(os.tmpdir())) {
        if (!e.startsWith(DIR_PREFIX)) continue;
        const dir = path.join(os.tmpdir(), e);
        let owner: Owner;
        try {
            owner = JSON.parse(fs.readFileSync(path.join(dir, OWNER_FILE), "utf8")) as Owner;
        } catch {
            continue;
        }
        if (alive(owner.ownerPid) && read(`/proc/${owner.ownerPid}/cmdline`).includes("node")) continue;
        notes.push(`sweeping ${dir} left by process ${owner.ownerPid}`);
        if (owner.dockerdPid && alive(owner.dockerdPid) && read(`/proc/${owner.dockerdPid}/cmdline`).includes(dir)) {
            killPid(owner.dockerdPid, "SIGTERM");
            const until = Date.now() + 15_000;
            while (Date.now() < until && alive(owner.dockerdPid)) sleepSync(100);
            killPid(owner.dockerdPid, "SIGKILL");
        }
        sweep(dir, owner, [], notes);
    }
}

function onSignal(signal: NodeJS.Signals): void {
    for (const e of [...live]) e.stopSync();
    process.exit(128 + (os.constants.signals[signal] ?? 1));
}
const onExit = () => {
    for (const e of [...live]) e.stopSync();
};

function installHandlers(): void {
    if (handlersInstalled) return;
    handlersInstalled = true;
    process.on("exit", onExit);
    for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(s, onSignal);
}

function removeHandlers(): void {
    if (!handlersInstalled || live.size > 0) return;
    handlersInstalled = false;
    process.removeListener("exit", onExit);
    for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.removeListener(s, onSignal);
}

export class Engine {
    readonly dir: string;
    readonly sock: string;
    /** DOCKER_HOST for this engine. */
    readonly host: string;
    readonly logFile: string;
    /** What happened during cleanup, for the test output. */
    readonly cleanupNotes: string[] = [];
    private owner: Owner;
    private bridges = new Set<string>();
    private stopped = false;

    constructor(dir: string) {
        this.dir = dir;
        this.sock = path.join(dir, "docker.sock");
        this.host = `unix://${this.sock}`;
        this.logFile = path.join(dir, "dockerd.log");
        this.owner = { ownerPid: process.pid, cgroupParent: path.basename(dir) };
    }

    get pid(): number {
        return this.owner.dockerdPid ?? -1;
    }

    get cgroupParent(): string {
        return this.owner.cgroupParent;
    }

    /** The engine's network namespace, for nsenter. */
    get netnsPath(): string {
        return `/proc/${this.pid}/ns/net`;
    }

    private saveOwner(): void {
        fs.writeFileSync(path.join(this.dir, OWNER_FILE), JSON.stringify(this.owner));
    }

    async start(opts: EngineOptions): Promise<void> {
        installHandlers();
        live.add(this);
        fs.writeFileSync(
            path.join(this.dir, "daemon.json"),
            JSON.stringify({ "deprecated-key-path": path.join(this.dir, "key.json") }),
        );
        const args = [
            `--config-file=${path.join(this.dir, "daemon.json")}`,
            `--data-root=${path.join(this.dir, "data")}`,
            `--exec-root=${path.join(this.dir, "exec")}`,
            `--host=${this.host}`,
            `--pidfile=${path.join(this.dir, "docker.pid")}`,
            ...(opts.firewall
                ? ["--iptables=true", "--ip6tables=true", "--experimental", "--ip-forward=true"]
                : ["--iptables=false", "--ip6tables=false", "--ip-forward=false"]),
            "--bridge=none",
            `--host-gateway-ip=${opts.hostGatewayIp}`,
            ...(opts.dns ? [`--dns=${opts.dns}`] : []),
            "--exec-opt=native.cgroupdriver=cgroupfs",
            `--cgroup-parent=${this.owner.cgroupParent}`,
            "--log-level=info",
        ];
        const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
        const script = [
            "set -eu",
            // Hide the host's /run: no system containerd socket to attach to, no writes there.
            "mount -t tmpfs -o mode=755 homelab-docker-run /run",
            "ip link set lo up",
            ...opts.loopbackAddresses.map((a) => `ip addr add ${q(a)} dev lo`),
            // The namespace inherits the host's value; the tests' segmentation checks start from 0.
            ...(opts.firewall
                ? ["echo 1 > /proc/sys/net/ipv4/ip_forward", "echo 1 > /proc/sys/net/ipv6/conf/all/forwarding"]
                : ["echo 0 > /proc/sys/net/ipv4/ip_forward"]),
            `exec ${DOCKERD} ${args.map(q).join(" ")}`,
        ].join("\n");
        fs.writeFileSync(path.join(this.dir, "start.sh"), script + "\n");
        const log = fs.openSync(this.logFile, "a");
        const child = spawn(
            "unshare",
            ["--net", "--mount", "--propagation", "private", "--", "sh", path.join(this.dir, "start.sh")],
            { stdio: ["ignore", log, log] },
        );
        fs.closeSync(log);
        if (child.pid === undefined) throw new Error("could not start unshare/dockerd");
        this.owner.dockerdPid = child.pid;
        this.saveOwner();
        let exited: string | undefined;
        child.on("exit", (code, signal) => (exited = `dockerd exited (${signal ?? code})`));
        const until = Date.now() + 60_000;
        for (;;) {
            if (exited) throw new Error(`${exited}\n${this.logTail()}`);
            if (Date.now() > until)
                throw new Error(`dockerd did not answer on ${this.sock} within 60 s\n${this.logTail()}`);
            try {
                const r = await this.request("GET", "/_ping");
                if (r.status === 200) break;
            } catch {
                /* not up yet */
            }
            await new Promise((r) => setTimeout(r, 200));
        }
        if (read(`/proc/${child.pid}/comm`).trim() !== "dockerd")
            throw new Error(`process ${child.pid} is not dockerd`);
        this.owner.netns = readlink(`/proc/${child.pid}/ns/net`);
        this.owner.mntns = readlink(`/proc/${child.pid}/ns/mnt`);
        if (!this.owner.netns || this.owner.netns === readlink("/proc/self/ns/net"))
            throw new Error("dockerd is not in a network namespace of its own");
        this.saveOwner();
    }

    logTail(n = 4000): string {
        return read(this.logFile).slice(-n);
    }

    /** A raw Engine API request on the private socket. */
    request(
        method: string,
        urlPath: string,
        body?: unknown,
        timeoutMs = 120_000,
    ): Promise<{ status: number; body: string }> {
        return new Promise((resolve, reject) => {
            const raw = Buffer.isBuffer(body);
            const data = body === undefined ? undefined : raw ? (body as Buffer) : Buffer.from(JSON.stringify(body));
            const req = http.request(
                {
                    socketPath: this.sock,
                    path: urlPath.startsWith("/_ping") ? urlPath : `/${API_VERSION}${urlPath}`,
                    method,
                    headers: data
                        ? {
                              "content-type": raw ? "application/x-tar" : "application/json",
                              "content-length": data.length,
                          }
                        : {},
                    timeout: timeoutMs,
                },
                (res) => {
                    const chunks: Buffer[] = [];
                    res.on("data", (c: Buffer) => chunks.push(c));
                    res.on("end", () =>
                        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
                    );
                    res.on("error", reject);
                },
            );
            req.on("timeout", () => req.destroy(new Error(`${method} ${urlPath}: timed out`)));
            req.on("error", reject);
            if (data) req.write(data);
            req.end();
        });
    }

    /** An Engine API call that must succeed; the JSON answer (or undefined when empty). */
    async api<T = any>(method: string, urlPath: string, body?: unknown): Promise<T> {
        const r = await this.request(method, urlPath, body);
        if (r.status < 200 || r.status >= 300) throw new Error(`${method} ${urlPath}: ${r.status} ${r.body.trim()}`);
        return (r.body.trim() === "" ? undefined : JSON.parse(r.body)) as T;
    }

    /** Environment for the docker CLI and the host-side scripts: this engine only, /usr/bin first. */
    env(extra: Record<string, string> = {}): Record<string, string> {
        return {
            PATH: "/usr/bin:/bin:/usr/sbin:/sbin",
            HOME: process.env.HOME ?? "/root",
            LANG: "C",
            DOCKER_HOST: this.host,
            DOCKER_CONFIG: path.join(this.dir, "cli"),
            DOCKER_BUILDKIT: "0",
            ...extra,
        };
    }

    /** Runs a command (async) with this engine's environment; bounded. */
    run(
        cmd: string,
        args: string[],
        opts: { input?: string; timeoutMs?: number; env?: Record<string, string> } = {},
    ): Promise<CmdResult> {
        return new Promise((resolve) => {
            const child = spawn(cmd, args, { env: this.env(opts.env), stdio: ["pipe", "pipe", "pipe"] });
            let stdout = "";
            let stderr = "";
            const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
            child.stdout.on("data", (d) => (stdout += d));
            child.stderr.on("data", (d) => (stderr += d));
            child.on("error", (e) => (stderr += String(e)));
            child.on("close", (status) => {
                clearTimeout(timer);
                resolve({ status, stdout, stderr });
            });
            child.stdin.on("error", () => undefined);
            child.stdin.end(opts.input ?? "");
        });
    }

    docker(args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<CmdResult> {
        return this.run(DOCKER_CLI, args, opts);
    }

    /** `sh -c script` as the Pulumi command provider runs the host-side scripts: env + stdin. */
    script(script: string, env: Record<string, string>, input: string, timeoutMs = 120_000): Promise<CmdResult> {
        return this.run("/bin/sh", ["-c", script], { env, input, timeoutMs });
    }

    /** A command inside the engine's network namespace (where the published ports are). */
    inNetns(cmd: string, args: string[], opts: { timeoutMs?: number } = {}): Promise<CmdResult> {
        return this.run("nsenter", [`--net=${this.netnsPath}`, "--", cmd, ...args], opts);
    }

    /** Spawns a long-running command inside the namespace (the caller ends it). */
    spawnInNetns(cmd: string, args: string[]): ChildProcess {
        return spawn("nsenter", [`--net=${this.netnsPath}`, "--", cmd, ...args], {
            env: this.env(),
            stdio: ["ignore", "pipe", "pipe"],
        });
    }

    private dockerSync(args: string[], timeoutMs = 60_000): string {
        const r = spawnSync(DOCKER_CLI, args, { env: this.env(), encoding: "utf8", timeout: timeoutMs });
        return r.status === 0 ? r.stdout : "";
    }

    /** Removes everything through the socket, stops dockerd, then sweeps. Idempotent; synchronous. */
    stopSync(): void {
        if (this.stopped) return;
        this.stopped = true;
        const pid = this.owner.dockerdPid;
        const known = new Map<number, string | undefined>();
        if (pid !== undefined && alive(pid)) {
            // While dockerd lives its namespaces are certainly ours: note who is in them.
            for (const p of ourProcesses(this.dir, this.owner, true)) known.set(p, procStart(p));
            const containers = this.dockerSync(["ps", "-aq", "--no-trunc"]).split("\n").filter(Boolean);
            if (containers.length > 0) this.dockerSync(["rm", "-f", "-v", ...containers], 120_000);
            const networks = this.dockerSync(["network", "ls", "-q", "--no-trunc", "--filter", "type=custom"])
                .split("\n")
                .filter(Boolean);
            for (const id of networks) this.bridges.add(`br-${id.slice(0, 12)}`);
            if (networks.length > 0) this.dockerSync(["network", "rm", ...networks]);
            killPid(pid, "SIGTERM");
            let until = Date.now() + 20_000;
            while (Date.now() < until && alive(pid)) sleepSync(100);
            if (alive(pid)) {
                this.cleanupNotes.push("dockerd ignored SIGTERM for 20 s: SIGKILL");
                killPid(pid, "SIGKILL");
                until = Date.now() + 5000;
                while (Date.now() < until && alive(pid)) sleepSync(50);
            }
        }
        sweep(this.dir, this.owner, [...this.bridges], this.cleanupNotes, known);
        live.delete(this);
        removeHandlers();
    }

    /** What is left of this engine on the host (empty when the cleanup worked). */
    leftovers(): string[] {
        const out: string[] = [];
        if (fs.existsSync(this.dir)) out.push(`temp dir ${this.dir}`);
        const pids = ourProcesses(this.dir, this.owner, false).filter(alive);
        if (pids.length > 0) out.push(`processes ${pids.join(", ")}`);
        for (const br of this.bridges) if (fs.existsSync(`/sys/class/net/${br}`)) out.push(`bridge ${br}`);
        for (const d of cgroupDirs(this.owner.cgroupParent)) out.push(`cgroup ${d}`);
        if (read("/proc/self/mountinfo").includes(this.dir)) out.push("mounts under the temp dir");
        return out;
    }
}

/** Starts a private engine; on failure it is already stopped and cleaned up. */
export async function startEngine(opts: EngineOptions): Promise<Engine> {
    const notes: string[] = [];
    sweepStale(notes);
    for (const n of notes) console.log(`    [engine] ${n}`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), DIR_PREFIX));
    const engine = new Engine(dir);
    if (engine.sock.length > 100) throw new Error(`socket path too long: ${engine.sock}`);
    try {
        await engine.start(opts);
    } catch (e) {
        engine.stopSync();
        throw e;
    }
    return engine;
}
