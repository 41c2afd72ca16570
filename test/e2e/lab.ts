// A homelab on loopback for the end-to-end tests: the rendered Caddyfile and HAProxy configs run by
// real HAProxy and the Caddy test build, echo servers standing in for the services, and client
// certificates from the program's own CA code path. Only the Caddyfile's certificate source
// differs from production (a local certificate instead of ACME).
//
// Both edge shapes run side by side in front of one Caddy:
//   container edge (Linux)  127.0.0.1:18080/18443 → Caddy, from HAProxy's fixed address
//   native edge (Mac)       127.0.0.1:28080/28443 → relay 127.0.0.1:8443/9443 (the edge's secret, from
//                           the program's own code path, in each PROXY header; standing in for the
//                           ports the relay container publishes on the Mac's 127.0.0.1) → Caddy,
//                           from HAProxy's fixed address
// The model's Docker block is 127.0.0.0/24, so HAProxy's fixed address is 127.0.0.194 and Caddy
// binds 127.0.0.195 only (its production default_bind, from the same address plan).
//
// Sources (all loopback): LAN 127.0.0.2 and "tailnet" 127.0.0.3 (both trusted networks here:
// the production tailnet ranges are not routable on loopback), WAN 127.0.0.4 (anyone else).
// Both edges also listen on the LAN address itself on :X443, as the edge host's own address: a
// connection from that address to itself is a process on the edge host, not a LAN client.
// The router 127.0.0.6 sits inside a trusted network but is listed in homelab:untrustedSources
// (a router that rewrites forwarded WAN connections to its own LAN address): never trusted.
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import * as crypto from "crypto";
import { ChildProcess, execFileSync, spawn } from "child_process";
import { CLIENT_EXT, issue, keyAndCsr, openssl, sanExt, selfSigned } from "../support/openssl";
import { Model } from "../../stacks/model";
import { validate } from "../../stacks/validate";
import { addressPlan } from "../../stacks/addressPlan";
import { renderCaddyfile } from "../../render/caddyfile";
import { RELAY_LIMITS, RelayOptions, holdCommands, renderEdgeCfg, renderRelayCfg } from "../../render/haproxy";
import {
    CADDY_APPLY,
    CADDY_RELOAD_ON_HOST,
    HAPROXY_WRITE,
    caddyReloadEnvironment,
    packFiles,
    unpackFiles,
} from "../../render/reload";
import { caddyBinary, haproxy3Binary } from "../support/binaries";
import { commandNamed, runProgram } from "../harness";
import { EXAMPLE_DEV_BASE } from "../support/exampleDev";
import { rawConfigOf } from "../../stacks/stackFile";

export const SOURCES = { lan: "127.0.0.2", tailnet: "127.0.0.3", wan: "127.0.0.4", router: "127.0.0.6" } as const;
/** Compromised devices on a trusted LAN (IoT boxes): trusted, and flooding. Not in the matrix. */
export const IOT_NETWORK = "127.0.5.0/28";
export const IOT_DEVICE = "127.0.5.1";
export const IOT_DEVICES = Array.from({ length: 16 }, (_, i) => `127.0.5.${i}`);
/** A container on a Mac, which reaches the relay's published ports (as host.docker.internal). */
export const CONTAINER_ON_MAC = "127.0.0.10";
/** The edge host's listed LAN address in the lab (inside a trusted network, like a real one). */
export const HOST_LAN_ADDRESS = "127.0.0.7";
/** Sources the lab trusts (the rest, including the router inside the trusted LAN, are not). */
export const TRUSTED_SOURCES: readonly Source[] = ["lan", "tailnet"];
export type Source = keyof typeof SOURCES;
export type EdgeMode = "container" | "native";
/** Where each edge shape listens in the lab (production: :80 and :443). */
export const EDGE_PORTS: Record<EdgeMode, { http: number; https: number }> = {
    container: { http: 18080, https: 18443 },
    native: { http: 28080, https: 28443 },
};
export const RELAY = { host: "127.0.0.1", plain: 8443, mtls: 9443 } as const;
/**
 * The relay's limits in the lab: production's (RELAY_LIMITS) need about 82,000 open files, and
 * this machine allows a process 20,000; the lab's still take more than the old limit of 4,096.
 */
export const LAB_RELAY_LIMITS = {
    perFrontend: 8192,
    maxconn: 9000,
    handshakeTimeout: RELAY_LIMITS.handshakeTimeout,
} as const;
/**
 * A second Mac edge shape, for a test that needs other relay limits than the lab's: a native edge
 * and a relay of its own (startMacEdge), below Linux's ephemeral ports and apart from the lab's.
 */
export const SPARE_MAC_EDGE = {
    edge: { http: 28180, https: 28543 },
    relay: { plain: 8453, mtls: 9453 },
} as const;
/** The admin sockets of the two HAProxies that connect to Caddy (in production: each on its container's loopback). */
export const LAB_ADMIN = { container: "127.0.0.1:18999", relay: "127.0.0.1:28999" } as const;
export const HAPROXY_HTTP = EDGE_PORTS.container.http;
export const HAPROXY_HTTPS = EDGE_PORTS.container.https;
export const HOSTS = {
    private: "media.home.example.dev",
    mtls: "cloud.example.dev",
    unknown: "unknown.example.dev",
    apex: "home.example.dev",
} as const;

export interface Echo {
    name: string;
    port: number;
    hits: { headers: http.IncomingHttpHeaders; url: string }[];
    server: http.Server;
}

/**
 * An upstream that answers with its name and what it received. /stream sends 10 chunks over ~2 s;
 * /long sends a chunk every 200 ms for 60 s (a long download); a WebSocket upgrade gets a text
 * frame every 200 ms until either side closes.
 */
export async function startEcho(name: string): Promise<Echo> {
    const echo: Echo = { name, port: 0, hits: [], server: http.createServer() };
    const streams = new Set<NodeJS.Timeout>();
    echo.server.on("close", () => streams.forEach(clearInterval));
    echo.server.on("request", (req, res) => {
        echo.hits.push({ headers: req.headers, url: req.url ?? "" });
        if (req.url === "/stream" || req.url === "/long") {
            const chunks = req.url === "/stream" ? 10 : 300;
            res.writeHead(200, { "content-type": "text/plain" });
            let i = 0;
            const t = setInterval(() => {
                res.write(`chunk ${i}\n`);
                if (++i === chunks) {
                    clearInterval(t);
                    streams.delete(t);
                    res.end("done\n");
                }
            }, 200);
            streams.add(t);
            res.on("close", () => (clearInterval(t), streams.delete(t)));
            return;
        }
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ service: name, host: req.headers.host, xff: req.headers["x-forwarded-for"] ?? null }));
    });
    echo.server.on("upgrade", (req, socket) => {
        echo.hits.push({ headers: req.headers, url: req.url ?? "" });
        const accept = crypto
            .createHash("sha1")
            .update(`${req.headers["sec-websocket-key"]}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
            .digest("base64");
        socket.write(
            `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
        );
        let i = 0;
        const t = setInterval(() => {
            const text = Buffer.from(`tick ${i++}`);
            socket.write(Buffer.concat([Buffer.from([0x81, text.length]), text]));
        }, 200);
        streams.add(t);
        const stop = () => (clearInterval(t), streams.delete(t), socket.destroy());
        socket.on("close", stop);
        socket.on("error", stop);
    });
    await new Promise<void>((r) => echo.server.listen(0, "127.0.0.1", r));
    echo.port = (echo.server.address() as { port: number }).port;
    return echo;
}

/** The e2e stack, as a stack file's config would give it (upstreams are loopback here, so the lab
 * validates with the echo servers on a LAN-like address and points them at 127.0.0.1 after). */
export function e2eConfig(
    ports: { media: number; cloud: number; dash: number; wiki: number },
    opts: { users: string[]; withWiki: boolean; runtime?: string; extraServices?: Record<string, unknown> },
): Record<string, unknown> {
    const services: Record<string, unknown> = {
        dash: { upstream: `${LAB_UPSTREAM_STANDIN}:${ports.dash}`, apex: true },
        media: { upstream: `${LAB_UPSTREAM_STANDIN}:${ports.media}` },
        cloud: { upstream: `${LAB_UPSTREAM_STANDIN}:${ports.cloud}`, expose: ["private", "mtls"] },
    };
    if (opts.withWiki)
        services["wiki"] = { upstream: `${LAB_UPSTREAM_STANDIN}:${ports.wiki}`, expose: ["private", "mtls"] };
    Object.assign(services, opts.extraServices ?? {});
    return {
        ...EXAMPLE_DEV_BASE,
        // On Linux, mtls needs the address the router forwards :443 to; the lab's model replaces
        // both with its loopback stand-ins.
        ...((opts.runtime ?? "linux") === "linux" ? { "homelab:trustedNetworks": ["192.168.1.0/24"] } : {}),
        "homelab:docker": {
            runtime: opts.runtime ?? "linux",
            dataDir: "/srv/homelab",
            ...((opts.runtime ?? "linux") === "linux" ? { listenAddresses: ["192.168.1.20"] } : {}),
        },
        "homelab:services": services,
        "homelab:users": opts.users.map((name) => ({ name })),
    };
}

/** A LAN address the validator accepts for upstreams; the lab model points it at 127.0.0.1. */
export const LAB_UPSTREAM_STANDIN = "192.0.2.80";

/** The model the lab runs: the validated config, placed on loopback addresses. */
export function e2eModel(config: Record<string, unknown>): Model {
    const raw = rawConfigOf(config);
    const m = validate(raw);
    // Loopback stand-ins that the validator (rightly) refuses in a real stack: the echo servers on
    // 127.0.0.1, the LAN and "tailnet" as trusted loopback addresses, the Docker block on 127/8.
    return {
        ...m,
        services: m.services.map((s) => ({
            ...s,
            upstream: s.upstream.replace(LAB_UPSTREAM_STANDIN, "127.0.0.1"),
            ...(s.forwardAuth
                ? {
                      forwardAuth: {
                          ...s.forwardAuth,
                          upstream: s.forwardAuth.upstream.replace(LAB_UPSTREAM_STANDIN, "127.0.0.1"),
                      },
                  }
                : {}),
        })),
        trustedNetworks: [
            `${SOURCES.lan}/32`,
            `${SOURCES.tailnet}/32`,
            `${SOURCES.router}/32`,
            `${HOST_LAN_ADDRESS}/32`,
            IOT_NETWORK,
        ],
        untrustedSources: [`${SOURCES.router}/32`],
        // The edge host's own LAN address as the stack knows it (docker.listenAddresses).
        listenAddresses: [HOST_LAN_ADDRESS],
        docker: { ...m.docker, subnet: "127.0.0.0/24" },
        addresses: addressPlan("127.0.0.0/24"),
    };
}

export interface ClientCert {
    cert: string;
    key: string;
}

/** One HAProxy process of the lab: its config directory and process. */
export interface LabHaproxy {
    dir: string;
    cfg: string;
    proc: ChildProcess;
}

export interface Lab {
    dir: string;
    etc: string;
    model: Model;
    echoes: Record<string, Echo>;
    caPem: string;
    /** The stack CA's key (PEM), for the tests that issue a certificate of their own. */
    caKey: string;
    /** Client certificate files, by case. */
    certs: Record<string, ClientCert>;
    /** The edge's secret files (edge-secret.map, the native edge's; edge-secret.sha256, the relay's). */
    edgeFiles: Record<string, string>;
    caddyfile: string;
    /** The folder Caddy loads its (test) server certificate from. */
    certFolder: string;
    /** The echo servers' ports, for re-rendering the stack. */
    ports: { media: number; cloud: number; dash: number; wiki: number };
    /** The container edge's config (kept under its old name for the tests). */
    haproxyCfg: string;
    caddy: ChildProcess;
    /** The container edge. */
    haproxy: ChildProcess;
    haproxies: { container: LabHaproxy; relay: LabHaproxy; native: LabHaproxy };
    serverCa: string;
    logs: { caddy: string[]; haproxy: string[] };
    /** Kill Caddy and start it again (what the host does when a certificate is revoked). */
    restartCaddy(): Promise<void>;
    stop(): Promise<void>;
}

/** Issues a certificate with the stack CA's key (for the expired and wrong-EKU cases). */
export function issueWithCa(
    dir: string,
    name: string,
    caCert: string,
    caKey: string,
    ext: string,
    dates?: { start: string; end: string },
): ClientCert {
    fs.writeFileSync(path.join(dir, "stackca.pem"), caCert);
    fs.writeFileSync(path.join(dir, "stackca.key"), caKey, { mode: 0o600 });
    const ca = { cert: "stackca.pem", key: "stackca.key" };
    if (!dates) return issue(dir, name, `/CN=${name}`, ca, ext);
    keyAndCsr(dir, name, `/CN=${name}`);
    fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
    // openssl ca is the one that can backdate: a throwaway database for this one signature.
    fs.writeFileSync(path.join(dir, "index.txt"), "");
    fs.writeFileSync(
        path.join(dir, "ca.cnf"),
        `[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\ndefault_md = sha256\npolicy = p\ncopy_extensions = none\n[p]\ncommonName = supplied\n`,
    );
    fs.writeFileSync(path.join(dir, "serial"), "1000\n");
    openssl(dir, [
        "ca",
        "-batch",
        "-config",
        "ca.cnf",
        "-cert",
        ca.cert,
        "-keyfile",
        ca.key,
        "-in",
        `${name}.csr`,
        "-out",
        `${name}.pem`,
        "-startdate",
        dates.start,
        "-enddate",
        dates.end,
        "-extfile",
        `${name}.ext`,
        "-notext",
    ]);
    return { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) };
}

/** Everything the client-certificate matrix needs, from the program's own CA outputs. */
async function pki(
    dir: string,
    config: Record<string, unknown>,
): Promise<{ caPem: string; caKey: string; certs: Record<string, ClientCert>; edgeFiles: Record<string, string> }> {
    // A Mac runtime, so the run also yields the edge's secret (the native edge's map, the relay's hash).
    const run = await runProgram(
        { ...config, "homelab:docker": { runtime: "docker-desktop", dataDir: "/srv/homelab" } },
        { stack: "e2e" },
    );
    if (run.error) throw run.error;
    const stdin = (suffix: string) => unpackFiles(commandNamed(run, suffix).inputs.stdin);
    const edgeFiles = { ...stdin("edge-haproxy-config"), ...stdin("edge-native") };
    const caPem = run.outputs["caCertificate"] as string;
    const leaf = run.resources.find((r) => r.type === "tls:index/locallySignedCert:LocallySignedCert");
    const caKey = leaf?.inputs.caPrivateKeyPem as string;
    const bundles = run.outputs["clientBundles"] as Record<string, { p12: string; password: string }>;
    const certs: Record<string, ClientCert> = {};
    for (const [user, b] of Object.entries(bundles)) {
        const p12 = path.join(dir, `${user}.p12`);
        fs.writeFileSync(p12, Buffer.from(b.p12, "base64"));
        fs.writeFileSync(path.join(dir, `${user}.pw`), b.password, { mode: 0o600 });
        const pw = `file:${path.join(dir, `${user}.pw`)}`;
        openssl(dir, ["pkcs12", "-in", p12, "-passin", pw, "-clcerts", "-nokeys", "-out", `${user}.pem`]);
        openssl(dir, ["pkcs12", "-in", p12, "-passin", pw, "-nocerts", "-nodes", "-out", `${user}.key`]);
        certs[user] = { cert: path.join(dir, `${user}.pem`), key: path.join(dir, `${user}.key`) };
    }
    certs["expired"] = issueWithCa(dir, "expired", caPem, caKey, CLIENT_EXT, {
        start: "20240101000000Z",
        end: "20240201000000Z",
    });
    certs["serverauth"] = issueWithCa(
        dir,
        "serverauth",
        caPem,
        caKey,
        "basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\nextendedKeyUsage = serverAuth\n",
    );
    // Another CA altogether.
    certs["otherca"] = issue(dir, "otherca", "/CN=dave", selfSigned(dir, "other-ca", "/CN=Other CA"), CLIENT_EXT);
    return { caPem, caKey, certs, edgeFiles };
}

/** The server certificate Caddy loads instead of ACME's: one cert for every name, from a test CA. */
function serverCertificate(dir: string, model: Model): { folder: string; ca: string } {
    // The wildcard of the domain too, so services added by later tests are covered.
    const names = [
        model.private.fqdn,
        model.private.wildcard,
        `*.${model.domain}`,
        ...model.services.flatMap((s) => Object.values(s.hostnames)),
    ];
    const ca = selfSigned(dir, "server-ca", "/CN=e2e server CA");
    issue(dir, "server", `/CN=${model.private.fqdn}`, ca, sanExt(names, "extendedKeyUsage = serverAuth\n"));
    const folder = path.join(dir, "server-certs");
    fs.mkdirSync(folder);
    fs.writeFileSync(
        path.join(folder, "bundle.pem"),
        fs.readFileSync(path.join(dir, "server.pem"), "utf8") + fs.readFileSync(path.join(dir, "server.key"), "utf8"),
    );
    return { folder, ca: path.join(dir, "server-ca.pem") };
}

export interface LabConfigs {
    caddyfile: string;
    /** The container edge (Linux shape). */
    haproxyCfg: string;
    /** The native edge (Mac shape) and the relay it forwards to. */
    nativeCfg: string;
    relayCfg: string;
}

/** The lab's configs: the production renderers with loopback binds and addresses only. */
export function renderLab(model: Model, certFolder: string): LabConfigs {
    const a = model.addresses;
    return {
        caddyfile: renderCaddyfile(model, { certificates: { kind: "folder", dir: certFolder } }),
        haproxyCfg: renderEdgeCfg(model, {
            bind: {
                http: `127.0.0.1:${EDGE_PORTS.container.http}`,
                https: `127.0.0.1:${EDGE_PORTS.container.https},${SOURCES.lan}:${EDGE_PORTS.container.https}`,
            },
            upstream: { kind: "caddy", host: a.caddy, sourceAddress: a.haproxy },
            admin: LAB_ADMIN.container,
            // The lab's "tailnet" address stands in for the tailnet's ranges (kept apart from the LAN's limits).
            tailnetRanges: [`${SOURCES.tailnet}/32`],
        }),
        nativeCfg: labNativeCfg(
            model,
            `127.0.0.1:${EDGE_PORTS.native.http}`,
            `127.0.0.1:${EDGE_PORTS.native.https},${SOURCES.lan}:${EDGE_PORTS.native.https}`,
            RELAY,
        ),
        relayCfg: labRelayCfg(model, RELAY, LAB_RELAY_LIMITS, LAB_ADMIN.relay),
    };
}

/** A native edge (Mac shape) in the lab, forwarding to the relay at `relay`. */
function labNativeCfg(model: Model, http: string, https: string, relay: { plain: number; mtls: number }): string {
    return renderEdgeCfg(model, {
        bind: { http, https },
        upstream: { kind: "relay", host: RELAY.host, ports: { plain: relay.plain, mtls: relay.mtls } },
        // The lab's "tailnet" address stands in for the tailnet's ranges (kept apart from the LAN's limits).
        tailnetRanges: [`${SOURCES.tailnet}/32`],
    });
}

/** A relay in the lab, on RELAY.host at `ports`, connecting to the lab's Caddy as production's does. */
function labRelayCfg(
    model: Model,
    ports: { plain: number; mtls: number },
    limits: RelayOptions["limits"],
    admin?: string,
): string {
    return renderRelayCfg(model, {
        bind: { plain: `${RELAY.host}:${ports.plain}`, mtls: `${RELAY.host}:${ports.mtls}` },
        caddyHost: model.addresses.caddy,
        sourceAddress: model.addresses.haproxy,
        ...(admin !== undefined ? { admin } : {}),
        ...(limits !== undefined ? { limits } : {}),
    });
}

/** The leaf allowlist as the Docker host builds it: the current users' certificates, plus extras. */
export function clientsPem(certs: Record<string, ClientCert>, names: string[]): string {
    return names.map((n) => fs.readFileSync((certs[n] as ClientCert).cert, "utf8").trim() + "\n").join("");
}

/** Runs a reload script with `stdin` (a file bundle) on its standard input; bounded. */
export function runScript(
    script: string,
    env: Record<string, string>,
    stdin = "",
): { status: number | null; stdout: string; stderr: string } {
    const r = require("child_process").spawnSync("sh", ["-c", script], {
        env: { ...process.env, ...env },
        input: stdin,
        encoding: "utf8",
        timeout: 60_000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 15_000): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
        if (await check()) return;
        await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what}`);
}

function portOpen(port: number, host = "127.0.0.1"): Promise<boolean> {
    return new Promise((resolve) => {
        const s = require("net").connect({ host, port }, () => (s.destroy(), resolve(true)));
        s.on("error", () => resolve(false));
    });
}

function exited(p: ChildProcess): Promise<unknown> {
    return p.exitCode === null && p.signalCode === null ? new Promise((r) => p.once("exit", r)) : Promise.resolve();
}

function startHaproxy(dir: string, cfg: string, logs: string[], binary: string): LabHaproxy {
    fs.writeFileSync(path.join(dir, "haproxy.cfg"), cfg);
    const proc = spawn(binary, ["-W", "-db", "-C", dir, "-f", "haproxy.cfg"], { stdio: ["ignore", "pipe", "pipe"] });
    proc.stdout?.on("data", (d) => logs.push(String(d)));
    proc.stderr?.on("data", (d) => logs.push(String(d)));
    return { dir, cfg, proc };
}

/** Starts everything; `stop()` ends it all. */
export async function startLab(): Promise<Lab> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "homelab-e2e-"));
    const etc = path.join(dir, "etc");
    fs.mkdirSync(path.join(etc, "pki"), { recursive: true });
    const echoes: Record<string, Echo> = {};
    for (const n of ["dash", "media", "cloud", "wiki"]) echoes[n] = await startEcho(n);
    const ports = {
        dash: echoes["dash"]!.port,
        media: echoes["media"]!.port,
        cloud: echoes["cloud"]!.port,
        wiki: echoes["wiki"]!.port,
    };
    const config = e2eConfig(ports, { users: ["dave", "mom", "sam"], withWiki: false });
    const { caPem, caKey, certs, edgeFiles } = await pki(dir, config);
    // sam is the removed user: in the CA's history, not in the current users.
    const model = e2eModel(e2eConfig(ports, { users: ["dave", "mom"], withWiki: false }));
    const server = serverCertificate(dir, e2eModel(e2eConfig(ports, { users: ["dave"], withWiki: true })));
    const configs = renderLab(model, server.folder);

    // The expired, wrong-EKU and other-CA certificates are on the allowlist on purpose: the chain,
    // validity and EKU checks must refuse them on their own.
    const allow = clientsPem(certs, ["dave", "mom", "expired", "serverauth", "otherca"]);
    fs.writeFileSync(path.join(etc, "Caddyfile"), configs.caddyfile);
    fs.writeFileSync(path.join(etc, "pki/ca.pem"), caPem);
    fs.writeFileSync(path.join(etc, "pki/clients.pem"), allow);
    const hdir = (name: string, files: Record<string, string> = {}) => {
        const d = path.join(dir, name);
        fs.mkdirSync(d);
        for (const [f, content] of Object.entries(files)) fs.writeFileSync(path.join(d, f), content, { mode: 0o600 });
        return d;
    };

    const logs = { caddy: [] as string[], haproxy: [] as string[] };
    const caddyEnv = {
        ...process.env,
        HOME: dir,
        XDG_DATA_HOME: path.join(dir, "data"),
        XDG_CONFIG_HOME: path.join(dir, "config"),
    };
    const startCaddy = () => {
        const p = spawn(caddyBinary(), ["run", "--config", path.join(etc, "Caddyfile"), "--adapter", "caddyfile"], {
            env: caddyEnv,
            cwd: etc,
            stdio: ["ignore", "pipe", "pipe"],
        });
        p.stdout?.on("data", (d) => logs.caddy.push(String(d)));
        p.stderr?.on("data", (d) => logs.caddy.push(String(d)));
        return p;
    };
    const caddy = startCaddy();
    const pick = (...names: string[]) => Object.fromEntries(names.map((n) => [n, edgeFiles[n] as string]));
    // Every HAProxy runs a 3.x release: the two that connect to Caddy as the pinned image does in
    // production (Debian's 2.6 deadlocks when a held frontend is released: haproxy/haproxy#2726),
    // the native edge as the oldest a Mac may have (MIN_HAPROXY 3.0: it sends the edge's secret in
    // a TLV of its own, which 2.6 cannot).
    const haproxies = {
        container: startHaproxy(hdir("haproxy"), configs.haproxyCfg, logs.haproxy, haproxy3Binary()),
        relay: startHaproxy(
            hdir("relay", pick("edge-secret.sha256")),
            configs.relayCfg,
            logs.haproxy,
            haproxy3Binary(),
        ),
        native: startHaproxy(
            hdir("native", pick("edge-secret.map")),
            configs.nativeCfg,
            logs.haproxy,
            haproxy3Binary(),
        ),
    };
    const procs = () => [haproxies.native.proc, haproxies.relay.proc, haproxies.container.proc, lab.caddy];

    const lab: Lab = {
        dir,
        etc,
        model,
        echoes,
        caPem,
        caKey,
        certs,
        edgeFiles,
        caddyfile: configs.caddyfile,
        certFolder: server.folder,
        ports,
        haproxyCfg: configs.haproxyCfg,
        caddy,
        haproxy: haproxies.container.proc,
        haproxies,
        serverCa: server.ca,
        logs,
        async restartCaddy() {
            // What `docker restart --time 0 caddy` does: kill at once, start again with the files in place.
            const old = lab.caddy;
            old.kill("SIGKILL");
            await exited(old);
            lab.caddy = startCaddy();
            await waitFor(
                "Caddy after a restart",
                async () =>
                    (await portOpen(8443, model.addresses.caddy)) && (await portOpen(9443, model.addresses.caddy)),
            );
        },
        async stop() {
            for (const p of procs()) if (p.exitCode === null && p.signalCode === null) p.kill("SIGTERM");
            const timer = setTimeout(() => procs().forEach((p) => p.kill("SIGKILL")), 10_000);
            await Promise.all(procs().map(exited));
            clearTimeout(timer);
            for (const e of Object.values(echoes)) {
                e.server.closeAllConnections();
                await new Promise((r) => e.server.close(r));
            }
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
    try {
        const caddyAt = model.addresses.caddy;
        await waitFor(
            "Caddy's listeners",
            async () => (await portOpen(8443, caddyAt)) && (await portOpen(9443, caddyAt)),
        );
        await waitFor(
            "the relay's listeners",
            async () => (await portOpen(RELAY.plain)) && (await portOpen(RELAY.mtls)),
        );
        for (const mode of ["container", "native"] as const) {
            await waitFor(
                `the ${mode} edge's listeners`,
                async () => (await portOpen(EDGE_PORTS[mode].https)) && (await portOpen(EDGE_PORTS[mode].http)),
            );
        }
    } catch (e) {
        await lab.stop();
        throw new Error(
            `${(e as Error).message}\ncaddy: ${logs.caddy.join("").slice(-3000)}\nhaproxy: ${logs.haproxy.join("")}`,
        );
    }
    return lab;
}

/** A native edge and its relay started by a test (SPARE_MAC_EDGE), in front of the lab's Caddy. */
export interface MacEdge {
    edge: { http: number; https: number };
    relay: { plain: number; mtls: number };
    /** Both processes' output. */
    logs: string[];
    stop(): Promise<void>;
}

/**
 * Starts a native edge and a relay of their own, rendered as the lab's are but for the relay's
 * `limits`, with the lab's edge secret and the same HAProxy release (3.x).
 * One at a time (fixed ports); stop() ends both and removes their files.
 */
export async function startMacEdge(lab: Lab, limits: NonNullable<RelayOptions["limits"]>): Promise<MacEdge> {
    const p = SPARE_MAC_EDGE;
    const dir = fs.mkdtempSync(path.join(lab.dir, "mac-edge-"));
    const sub = (name: string, files: string[]) => {
        const d = path.join(dir, name);
        fs.mkdirSync(d);
        for (const f of files) fs.writeFileSync(path.join(d, f), lab.edgeFiles[f] as string, { mode: 0o600 });
        return d;
    };
    const logs: string[] = [];
    const relay = startHaproxy(
        sub("relay", ["edge-secret.sha256"]),
        labRelayCfg(lab.model, p.relay, limits),
        logs,
        haproxy3Binary(),
    );
    const native = startHaproxy(
        sub("native", ["edge-secret.map"]),
        labNativeCfg(lab.model, `127.0.0.1:${p.edge.http}`, `127.0.0.1:${p.edge.https}`, p.relay),
        logs,
        haproxy3Binary(),
    );
    const stop = async () => {
        const procs = [relay.proc, native.proc];
        for (const q of procs) if (q.exitCode === null && q.signalCode === null) q.kill("SIGTERM");
        const timer = setTimeout(() => procs.forEach((q) => q.kill("SIGKILL")), 10_000);
        await Promise.all(procs.map(exited));
        clearTimeout(timer);
        fs.rmSync(dir, { recursive: true, force: true });
    };
    try {
        await waitFor("the spare relay's and edge's listeners", async () => {
            for (const port of [p.relay.plain, p.relay.mtls, p.edge.http, p.edge.https])
                if (!(await portOpen(port))) return false;
            return true;
        });
    } catch (e) {
        await stop();
        throw new Error(`${(e as Error).message}\n${logs.join("").slice(-3000)}`);
    }
    return { edge: p.edge, relay: p.relay, logs, stop };
}

export interface CurlResult {
    exit: number | null;
    status: number;
    body: string;
    verbose: string;
}

export interface CurlOptions {
    cert?: string;
    path?: string;
    headers?: string[];
    http?: boolean;
    maxTime?: number;
    /** Which edge shape to go through (default: the container edge). */
    edge?: EdgeMode;
    /** Another edge's ports instead (a test's own, startMacEdge). */
    ports?: { http: number; https: number };
    /** Send the TLS server name `sni` while asking for `host` (a Host/SNI mismatch). */
    sni?: string;
}

/** curl from a given loopback source, with or without a client certificate; bounded. */
export function curl(lab: Lab, source: Source | string, host: string, opts: CurlOptions = {}): Promise<CurlResult> {
    const port = opts.ports ?? EDGE_PORTS[opts.edge ?? "container"];
    const from = (SOURCES as Record<string, string>)[source] ?? source;
    const args = [
        "-sS",
        "-v",
        "--max-time",
        String(opts.maxTime ?? 10),
        "--interface",
        from,
        "-o",
        "-",
        "-w",
        "\n%{http_code}",
    ];
    if (opts.http) {
        args.push("-H", `Host: ${host}`, `http://127.0.0.1:${port.http}${opts.path ?? "/"}`);
    } else {
        const name = opts.sni ?? host;
        args.push("--cacert", lab.serverCa, "--resolve", `${name}:${port.https}:127.0.0.1`);
        if (opts.cert) {
            const c = lab.certs[opts.cert] as ClientCert;
            args.push("--cert", c.cert, "--key", c.key);
        }
        if (opts.sni) args.push("-H", `Host: ${host}`);
        args.push(`https://${name}:${port.https}${opts.path ?? "/"}`);
    }
    for (const h of opts.headers ?? []) args.push("-H", h);
    return new Promise((resolve) => {
        const child = spawn("curl", args);
        let out = "";
        let err = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (err += d));
        child.on("close", (exit) => {
            const nl = out.lastIndexOf("\n");
            resolve({ exit, status: Number(out.slice(nl + 1)) || 0, body: out.slice(0, nl), verbose: err });
        });
    });
}

export { CADDY_APPLY, HAPROXY_WRITE };

/**
 * Renders the lab's stack for these users and services and applies it to Caddy with CADDY_APPLY;
 * like CADDY_RELOAD_ON_HOST, restarts Caddy when the script reports a revoked certificate, then
 * tells the script the restart is done.
 */
export async function applyAndRevoke(
    lab: Lab,
    opts: Parameters<typeof applyCaddy>[1],
): Promise<ReturnType<typeof applyCaddy>> {
    const r = applyCaddy(lab, opts);
    if (r.status === 0 && r.stdout.trim() === "revoked") {
        await lab.restartCaddy();
        const done = runScript(CADDY_APPLY, { ETC: lab.etc, RESTARTED: "1" });
        if (done.status !== 0) return { ...done, model: r.model };
    }
    return r;
}

/** Renders the lab's stack for these users and services and applies it to Caddy with CADDY_APPLY. */
export function applyCaddy(
    lab: Lab,
    opts: {
        users: string[];
        withWiki: boolean;
        allow?: string[];
        transform?: (m: Model) => Model;
        extraServices?: Record<string, unknown>;
        /** Further stack keys (e.g. homelab:hosts). */
        extraConfig?: Record<string, unknown>;
        /** Further files for Caddy's bundle (e.g. the hosts' CA and Caddy's key for their gateways). */
        extraFiles?: Record<string, string>;
        /** Further hosts' gateways: host name → address:port. */
        gateways?: Record<string, string>;
    },
): { status: number | null; stdout: string; stderr: string; model: Model } {
    const base = e2eModel({
        ...e2eConfig(lab.ports, {
            users: opts.users,
            withWiki: opts.withWiki,
            ...(opts.extraServices ? { extraServices: opts.extraServices } : {}),
        }),
        ...(opts.extraConfig ?? {}),
    });
    const model = opts.transform ? opts.transform(base) : base;
    const caddyfile = renderCaddyfile(model, {
        certificates: { kind: "folder", dir: lab.certFolder },
        ...(opts.gateways ? { gateways: opts.gateways } : {}),
    });
    const r = runScript(
        CADDY_APPLY,
        { ETC: lab.etc, CADDY: caddyBinary() },
        packFiles({
            Caddyfile: caddyfile,
            "ca.pem": lab.caPem,
            "clients.pem": clientsPem(lab.certs, opts.allow ?? opts.users),
            ...(opts.extraFiles ?? {}),
        }),
    );
    return { ...r, model };
}

/**
 * Writes a container-edge config with HAPROXY_WRITE, reloads that HAProxy softly (also when
 * nothing changed: the tests use it as "a reload"), and tells HAPROXY_WRITE the reload is done,
 * as HAPROXY_RELOAD_ON_HOST does.
 */
export function applyHaproxy(lab: Lab, model: Model): { status: number | null; stdout: string; stderr: string } {
    const { haproxyCfg } = renderLab(model, lab.certFolder);
    const env = { DIR: lab.haproxies.container.dir, HAPROXY: haproxy3Binary() };
    const r = runScript(HAPROXY_WRITE, env, packFiles({ "haproxy.cfg": haproxyCfg }));
    if (r.status === 0) {
        lab.haproxies.container.proc.kill("SIGUSR2");
        const done = runScript(HAPROXY_WRITE, { ...env, RELOADED: "1" }, "");
        if (done.status !== 0) return done;
    }
    return r;
}

/**
 * The lab's stand-in for the docker CLI, for CADDY_RELOAD_ON_HOST: `caddy` is the lab's Caddy
 * process and `haproxy` is both lab HAProxies that connect to Caddy. (Production has one: the
 * edge on Linux, the relay on a Mac. The lab runs both shapes against one Caddy, so a Caddy reload
 * must hold both; each gets its own admin socket and CLI lines.) Restarts are the lab's own
 * (lab.restartCaddy), so `restart` is refused here.
 */
const LAB_DOCKER = `#!/bin/sh
set -eu
verb=$1; shift
case "$verb" in
  inspect) echo true ;;
  exec)
    while [ $# -gt 0 ]; do
      case "$1" in
        -i) shift ;;
        -e) export "$2"; shift 2 ;;
        *) break ;;
      esac
    done
    name=$1; shift
    case "$name" in
      caddy) ETC="$LAB_ETC" CADDY="$LAB_CADDY" exec "$@" ;;
      haproxy)
        [ "$1 $2" = "sh -c" ] || { echo "lab docker: only sh -c runs in haproxy" >&2; exit 2; }
        # A hold prints one token per HAProxy (one line each); a release gets them back in TOKEN.
        tc=$(printf '%s\\n' "\${TOKEN:-}" | sed -n 1p)
        tr=$(printf '%s\\n' "\${TOKEN:-}" | sed -n 2p)
        container() { TOKEN="$tc" ADMIN="$LAB_ADMIN_CONTAINER" HOLD_STATE="$LAB_STATE_CONTAINER" HOLD_COMMANDS="$LAB_HOLD_CONTAINER" RELEASE_COMMANDS="$LAB_RELEASE_CONTAINER" sh -c "$1"; }
        relay() { TOKEN="$tr" ADMIN="$LAB_ADMIN_RELAY" HOLD_STATE="$LAB_STATE_RELAY" HOLD_COMMANDS="$LAB_HOLD_RELAY" RELEASE_COMMANDS="$LAB_RELEASE_RELAY" sh -c "$1"; }
        rc=0
        tc=$(container "$3") || rc=$?
        [ "$rc" -eq 0 ] || exit "$rc"
        [ "$MODE" != hold ] || printf '%s\\n' "$tc"
        # Like one HAProxy's hold: all or nothing.
        rc=0
        relay "$3" || rc=$?
        if [ "$rc" -ne 0 ]; then
          if [ "$MODE" = hold ]; then MODE=release TOKEN="$tc" container "$3" >/dev/null || true; fi
          exit "$rc"
        fi
        # A slow engine (tests): the hold is taken, and the docker command has not returned yet.
        if [ "$MODE" = hold ] && [ -n "\${LAB_SLOW_HOLD:-}" ]; then sleep "$LAB_SLOW_HOLD"; fi
        ;;
      *) echo "lab docker: no container $name" >&2; exit 1 ;;
    esac
    ;;
  *) echo "lab docker: $verb is not part of the lab" >&2; exit 1 ;;
esac
`;

/** A directory with the lab's docker stand-in and nc (busybox, as in the HAProxy image). */
function labBin(lab: Lab): string {
    const bin = path.join(lab.dir, "bin");
    if (!fs.existsSync(path.join(bin, "docker"))) {
        fs.mkdirSync(bin, { recursive: true });
        fs.writeFileSync(path.join(bin, "docker"), LAB_DOCKER, { mode: 0o755 });
        fs.symlinkSync(
            execFileSync("sh", ["-c", "command -v busybox"], { encoding: "utf8" }).trim(),
            path.join(bin, "nc"),
        );
        for (const role of ["container", "relay"]) fs.mkdirSync(path.join(lab.dir, "hold", role), { recursive: true });
    }
    return bin;
}

/** The environment of CADDY_RELOAD_ON_HOST in the lab: the component's, plus the lab docker's. */
export function labReloadEnvironment(lab: Lab, overrides: Record<string, string> = {}): Record<string, string> {
    const edge = holdCommands("edge");
    const relay = holdCommands("relay");
    return {
        ...caddyReloadEnvironment("container"),
        PATH: `${labBin(lab)}:${process.env["PATH"] ?? ""}`,
        LAB_ETC: lab.etc,
        LAB_CADDY: caddyBinary(),
        LAB_ADMIN_CONTAINER: LAB_ADMIN.container,
        LAB_ADMIN_RELAY: LAB_ADMIN.relay,
        LAB_STATE_CONTAINER: path.join(lab.dir, "hold", "container"),
        LAB_STATE_RELAY: path.join(lab.dir, "hold", "relay"),
        LAB_HOLD_CONTAINER: edge.hold,
        LAB_RELEASE_CONTAINER: edge.release,
        LAB_HOLD_RELAY: relay.hold,
        LAB_RELEASE_RELAY: relay.release,
        ...overrides,
    };
}

/**
 * Renders the lab's stack and applies it the way the DockerHost component does: CADDY_RELOAD_ON_HOST
 * (hold both HAProxies, settle, CADDY_APPLY, release), through the lab's docker stand-in. Async, so
 * traffic keeps flowing in the same test while it runs.
 */
export function reloadCaddyOnHost(
    lab: Lab,
    opts: { users: string[]; withWiki: boolean },
    overrides: Record<string, string> = {},
    spawned?: (p: ChildProcess) => void,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
    const model = e2eModel(e2eConfig(lab.ports, { users: opts.users, withWiki: opts.withWiki }));
    const { caddyfile } = renderLab(model, lab.certFolder);
    const bundle = packFiles({
        Caddyfile: caddyfile,
        "ca.pem": lab.caPem,
        "clients.pem": clientsPem(lab.certs, opts.users),
    });
    return runAsync(
        "sh",
        ["-c", CADDY_RELOAD_ON_HOST],
        { ...process.env, ...labReloadEnvironment(lab, overrides) },
        bundle,
        spawned,
    );
}

/** Runs a command with `stdin`, collecting its output; killed after a minute. Traffic can flow meanwhile. */
export function runAsync(
    cmd: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    stdin = "",
    spawned?: (p: ChildProcess) => void,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        const p = spawn(cmd, args, { env, stdio: ["pipe", "pipe", "pipe"] });
        spawned?.(p);
        let stdout = "";
        let stderr = "";
        p.stdout.on("data", (d) => (stdout += String(d)));
        p.stderr.on("data", (d) => (stderr += String(d)));
        const timer = setTimeout(() => p.kill("SIGKILL"), 60_000);
        p.on("close", (status) => {
            clearTimeout(timer);
            resolve({ status, stdout, stderr });
        });
        p.stdin.end(stdin);
    });
}
