// The engine tests' stack: a validated runtime "linux" model (edge in a container) with a
// private-only service (media: healthcheck, a read-only host mount and a named volume), a
// private+mtls one (cloud: a command and a secret env var), a public one (blog: also private, so
// Caddy joins the public network and the tests can check its listeners there), and one user.
// The containers come from dockerPlan(model); the configs are the production renders (the
// Caddyfile with a local certificate folder instead of ACME, inside Caddy's /etc/caddy mount) and
// are applied with the exact host-side scripts from render/reload.ts.
//
// Addresses in the engine's network namespace (never on the host): the stack's tailnet address,
// a tailnet client, one more tailnet address nothing is published on, and the listed LAN address.
import * as fs from "fs";
import * as path from "path";
import { ChildProcess } from "child_process";
import { CLIENT_EXT, issue, sanExt, selfSigned } from "../support/openssl";
import { Model } from "../../stacks/model";
import { validate } from "../../stacks/validate";
import { renderCaddyfile } from "../../render/caddyfile";
import { renderContainerHaproxyCfg } from "../../render/all";
import {
    CADDY_RELOAD_ON_HOST,
    caddyReloadEnvironment,
    HAPROXY_RELOAD_ON_HOST,
    HAPROXY_WRITE,
    packFiles,
} from "../../render/reload";
import { CADDY_ETC, CADDY_HOSTS_PKI } from "../../stacks/layout";
import { DockerPlan, dockerPlan } from "../../plan/docker";
import { DATA_DIRS } from "../../stacks/layout";
import versions from "../../render/versions.json";
import { EXAMPLE_DEV_BASE } from "../support/exampleDev";
import { CmdResult, Engine } from "./engine";
import { applyContainer, applyNetworks } from "./apply";
import { tagEchoAs } from "./images";
import { rawConfigOf } from "../../stacks/stackFile";

export const SUBNET = "10.213.0.0/24";
export const LAN = "192.168.77.0/24";
export const ADDR = {
    /** The stack's tailnet address (homelab:tailnet.ipv4 in EXAMPLE_DEV_BASE). */
    tailnet: "100.101.102.103",
    /** A tailnet client: a trusted source, were its address seen. */
    tailnetClient: "100.101.102.50",
    /** Another address in the namespace where nothing is published. */
    other: "100.101.102.104",
    /** homelab:docker.listenAddresses (inside homelab:trustedNetworks). */
    listen: "192.168.77.10",
} as const;
export const HOSTS = {
    media: "media.home.example.dev",
    cloud: "cloud.example.dev",
    cloudPrivate: "cloud.home.example.dev",
    wiki: "wiki.example.dev",
    blog: "blog.example.dev",
} as const;
/** Where the server certificate folder is, inside Caddy's container (its /etc/caddy mount). */
export const CERT_DIR_IN_CADDY = `${CADDY_ETC}/server-certs`;

export interface StackOptions {
    /** cloud (and wiki) also expose mtls; without it the edge does not split. */
    mtls: boolean;
    wiki: boolean;
    users: string[];
    /** IPv6 on the Linux edge: a tailnet IPv6 address, a listed IPv6 LAN address, docker.ip6tables. */
    ipv6?: boolean;
    /** Further stack keys (e.g. homelab:monitoring). */
    extra?: Record<string, unknown>;
}

/** The IPv6 side of the stack (StackOptions.ipv6) and of its clients in a network namespace of their own. */
export const V6 = {
    /** homelab:tailnet.ipv6 */
    tailnet: "fd7a:115c:a1e0::1234",
    tailnetClient: "fd7a:115c:a1e0::50",
    /** A trusted LAN /64 (homelab:trustedNetworks) and the host's listed address in it. */
    lan: "fd77::/64",
    listen: "fd77::10",
    lanClient: "fd77::50",
    /** A client from nowhere trusted (the WAN), and a second address in its /64. */
    wanClient: "2001:db8:99::50",
    wanClient2: "2001:db8:99::51",
} as const;

export function stackConfig(dir: string, o: StackOptions): Record<string, unknown> {
    const mtls = o.mtls ? ["private", "mtls"] : ["private"];
    const image = (name: string, tag: string) => `registry.example.dev/homelab-test/${name}:${tag}`;
    const services: Record<string, unknown> = {
        media: {
            image: image("media", "1.0.0"),
            port: 8080,
            env: { ECHO_NAME: "media" },
            volumes: [`${dir}/media-files:/media:ro`, "media-cache:/cache"],
            // 1500ms and 2000ms: Docker reports them back as 1.5s and 2s (Go's form).
            healthcheck: {
                test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/health"],
                interval: "1500ms",
                timeout: "2000ms",
                retries: 3,
                startPeriod: "1s",
            },
            memory: "64m",
        },
        cloud: {
            image: image("cloud", "2.0.0"),
            port: 8080,
            expose: mtls,
            command: ["-name", "cloud", "-listen", ":8080"],
            secretEnv: { CLOUD_TOKEN: "cloudToken" },
        },
        blog: { image: image("blog", "3.0.0"), port: 8080, expose: ["private", "public"], env: { ECHO_NAME: "blog" } },
    };
    if (o.wiki)
        services["wiki"] = { image: image("wiki", "1.1.0"), port: 8080, expose: mtls, env: { ECHO_NAME: "wiki" } };
    return {
        ...EXAMPLE_DEV_BASE,
        "homelab:trustedNetworks": [LAN, ...(o.ipv6 ? [V6.lan] : [])],
        ...(o.ipv6 ? { "homelab:tailnet": { ipv4: ADDR.tailnet, ipv6: V6.tailnet } } : {}),
        "homelab:docker": {
            runtime: "linux",
            dataDir: path.join(dir, "srv"),
            subnet: SUBNET,
            listenAddresses: [ADDR.listen, ...(o.ipv6 ? [V6.listen] : [])],
            ...(o.ipv6 ? { ip6tables: true } : {}),
        },
        "homelab:services": services,
        "homelab:users": o.users.map((name) => ({ name })),
        ...(o.extra ?? {}),
    };
}

/** Where the stack's data folder is said to be for validation: a test's own temp folder is refused (the OS empties it). */
const DATA_DIR_STANDIN = "/srv/homelab-engine-test";

export function stackModel(dir: string, o: StackOptions): Model {
    const cfg = stackConfig(dir, o);
    const docker = cfg["homelab:docker"] as { dataDir: string };
    const dataDir = docker.dataDir;
    const m = validate(rawConfigOf({ ...cfg, "homelab:docker": { ...docker, dataDir: DATA_DIR_STANDIN } }), [
        "cloudToken",
    ]);
    // The engine's own temp folder in its place, as the validator would have kept it.
    return { ...m, docker: { ...m.docker, dataDir } };
}

/** Every name the stacks' Caddy serves a certificate for: the private apex and wildcard, each service's names. */
export function serverNames(...models: Model[]): string[] {
    return [
        ...new Set(
            models.flatMap((m) => [
                m.private.fqdn,
                m.private.wildcard,
                ...m.services.flatMap((s) => Object.values(s.hostnames)),
            ]),
        ),
    ];
}

export interface Pki {
    serverCa: string;
    /** Client CA (PEM text) and each user's certificate and key files. */
    caPem: string;
    users: Record<string, { cert: string; key: string }>;
}

/** A server certificate for every name (in Caddy's folder) and a client CA with two users. */
export function makePki(dir: string, certFolderOnHost: string, names: string[], users: string[]): Pki {
    fs.mkdirSync(dir, { recursive: true });
    const serverCa = selfSigned(dir, "server-ca", "/CN=engine test server CA");
    const server = issue(dir, "server", `/CN=${names[0]}`, serverCa, sanExt(names, "extendedKeyUsage = serverAuth\n"));
    fs.mkdirSync(certFolderOnHost, { recursive: true });
    fs.writeFileSync(
        path.join(certFolderOnHost, "bundle.pem"),
        fs.readFileSync(server.cert, "utf8") + fs.readFileSync(server.key, "utf8"),
    );
    const usersCa = selfSigned(dir, "users-ca", "/CN=engine test users CA");
    const out: Pki = { serverCa: serverCa.cert, caPem: fs.readFileSync(usersCa.cert, "utf8"), users: {} };
    for (const u of users) out.users[u] = issue(dir, u, `/CN=${u}`, usersCa, CLIENT_EXT);
    return out;
}

export function caddyfileFor(model: Model): string {
    return renderCaddyfile(model, { certificates: { kind: "folder", dir: CERT_DIR_IN_CADDY } });
}

/** The leaf allowlist as components/dockerHost.ts clientsPem builds it: by user name, trimmed. */
export function clientsPem(pki: Pki, users: string[]): string {
    return [...users]
        .sort()
        .map((u) => fs.readFileSync((pki.users[u] as { cert: string }).cert, "utf8").trim() + "\n")
        .join("");
}

/** PEM texts for further hosts: the hosts CA and Caddy's client certificate and key. */
export interface HostsTlsPems {
    ca: string;
    cert: string;
    key: string;
}

export function caddyBundle(
    model: Model,
    pki: Pki,
    opts: { caddyfile?: string; hostsTls?: HostsTlsPems } = {},
): string {
    const h = opts.hostsTls;
    // Under the names the Caddyfile reads them by (as components/dockerHost.ts caddyBundle packs them).
    const name = (f: string) => path.basename(f);
    return packFiles({
        Caddyfile: opts.caddyfile ?? caddyfileFor(model),
        "ca.pem": pki.caPem,
        "clients.pem": clientsPem(
            pki,
            model.users.map((u) => u.name),
        ),
        ...(h
            ? {
                  [name(CADDY_HOSTS_PKI.ca)]: h.ca,
                  [name(CADDY_HOSTS_PKI.clientCert)]: h.cert,
                  [name(CADDY_HOSTS_PKI.clientKey)]: h.key,
              }
            : {}),
    });
}

export function haproxyBundle(model: Model, cfg = renderContainerHaproxyCfg(model)): string {
    return packFiles({ "haproxy.cfg": cfg });
}

/** CADDY_RELOAD_ON_HOST exactly as the DockerHost component runs it (env + bundle on stdin). */
export function applyCaddyConfig(
    engine: Engine,
    model: Model,
    bundle: string,
    env: Record<string, string> = {},
): Promise<CmdResult> {
    return engine.script(CADDY_RELOAD_ON_HOST, { ...caddyReloadEnvironment(model.edge), ...env }, bundle);
}

export function haproxyConfigDir(model: Model): string {
    return `${model.docker.dataDir}/${DATA_DIRS.haproxy}`;
}

/** HAPROXY_RELOAD_ON_HOST exactly as the Edge component runs it. */
export function applyHaproxyConfig(engine: Engine, model: Model, bundle: string): Promise<CmdResult> {
    return engine.script(
        HAPROXY_RELOAD_ON_HOST,
        {
            IMAGE: versions.haproxyImage,
            CONFIG_DIR: haproxyConfigDir(model),
            CONTAINER: "haproxy",
            WRITE: HAPROXY_WRITE,
        },
        bundle,
    );
}

/** Just the throwaway-container half of HAPROXY_RELOAD_ON_HOST, to read what WRITE prints. */
export function haproxyWriteOnly(engine: Engine, model: Model, bundle: string): Promise<CmdResult> {
    return engine.docker(
        [
            "run",
            "--rm",
            "-i",
            "--user",
            "0",
            "--network",
            "none",
            "-v",
            `${haproxyConfigDir(model)}:/cfg`,
            "--entrypoint",
            "sh",
            versions.haproxyImage,
            "-c",
            HAPROXY_WRITE,
        ],
        { input: bundle },
    );
}

export interface CurlOptions {
    host: string;
    path?: string;
    /** Destination address (default 127.0.0.1) and port (443, or 80 with http). */
    dest?: string;
    port?: number;
    /** Source address in the namespace (curl --interface). */
    source?: string;
    user?: string;
    http?: boolean;
    maxTime?: number;
}

export interface CurlResult {
    exit: number | null;
    status: number;
    body: string;
    verbose: string;
}

export function curlArgs(pki: Pki, o: CurlOptions): string[] {
    // Where the router forwards :443 (the listed LAN address): the edge publishes nowhere else but the tailnet address.
    const dest = o.dest ?? ADDR.listen;
    const destUrl = dest.includes(":") ? `[${dest}]` : dest;
    const args = ["-sS", "-v", "--max-time", String(o.maxTime ?? 10), "-o", "-", "-w", "\n%{http_code}"];
    if (o.source) args.push("--interface", o.source);
    if (o.http) {
        args.push("-H", `Host: ${o.host}`, `http://${destUrl}:${o.port ?? 80}${o.path ?? "/"}`);
    } else {
        const port = o.port ?? 443;
        args.push("--cacert", pki.serverCa, "--resolve", `${o.host}:${port}:${destUrl}`);
        if (o.user) {
            const u = pki.users[o.user];
            if (!u) throw new Error(`no such test user ${o.user}`);
            args.push("--cert", u.cert, "--key", u.key);
        }
        args.push(`https://${o.host}:${port}${o.path ?? "/"}`);
    }
    return args;
}

export function parseCurl(r: { status: number | null; stdout: string; stderr: string }): CurlResult {
    const nl = r.stdout.lastIndexOf("\n");
    return {
        exit: r.status,
        status: Number(r.stdout.slice(nl + 1)) || 0,
        body: r.stdout.slice(0, nl),
        verbose: r.stderr,
    };
}

/** curl inside the engine's namespace (where the published ports are); bounded. */
export async function curl(engine: Engine, pki: Pki, o: CurlOptions): Promise<CurlResult> {
    return parseCurl(await engine.inNetns("curl", curlArgs(pki, o), { timeoutMs: ((o.maxTime ?? 10) + 5) * 1000 }));
}

export interface Stream {
    child: ChildProcess;
    /** Resolves when the first chunk has arrived. */
    started: Promise<void>;
    done: Promise<CurlResult>;
}

/** A long response (echo /stream) through the published port. */
export function startStream(engine: Engine, pki: Pki, o: CurlOptions): Stream {
    const child = engine.spawnInNetns("curl", ["-N", ...curlArgs(pki, { maxTime: 30, ...o })]);
    let out = "";
    let err = "";
    let firstChunk: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (firstChunk = resolve));
    child.stdout?.on("data", (d) => {
        out += d;
        if (out.includes("chunk 0")) firstChunk();
    });
    child.stderr?.on("data", (d) => (err += d));
    const done = new Promise<CurlResult>((resolve) =>
        child.on("close", (status) => {
            firstChunk();
            resolve(parseCurl({ status, stdout: out, stderr: err }));
        }),
    );
    return { child, started, done };
}

export async function waitFor<T>(
    what: string,
    check: () => Promise<T | undefined | false>,
    ms = 30_000,
    every = 250,
): Promise<T> {
    const until = Date.now() + ms;
    let last: unknown;
    while (Date.now() < until) {
        try {
            const v = await check();
            if (v) return v;
        } catch (e) {
            last = e;
        }
        await new Promise((r) => setTimeout(r, every));
    }
    throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
}

export interface Stack {
    dir: string;
    model: Model;
    plan: DockerPlan;
    pki: Pki;
    /** What setting the stack up noticed (printed by the test). */
    notes: string[];
}

/** Every registry ref the plans use for services and cloudflared, served by the echo image. */
export async function tagServiceImages(engine: Engine, plans: DockerPlan[]): Promise<void> {
    const refs = new Set<string>();
    for (const p of plans)
        for (const c of p.containers)
            if ((c.role === "service" || c.role === "cloudflared") && c.image.kind === "remote") refs.add(c.image.ref);
    for (const r of refs) await tagEchoAs(engine, r);
}

/**
 * Brings the stack up in the order the Pulumi program does: networks; Caddy (started with no
 * config) then its config through CADDY_RELOAD_ON_HOST; cloudflared and the services; the
 * haproxy.cfg through HAPROXY_RELOAD_ON_HOST (which creates the config dir) and then HAProxy.
 * Caddy's bundle is caddyBundle(model, pki) unless one is given (with further hosts' files).
 */
export async function bringUp(engine: Engine, stack: Stack, opts: { caddyBundle?: string } = {}): Promise<void> {
    const { model, plan, pki } = stack;
    const bundle = opts.caddyBundle ?? caddyBundle(model, pki);
    await applyNetworks(engine, plan);
    const byRole = (role: string) => plan.containers.filter((c) => c.role === role);
    for (const spec of byRole("caddy")) await applyContainer(engine, spec);
    let r = await applyCaddyConfig(engine, model, bundle);
    if (r.status !== 0) {
        // The component runs the reload right after the container starts; note it if Caddy's
        // admin endpoint was not up yet, and retry once it is.
        stack.notes.push(
            `first CADDY_RELOAD_ON_HOST right after start failed (${r.status}): ${r.stderr.trim().split("\n").pop()}`,
        );
        await waitFor(
            "Caddy's admin endpoint",
            async () =>
                (
                    await engine.docker([
                        "exec",
                        "caddy",
                        "wget",
                        "-q",
                        "-O",
                        "/dev/null",
                        "http://localhost:2019/config/",
                    ])
                ).status === 0,
        );
        r = await applyCaddyConfig(engine, model, bundle);
        if (r.status !== 0) throw new Error(`CADDY_RELOAD_ON_HOST failed: ${r.stderr}`);
    }
    for (const spec of [...byRole("cloudflared"), ...byRole("service")]) await applyContainer(engine, spec);
    r = await applyHaproxyConfig(engine, model, haproxyBundle(model));
    if (r.status !== 0) throw new Error(`HAPROXY_RELOAD_ON_HOST failed: ${r.stderr}`);
    for (const spec of [...byRole("edge"), ...byRole("relay")]) await applyContainer(engine, spec);
}

export function newStack(dir: string, opts: StackOptions, pki: Pki): Stack {
    const model = stackModel(dir, opts);
    return { dir, model, plan: dockerPlan(model), pki, notes: [] };
}
