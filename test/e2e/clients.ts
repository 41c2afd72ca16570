// Low-level clients for the end-to-end attacks: raw TLS with an optional (forged) PROXY header,
// a captured TLS ClientHello for half-open handshakes, a minimal WebSocket client, bounded floods
// and a bounded load generator. Everything goes to 127.0.0.0/8 and stops by itself.
import * as fs from "fs";
import * as net from "net";
import * as tls from "tls";
import { Duplex } from "stream";

/** A PROXY protocol v1 header. */
export function proxyV1(src: string, dst: string, sport = 40000, dport = 443): Buffer {
    const fam = src.includes(":") ? "TCP6" : "TCP4";
    return Buffer.from(`PROXY ${fam} ${src} ${dst} ${sport} ${dport}\r\n`);
}

function ipBytes(ip: string): Buffer {
    if (!ip.includes(":")) return Buffer.from(ip.split(".").map(Number));
    const [head = "", tail = ""] = ip.split("::");
    const h = head ? head.split(":") : [];
    const t = tail ? tail.split(":") : [];
    const groups = ip.includes("::") ? [...h, ...Array(8 - h.length - t.length).fill("0"), ...t] : h;
    const b = Buffer.alloc(16);
    groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
    return b;
}

/** A PROXY protocol v2 header (PROXY command, TCP). */
export function proxyV2(
    src: string,
    dst: string,
    sport = 40000,
    dport = 443,
    tlvs: { type: number; value: Buffer }[] = [],
): Buffer {
    const v6 = src.includes(":");
    const addr = Buffer.concat([
        ipBytes(src),
        ipBytes(dst),
        Buffer.from([sport >> 8, sport & 255, dport >> 8, dport & 255]),
        ...tlvs.map((t) => Buffer.concat([Buffer.from([t.type, t.value.length >> 8, t.value.length & 255]), t.value])),
    ]);
    const sig = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
    return Buffer.concat([sig, Buffer.from([0x21, v6 ? 0x21 : 0x11, addr.length >> 8, addr.length & 255]), addr]);
}

export interface RawResult {
    /** HTTP status, or 0 when no response came. */
    status: number;
    body: string;
    headers: string;
    error?: string;
}

/**
 * Connects from `from` to host:port, optionally sends `header` in clear first, then TLS with SNI
 * `servername` (optionally a client certificate), then one HTTP/1.1 GET. Bounded by `timeoutMs`.
 */
export function rawHttps(opts: {
    from: string;
    host: string;
    port: number;
    header?: Buffer;
    servername: string;
    ca: string;
    cert?: { cert: string; key: string };
    path?: string;
    timeoutMs?: number;
}): Promise<RawResult> {
    return new Promise((resolve) => {
        let done = false;
        const finish = (r: RawResult) => {
            if (done) return;
            done = true;
            clearTimeout(timer);
            sock.destroy();
            resolve(r);
        };
        const timer = setTimeout(
            () => finish({ status: 0, body: "", headers: "", error: "timeout" }),
            opts.timeoutMs ?? 5000,
        );
        const sock = net.connect({ host: opts.host, port: opts.port, localAddress: opts.from }, () => {
            if (opts.header) sock.write(opts.header);
            const t = tls.connect({
                socket: sock,
                servername: opts.servername,
                ca: fs.readFileSync(opts.ca),
                ...(opts.cert ? { cert: fs.readFileSync(opts.cert.cert), key: fs.readFileSync(opts.cert.key) } : {}),
                ALPNProtocols: ["http/1.1"],
            });
            let data = "";
            t.on("secureConnect", () =>
                t.write(`GET ${opts.path ?? "/"} HTTP/1.1\r\nHost: ${opts.servername}\r\nConnection: close\r\n\r\n`),
            );
            t.on("data", (d) => (data += d.toString()));
            t.on("end", () => {
                const [headers = "", body = ""] = data.split("\r\n\r\n");
                finish({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(headers)?.[1] ?? 0), headers, body });
            });
            t.on("error", (e) => finish({ status: 0, body: "", headers: "", error: e.message }));
        });
        sock.on("error", (e) => finish({ status: 0, body: "", headers: "", error: e.message }));
    });
}

/** The first flight a TLS client sends for `servername`: a real ClientHello, captured. */
export function clientHello(servername: string): Promise<Buffer> {
    return new Promise((resolve) => {
        const fake = new Duplex({
            read() {},
            write(chunk, _enc, cb) {
                resolve(Buffer.from(chunk));
                cb();
                setImmediate(() => t.destroy());
            },
        });
        const t = tls.connect({ socket: fake as unknown as net.Socket, servername, rejectUnauthorized: false });
        t.on("error", () => undefined);
    });
}

/** Opens one TCP connection and reports when the server closes it (or `maxMs` passes). */
export function holdOpen(opts: {
    from: string;
    port: number;
    send?: Buffer;
    maxMs: number;
}): Promise<{ closedAfterMs: number | undefined }> {
    return new Promise((resolve) => {
        const start = Date.now();
        const s = net.connect({ host: "127.0.0.1", port: opts.port, localAddress: opts.from }, () => {
            if (opts.send) s.write(opts.send);
        });
        const timer = setTimeout(() => {
            s.destroy();
            resolve({ closedAfterMs: undefined });
        }, opts.maxMs);
        const closed = () => {
            clearTimeout(timer);
            resolve({ closedAfterMs: Date.now() - start });
        };
        s.on("close", closed);
        s.on("error", () => undefined);
        s.resume();
    });
}

export interface Flood {
    /** Connections still open. */
    alive(): number;
    opened: number;
    stop(): void;
}

/**
 * Opens `perSource` connections from each of `sources` to 127.0.0.1:port, each sending `send`
 * (e.g. a ClientHello) and then nothing. Bounded: every socket is destroyed by stop(), and by
 * itself after `maxMs`.
 */
export async function flood(opts: {
    sources: string[];
    perSource: number;
    port: number;
    send?: Buffer;
    maxMs: number;
}): Promise<Flood> {
    const sockets: net.Socket[] = [];
    let open = 0;
    const pending: Promise<void>[] = [];
    for (const from of opts.sources) {
        for (let i = 0; i < opts.perSource; i++) {
            pending.push(
                new Promise((resolve) => {
                    const s = net.connect({ host: "127.0.0.1", port: opts.port, localAddress: from }, () => {
                        open++;
                        if (opts.send) s.write(opts.send);
                        resolve();
                    });
                    s.on("close", () => (open = Math.max(0, open - 1)));
                    s.on("error", () => resolve());
                    s.resume();
                    sockets.push(s);
                }),
            );
        }
    }
    await Promise.all(pending);
    const timer = setTimeout(() => sockets.forEach((s) => s.destroy()), opts.maxMs);
    return {
        alive: () => sockets.filter((s) => !s.destroyed && s.readyState === "open").length,
        opened: sockets.length,
        stop: () => {
            clearTimeout(timer);
            sockets.forEach((s) => s.destroy());
        },
    };
}

export interface SustainedFlood {
    /** Resolves when the flood has opened its last connection (after `seconds`). */
    finished: Promise<void>;
    /** Connections to `port` open now (connected, and not closed by either side). */
    open(port: number): number;
    /** The most connections to `port` open at once so far (sampled every 100 ms). */
    peak(port: number): number;
    /** What happened to the connections so far; `closedByServer` lists how long each one lived (ms). */
    stats(): { opened: number; connected: number; failed: number; closedByServer: number[] };
    stop(): void;
}

/**
 * A source that keeps opening connections: `rate` a second to each of `ports` on 127.0.0.1, from
 * `from`, for `seconds`, each sending nothing. Bounded: rate × seconds connections per port at
 * most; stop() destroys every socket, and so does a timer after `maxMs`.
 */
export function sustainedFlood(opts: {
    from: string;
    ports: number[];
    rate: number;
    seconds: number;
    maxMs: number;
}): SustainedFlood {
    const sockets: net.Socket[] = [];
    const open = new Map<number, number>(opts.ports.map((p) => [p, 0]));
    const peak = new Map<number, number>(opts.ports.map((p) => [p, 0]));
    const lifetimes: number[] = [];
    /** Sockets this side closed (stop()): their end says nothing about the server. */
    const ours = new WeakSet<net.Socket>();
    let connected = 0;
    let failed = 0;
    let stopped = false;
    const openOne = (port: number) => {
        let connectedAt: number | undefined;
        const s = net.connect({ host: "127.0.0.1", port, localAddress: opts.from }, () => {
            connectedAt = Date.now();
            connected++;
            open.set(port, (open.get(port) as number) + 1);
        });
        s.on("error", () => {
            if (connectedAt === undefined) failed++;
        });
        s.on("close", () => {
            if (connectedAt === undefined) return;
            open.set(port, (open.get(port) as number) - 1);
            if (!ours.has(s)) lifetimes.push(Date.now() - connectedAt);
        });
        s.resume();
        sockets.push(s);
    };
    const total = Math.round(opts.rate * opts.seconds);
    const start = Date.now();
    let n = 0;
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((r) => (finish = r));
    const sampler = setInterval(() => {
        for (const p of opts.ports) peak.set(p, Math.max(peak.get(p) as number, open.get(p) as number));
    }, 100);
    // Catches up by the clock, so a busy event loop delays connections but does not drop them.
    const opener = setInterval(() => {
        const due = stopped ? n : Math.min(total, Math.floor(((Date.now() - start) / 1000) * opts.rate));
        for (; n < due; n++) for (const p of opts.ports) openOne(p);
        if (n >= total || stopped) {
            clearInterval(opener);
            finish();
        }
    }, 20);
    const stop = () => {
        stopped = true;
        clearInterval(opener);
        clearInterval(sampler);
        clearTimeout(limit);
        finish();
        for (const s of sockets) {
            ours.add(s);
            s.destroy();
        }
    };
    const limit = setTimeout(stop, opts.maxMs);
    return {
        finished,
        open: (port) => open.get(port) ?? 0,
        peak: (port) => Math.max(peak.get(port) ?? 0, open.get(port) ?? 0),
        stats: () => ({ opened: sockets.length, connected, failed, closedByServer: [...lifetimes] }),
        stop,
    };
}

/** A minimal WebSocket client over TLS (through the edge): counts text frames as they arrive. */
export function webSocket(opts: {
    from: string;
    port: number;
    servername: string;
    ca: string;
    cert?: { cert: string; key: string };
}): Promise<{ frames(): number; closed(): boolean; close(): void }> {
    return new Promise((resolve, reject) => {
        const raw = net.connect({ host: "127.0.0.1", port: opts.port, localAddress: opts.from });
        const t = tls.connect({
            socket: raw,
            servername: opts.servername,
            ca: fs.readFileSync(opts.ca),
            ...(opts.cert ? { cert: fs.readFileSync(opts.cert.cert), key: fs.readFileSync(opts.cert.key) } : {}),
            ALPNProtocols: ["http/1.1"],
        });
        let frames = 0;
        let closed = false;
        let upgraded = false;
        let buf = "";
        t.on("secureConnect", () =>
            t.write(
                `GET /ws HTTP/1.1\r\nHost: ${opts.servername}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${Buffer.from("homelab-e2e-0000").toString("base64")}\r\n\r\n`,
            ),
        );
        t.on("data", (d: Buffer) => {
            if (!upgraded) {
                buf += d.toString("latin1");
                const end = buf.indexOf("\r\n\r\n");
                if (end < 0) return;
                if (!/^HTTP\/1\.1 101/.test(buf)) {
                    t.destroy();
                    return reject(new Error(`no upgrade: ${buf.split("\r\n")[0]}`));
                }
                upgraded = true;
                resolve({ frames: () => frames, closed: () => closed, close: () => t.destroy() });
                return;
            }
            // Server frames are small unmasked text frames: count the 0x81 opcodes.
            for (const b of d) if (b === 0x81) frames++;
        });
        t.on("close", () => (closed = true));
        t.on("error", (e) => (upgraded ? undefined : reject(e)));
        setTimeout(
            () => (upgraded ? undefined : (t.destroy(), reject(new Error("websocket: no upgrade in 5 s")))),
            5000,
        );
    });
}

export interface LoadResult {
    sent: number;
    ok: number;
    failures: Record<string, number>;
}

/**
 * Sends `rate` new TLS connections per second for `seconds` (one GET each, no keep-alive),
 * cycling through `targets`, and counts what failed and how. Bounded by construction.
 */
export async function load(opts: {
    rate: number;
    seconds: number;
    /** `from`: one source, or several used in turn (the edge limits each untrusted source's rate). */
    targets: { from: string | string[]; port: number; servername: string; cert?: { cert: string; key: string } }[];
    ca: string;
}): Promise<LoadResult> {
    const result: LoadResult = { sent: 0, ok: 0, failures: {} };
    const inflight: Promise<void>[] = [];
    const total = opts.rate * opts.seconds;
    const interval = 1000 / opts.rate;
    const start = Date.now();
    for (let i = 0; i < total; i++) {
        const due = start + i * interval;
        const wait = due - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const target = opts.targets[i % opts.targets.length] as (typeof opts.targets)[number];
        const from = Array.isArray(target.from)
            ? (target.from[Math.floor(i / opts.targets.length) % target.from.length] as string)
            : target.from;
        result.sent++;
        inflight.push(
            rawHttps({
                from,
                host: "127.0.0.1",
                port: target.port,
                servername: target.servername,
                ca: opts.ca,
                ...(target.cert ? { cert: target.cert } : {}),
                timeoutMs: 10_000,
            }).then((r) => {
                if (r.status === 200) result.ok++;
                else {
                    const why = `${r.error ?? `HTTP ${r.status}`} (${target.servername}:${target.port})`;
                    result.failures[why] = (result.failures[why] ?? 0) + 1;
                }
            }),
        );
    }
    await Promise.all(inflight);
    return result;
}
