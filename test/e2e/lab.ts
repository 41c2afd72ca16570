// A homelab on loopback for the end-to-end tests: the rendered haproxy.cfg and Caddyfile run by
// real HAProxy and the Caddy test build, echo servers standing in for the services, and client
// certificates from the program's own CA code path. Only the Caddyfile's certificate source
// differs from production (a local certificate instead of ACME).
//
// Addresses (all loopback): LAN 127.0.0.2 (a trusted network), tailnet 127.0.0.3 (stands in for
// the tailnet ranges), WAN 127.0.0.4 (anyone else). HAProxy listens on 127.0.0.1 and connects to
// Caddy from 127.0.0.10, the address the rendered Caddyfile accepts PROXY headers from (the
// model's Docker subnet is 127.0.0.0/24 here, so haproxyAddress() gives it).
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";
import { ChildProcess, execFileSync, spawn } from "child_process";
import { Model } from "../../stacks/model";
import { validate } from "../../stacks/validate";
import { renderCaddyfile } from "../../render/caddyfile";
import { renderHaproxyCfg } from "../../render/haproxy";
import { haproxyAddress } from "../../render/addresses";
import { CADDY_APPLY, HAPROXY_WRITE } from "../../render/reload";
import { caddyBinary, haproxyBinary } from "../support/binaries";
import { runProgram } from "../harness";
import { EXAMPLE_DEV_BASE } from "../support/exampleDev";

export const SOURCES = { lan: "127.0.0.2", tailnet: "127.0.0.3", wan: "127.0.0.4" } as const;
export type Source = keyof typeof SOURCES;
export const HAPROXY_HTTP = 18080;
export const HAPROXY_HTTPS = 18443;
export const HOSTS = { private: "media.home.example.dev", mtls: "cloud.example.dev", unknown: "unknown.example.dev", apex: "home.example.dev" } as const;

export interface Echo {
    name: string;
    port: number;
    hits: { headers: http.IncomingHttpHeaders; url: string }[];
    server: http.Server;
}

/** An upstream that answers with its name and what it received; /stream sends 10 chunks over ~2 s. */
export async function startEcho(name: string): Promise<Echo> {
    const echo: Echo = { name, port: 0, hits: [], server: http.createServer() };
    echo.server.on("request", (req, res) => {
        echo.hits.push({ headers: req.headers, url: req.url ?? "" });
        if (req.url === "/stream") {
            res.writeHead(200, { "content-type": "text/plain" });
            let i = 0;
            const t = setInterval(() => {
                res.write(`chunk ${i}\n`);
                if (++i === 10) {
                    clearInterval(t);
                    res.end("done\n");
                }
            }, 200);
            return;
        }
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ service: name, host: req.headers.host, xff: req.headers["x-forwarded-for"] ?? null }));
    });
    await new Promise<void>((r) => echo.server.listen(0, "127.0.0.1", r));
    echo.port = (echo.server.address() as { port: number }).port;
    return echo;
}

/** The e2e stack, as a stack file's config would give it. */
export function e2eConfig(ports: { media: number; cloud: number; dash: number; wiki: number }, opts: { users: string[]; withWiki: boolean }): Record<string, unknown> {
    const services: Record<string, unknown> = {
        dash: { upstream: `127.0.0.1:${ports.dash}`, apex: true },
        media: { upstream: `127.0.0.1:${ports.media}` },
        cloud: { upstream: `127.0.0.1:${ports.cloud}`, expose: ["private", "mtls"] },
    };
    if (opts.withWiki) services["wiki"] = { upstream: `127.0.0.1:${ports.wiki}`, expose: ["private", "mtls"] };
    return {
        ...EXAMPLE_DEV_BASE,
        "homelab:docker": { runtime: "linux", dataDir: "/srv/homelab" },
        "homelab:services": services,
        "homelab:users": opts.users.map((name) => ({ name })),
    };
}

/** The model the lab runs: the validated config, placed on loopback addresses. */
export function e2eModel(config: Record<string, unknown>): Model {
    const raw = Object.fromEntries(Object.entries(config).map(([k, v]) => [k.slice("homelab:".length), v]));
    const m = validate(raw);
    // Loopback stand-ins that the validator (rightly) refuses in a real stack.
    return { ...m, trustedNetworks: [`${SOURCES.lan}/32`], docker: { ...m.docker, subnet: "127.0.0.0/24" } };
}

export interface ClientCert {
    cert: string;
    key: string;
}

export interface Lab {
    dir: string;
    etc: string;
    model: Model;
    echoes: Record<string, Echo>;
    caPem: string;
    /** Client certificate files, by case. */
    certs: Record<string, ClientCert>;
    caddyfile: string;
    haproxyCfg: string;
    caddy: ChildProcess;
    haproxy: ChildProcess;
    serverCa: string;
    logs: { caddy: string[]; haproxy: string[] };
    stop(): Promise<void>;
}

function sh(args: string[], cwd: string): void {
    execFileSync(args[0] as string, args.slice(1), { cwd, stdio: "pipe" });
}

/** Issues a certificate with the stack CA's key (for the expired and wrong-EKU cases). */
function issueWithCa(dir: string, name: string, caCert: string, caKey: string, ext: string, dates?: { start: string; end: string }): ClientCert {
    fs.writeFileSync(path.join(dir, "stackca.pem"), caCert);
    fs.writeFileSync(path.join(dir, "stackca.key"), caKey, { mode: 0o600 });
    sh(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`], dir);
    fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
    if (dates) {
        // openssl ca is the one that can backdate: a throwaway database for this one signature.
        fs.writeFileSync(path.join(dir, "index.txt"), "");
        fs.writeFileSync(path.join(dir, "ca.cnf"), `[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\ndefault_md = sha256\npolicy = p\ncopy_extensions = none\n[p]\ncommonName = supplied\n`);
        fs.writeFileSync(path.join(dir, "serial"), "1000\n");
        sh(["openssl", "ca", "-batch", "-config", "ca.cnf", "-cert", "stackca.pem", "-keyfile", "stackca.key", "-in", `${name}.csr`, "-out", `${name}.pem`, "-startdate", dates.start, "-enddate", dates.end, "-extfile", `${name}.ext`, "-notext"], dir);
    } else {
        sh(["openssl", "x509", "-req", "-in", `${name}.csr`, "-CA", "stackca.pem", "-CAkey", "stackca.key", "-out", `${name}.pem`, "-days", "2", "-extfile", `${name}.ext`], dir);
    }
    return { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) };
}

const CLIENT_EXT = "basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\nextendedKeyUsage = clientAuth\n";

/** Everything the client-certificate matrix needs, from the program's own CA outputs. */
async function pki(dir: string, config: Record<string, unknown>): Promise<{ caPem: string; caKey: string; certs: Record<string, ClientCert> }> {
    const run = await runProgram(config, { stack: "e2e" });
    if (run.error) throw run.error;
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
        sh(["openssl", "pkcs12", "-in", p12, "-passin", pw, "-clcerts", "-nokeys", "-out", `${user}.pem`], dir);
        sh(["openssl", "pkcs12", "-in", p12, "-passin", pw, "-nocerts", "-nodes", "-out", `${user}.key`], dir);
        certs[user] = { cert: path.join(dir, `${user}.pem`), key: path.join(dir, `${user}.key`) };
    }
    certs["expired"] = issueWithCa(dir, "expired", caPem, caKey, CLIENT_EXT, { start: "20240101000000Z", end: "20240201000000Z" });
    certs["serverauth"] = issueWithCa(dir, "serverauth", caPem, caKey, "basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\nextendedKeyUsage = serverAuth\n");
    // Another CA altogether.
    sh(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "other-ca.key", "-out", "other-ca.pem", "-subj", "/CN=Other CA", "-days", "2"], dir);
    sh(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "otherca.key", "-out", "otherca.csr", "-subj", "/CN=dave"], dir);
    fs.writeFileSync(path.join(dir, "client.ext"), CLIENT_EXT);
    sh(["openssl", "x509", "-req", "-in", "otherca.csr", "-CA", "other-ca.pem", "-CAkey", "other-ca.key", "-out", "otherca.pem", "-days", "2", "-extfile", "client.ext"], dir);
    certs["otherca"] = { cert: path.join(dir, "otherca.pem"), key: path.join(dir, "otherca.key") };
    return { caPem, caKey, certs };
}

/** The server certificate Caddy loads instead of ACME's: one cert for every name, from a test CA. */
function serverCertificate(dir: string, model: Model): { folder: string; ca: string } {
    const names = [model.private.fqdn, model.private.wildcard, ...model.services.flatMap((s) => Object.values(s.hostnames))];
    sh(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "server-ca.key", "-out", "server-ca.pem", "-subj", "/CN=e2e server CA", "-days", "2"], dir);
    sh(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", `/CN=${model.private.fqdn}`], dir);
    fs.writeFileSync(path.join(dir, "server.ext"), `subjectAltName = ${[...new Set(names)].map((n) => `DNS:${n}`).join(", ")}\nextendedKeyUsage = serverAuth\n`);
    sh(["openssl", "x509", "-req", "-in", "server.csr", "-CA", "server-ca.pem", "-CAkey", "server-ca.key", "-out", "server.pem", "-days", "2", "-extfile", "server.ext"], dir);
    const folder = path.join(dir, "server-certs");
    fs.mkdirSync(folder);
    fs.writeFileSync(path.join(folder, "bundle.pem"), fs.readFileSync(path.join(dir, "server.pem"), "utf8") + fs.readFileSync(path.join(dir, "server.key"), "utf8"));
    return { folder, ca: path.join(dir, "server-ca.pem") };
}

export function renderLab(model: Model, certFolder: string): { caddyfile: string; haproxyCfg: string } {
    return {
        caddyfile: renderCaddyfile(model, {
            haproxyAddress: haproxyAddress(model.docker.subnet),
            certificates: { kind: "folder", dir: certFolder },
        }),
        haproxyCfg: renderHaproxyCfg(model, {
            caddyHost: "127.0.0.1",
            bind: { http: `127.0.0.1:${HAPROXY_HTTP}`, https: `127.0.0.1:${HAPROXY_HTTPS}` },
            sourceAddress: haproxyAddress(model.docker.subnet),
            tailnetRanges: [`${SOURCES.tailnet}/32`],
        }),
    };
}

/** The leaf allowlist as the Docker host builds it: the current users' certificates, plus extras. */
export function clientsPem(certs: Record<string, ClientCert>, names: string[]): string {
    return names.map((n) => fs.readFileSync((certs[n] as ClientCert).cert, "utf8").trim() + "\n").join("");
}

export function runScript(script: string, env: Record<string, string>): { status: number | null; stderr: string } {
    const r = require("child_process").spawnSync("sh", ["-c", script], { env: { ...process.env, ...env }, encoding: "utf8", timeout: 60_000 });
    return { status: r.status, stderr: r.stderr };
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 15_000): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
        if (await check()) return;
        await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what}`);
}

function portOpen(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const s = require("net").connect({ host: "127.0.0.1", port }, () => (s.destroy(), resolve(true)));
        s.on("error", () => resolve(false));
    });
}

/** Starts everything; `stop()` ends it all. */
export async function startLab(): Promise<Lab> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "homelab-e2e-"));
    const etc = path.join(dir, "etc");
    fs.mkdirSync(path.join(etc, "pki"), { recursive: true });
    const echoes: Record<string, Echo> = {};
    for (const n of ["dash", "media", "cloud", "wiki"]) echoes[n] = await startEcho(n);
    const ports = { dash: echoes["dash"]!.port, media: echoes["media"]!.port, cloud: echoes["cloud"]!.port, wiki: echoes["wiki"]!.port };
    const config = e2eConfig(ports, { users: ["dave", "mom", "sam"], withWiki: false });
    const { caPem, certs } = await pki(dir, config);
    // sam is the removed user: in the CA's history, not in the current users.
    const model = e2eModel(e2eConfig(ports, { users: ["dave", "mom"], withWiki: false }));
    const server = serverCertificate(dir, e2eModel(e2eConfig(ports, { users: ["dave"], withWiki: true })));
    const { caddyfile, haproxyCfg } = renderLab(model, server.folder);

    // The expired, wrong-EKU and other-CA certificates are on the allowlist on purpose: the chain,
    // validity and EKU checks must refuse them on their own.
    const allow = clientsPem(certs, ["dave", "mom", "expired", "serverauth", "otherca"]);
    fs.writeFileSync(path.join(etc, "Caddyfile"), caddyfile);
    fs.writeFileSync(path.join(etc, "pki/ca.pem"), caPem);
    fs.writeFileSync(path.join(etc, "pki/clients.pem"), allow);
    const haproxyDir = path.join(dir, "haproxy");
    fs.mkdirSync(haproxyDir);
    fs.writeFileSync(path.join(haproxyDir, "haproxy.cfg"), haproxyCfg);

    const logs = { caddy: [] as string[], haproxy: [] as string[] };
    const caddyEnv = { ...process.env, HOME: dir, XDG_DATA_HOME: path.join(dir, "data"), XDG_CONFIG_HOME: path.join(dir, "config") };
    const caddy = spawn(caddyBinary(), ["run", "--config", path.join(etc, "Caddyfile"), "--adapter", "caddyfile"], { env: caddyEnv, cwd: etc, stdio: ["ignore", "pipe", "pipe"] });
    caddy.stdout?.on("data", (d) => logs.caddy.push(String(d)));
    caddy.stderr?.on("data", (d) => logs.caddy.push(String(d)));
    const haproxy = spawn(haproxyBinary(), ["-W", "-db", "-f", path.join(haproxyDir, "haproxy.cfg")], { stdio: ["ignore", "pipe", "pipe"] });
    haproxy.stdout?.on("data", (d) => logs.haproxy.push(String(d)));
    haproxy.stderr?.on("data", (d) => logs.haproxy.push(String(d)));

    const lab: Lab = {
        dir,
        etc,
        model,
        echoes,
        caPem,
        certs,
        caddyfile,
        haproxyCfg,
        caddy,
        haproxy,
        serverCa: server.ca,
        logs,
        async stop() {
            for (const p of [haproxy, caddy]) if (p.exitCode === null) p.kill("SIGTERM");
            await Promise.all([haproxy, caddy].map((p) => (p.exitCode === null ? new Promise((r) => p.once("exit", r)) : Promise.resolve())));
            for (const e of Object.values(echoes)) {
                e.server.closeAllConnections();
                await new Promise((r) => e.server.close(r));
            }
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
    try {
        await waitFor("Caddy's listeners", async () => (await portOpen(8443)) && (await portOpen(9443)));
        await waitFor("HAProxy's listeners", async () => (await portOpen(HAPROXY_HTTPS)) && (await portOpen(HAPROXY_HTTP)));
    } catch (e) {
        await lab.stop();
        throw new Error(`${(e as Error).message}\ncaddy: ${logs.caddy.join("").slice(-3000)}\nhaproxy: ${logs.haproxy.join("")}`);
    }
    return lab;
}

export interface CurlResult {
    exit: number | null;
    status: number;
    body: string;
    verbose: string;
}

/** curl from a given loopback source, with or without a client certificate; bounded. */
export function curl(lab: Lab, source: Source, host: string, opts: { cert?: string; path?: string; headers?: string[]; http?: boolean; maxTime?: number } = {}): Promise<CurlResult> {
    const args = ["-sS", "-v", "--max-time", String(opts.maxTime ?? 10), "--interface", SOURCES[source], "-o", "-", "-w", "\n%{http_code}"];
    if (opts.http) {
        args.push("-H", `Host: ${host}`, `http://127.0.0.1:${HAPROXY_HTTP}${opts.path ?? "/"}`);
    } else {
        args.push("--cacert", lab.serverCa, "--resolve", `${host}:${HAPROXY_HTTPS}:127.0.0.1`);
        if (opts.cert) {
            const c = lab.certs[opts.cert] as ClientCert;
            args.push("--cert", c.cert, "--key", c.key);
        }
        args.push(`https://${host}:${HAPROXY_HTTPS}${opts.path ?? "/"}`);
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
