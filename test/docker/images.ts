// The images the engine tests run, built locally on the private engine (nothing can be pulled):
// - the Caddy stand-in, tagged exactly CADDY_IMAGE_NAME: the static Caddy test build at
//   /usr/bin/caddy (the versions the real image pins) with the official image's environment;
// - the HAProxy stand-in, tagged exactly versions.haproxyImage: Debian trixie's HAProxy 3.x
//   (scripts/build-haproxy3.sh; the pinned image is 3.x too) with every library its own loader
//   lists and that loader, the official image's entrypoint behaviour, its
//   haproxy user and group (uid/gid 99), USER haproxy and STOPSIGNAL SIGUSR1;
// - the echo upstream (test/docker/echo), tagged under every service image ref the plan asks for.
// Each has static busybox for /bin/sh and the tools the reload scripts use (awk, cmp, mv, ...).
// The echo binary is cached by a hash of its source and the Go version; images are rebuilt per
// engine (a fresh data root each run), which takes seconds.
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFileSync } from "child_process";
import { Engine } from "./engine";
import { caddyBinary, haproxy3Binary } from "../support/binaries";
import { CADDY_IMAGE_NAME } from "../../plan/docker";
import versions from "../../render/versions.json";

export const ECHO_IMAGE = "homelab-test/echo:local";
const BUSYBOX = "/bin/busybox";
const ECHO_SRC = path.join(__dirname, "echo");
const PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Same root as scripts/build-caddy.sh. */
export function cacheRoot(): string {
    return (
        process.env.HOMELAB_CACHE ??
        path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "homelab")
    );
}

/**
 * The Caddy test build. scripts/build-caddy.sh checks its cache with `caddy list-modules | grep -qx`
 * under `set -o pipefail`, which fails now and then (grep exits at the match, Caddy gets SIGPIPE
 * writing the last lines) and then rebuilds Caddy from the module proxy. The same cache path,
 * checked without that race, first; the script only when it is missing.
 */
export function caddyTestBinary(): string {
    const bin = path.join(cacheRoot(), `caddy-v${versions.caddy}-cloudflare-${versions.caddyDnsCloudflare}`, "caddy");
    try {
        const modules = execFileSync(bin, ["list-modules"], {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "ignore"],
            timeout: 30_000,
        });
        if (modules.split("\n").includes("dns.providers.cloudflare")) return bin;
    } catch {
        /* missing or broken: build it */
    }
    return caddyBinary();
}

/** The static echo server, built once per (source, Go version). */
export function echoBinary(): string {
    const goVersion = execFileSync("go", ["env", "GOVERSION"], {
        encoding: "utf8",
        env: { ...process.env, GOTOOLCHAIN: "local" },
    }).trim();
    const h = crypto.createHash("sha256").update(goVersion);
    for (const f of fs.readdirSync(ECHO_SRC).sort()) h.update(f).update(fs.readFileSync(path.join(ECHO_SRC, f)));
    const bin = path.join(cacheRoot(), `docker-echo-${goVersion}-${h.digest("hex").slice(0, 12)}`, "echo");
    if (fs.existsSync(bin)) return bin;
    fs.mkdirSync(path.dirname(bin), { recursive: true });
    const tmp = `${bin}.tmp-${process.pid}`;
    execFileSync("go", ["build", "-trimpath", "-ldflags=-s -w", "-o", tmp, "."], {
        cwd: ECHO_SRC,
        env: { ...process.env, CGO_ENABLED: "0", GOTOOLCHAIN: "local", GOFLAGS: "-mod=mod" },
        stdio: ["ignore", "inherit", "inherit"],
        timeout: 5 * 60_000,
    });
    fs.renameSync(tmp, bin);
    return bin;
}

/** Copies a file into an image's tree; a large cached build is hard-linked when it can be. */
function place(src: string, dst: string, opts: { mode?: number; link?: boolean } = {}): void {
    fs.mkdirSync(path.dirname(dst), { recursive: true });
    if (opts.link && (fs.statSync(src).mode & 0o777) === (opts.mode ?? 0o755)) {
        try {
            fs.linkSync(src, dst);
            return;
        } catch {
            /* another file system: copy */
        }
    }
    fs.copyFileSync(src, dst);
    if (opts.mode !== undefined) fs.chmodSync(dst, opts.mode);
}

/** Static busybox at /bin/busybox, every applet as a symlink in /bin (without replacing files). */
function addBusybox(rootfs: string): void {
    place(BUSYBOX, path.join(rootfs, "bin/busybox"), { mode: 0o755 });
    const applets = execFileSync(BUSYBOX, ["--list"], { encoding: "utf8" }).split("\n").filter(Boolean);
    for (const a of applets) {
        const p = path.join(rootfs, "bin", a);
        if (a !== "busybox" && !fs.existsSync(p)) fs.symlinkSync("busybox", p);
    }
}

function baseDirs(rootfs: string): void {
    for (const d of ["tmp", "etc", "root"]) fs.mkdirSync(path.join(rootfs, d), { recursive: true });
    fs.chmodSync(path.join(rootfs, "tmp"), 0o1777);
}

async function build(engine: Engine, dir: string, tag: string, dockerfile: string[]): Promise<void> {
    fs.writeFileSync(path.join(dir, "Dockerfile"), dockerfile.join("\n") + "\n");
    const r = await engine.docker(["build", "-q", "--label", "homelab.test=engine", "-t", tag, dir], {
        timeoutMs: 5 * 60_000,
    });
    if (r.status !== 0) throw new Error(`docker build ${tag} failed:\n${r.stdout}${r.stderr}`);
}

/**
 * The files of the HAProxy 3.x build behind scripts/build-haproxy3.sh's wrapper, as an image
 * holds them: the binary, every library its own (trixie) loader lists at the same path under the
 * image's root, and that loader where the binary expects it.
 */
export function haproxy3Files(wrapper: string): { binary: string; libs: { src: string; dst: string }[] } {
    const fsRoot = path.join(path.dirname(wrapper), "fs");
    const binary = path.join(fsRoot, "usr/sbin/haproxy");
    const loader = path.join(fsRoot, "usr/lib64/ld-linux-x86-64.so.2");
    const libPath = ["usr/lib/x86_64-linux-gnu", "lib/x86_64-linux-gnu"].map((d) => path.join(fsRoot, d)).join(":");
    const out = execFileSync(loader, ["--library-path", libPath, "--list", binary], { encoding: "utf8" });
    const libs: { src: string; dst: string }[] = [];
    for (const line of out.split("\n")) {
        const m = /^\s*(\S+)\s+=>\s+(\/\S+)/.exec(line);
        if (!m) continue;
        const [, name, src] = m as unknown as [string, string, string];
        const dst = name.startsWith("/") ? name : "/" + path.relative(fsRoot, src);
        if (dst.startsWith("/..")) throw new Error(`a library outside the HAProxy build: ${src}`);
        libs.push({ src: fs.realpathSync(src), dst });
    }
    if (!libs.some((l) => l.dst === "/lib64/ld-linux-x86-64.so.2")) throw new Error(`no loader in:\n${out}`);
    return { binary, libs };
}

/** The official image's docker-entrypoint.sh, in behaviour. */
const HAPROXY_ENTRYPOINT = `#!/bin/sh
# Stand-in for the official haproxy image's docker-entrypoint.sh (same behaviour).
set -e
# first arg is \`-f\` or \`--some-option\`
if [ "\${1#-}" != "$1" ]; then
	set -- haproxy "$@"
fi
if [ "$1" = 'haproxy' ]; then
	shift # "haproxy"
	# -W: master-worker mode (SIGUSR2 reloads), -db: stay in the foreground
	set -- haproxy -W -db "$@"
fi
exec "$@"
`;

export async function buildCaddyImage(engine: Engine, caddyBin: string, tag: string): Promise<void> {
    const dir = path.join(engine.dir, "images/caddy");
    const rootfs = path.join(dir, "rootfs");
    baseDirs(rootfs);
    addBusybox(rootfs);
    place(caddyBin, path.join(rootfs, "usr/bin/caddy"), { mode: 0o755, link: true });
    for (const d of ["config", "data", "etc/caddy", "srv"]) fs.mkdirSync(path.join(rootfs, d), { recursive: true });
    fs.writeFileSync(path.join(rootfs, "etc/caddy/Caddyfile"), ':80 {\n\trespond "stand-in default"\n}\n');
    fs.writeFileSync(path.join(rootfs, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
    fs.writeFileSync(path.join(rootfs, "etc/group"), "root:x:0:\n");
    await build(engine, dir, tag, [
        "FROM scratch",
        "COPY rootfs/ /",
        // As caddy:<version>-alpine.
        `ENV ${PATH_ENV} XDG_CONFIG_HOME=/config XDG_DATA_HOME=/data`,
        "WORKDIR /srv",
        'CMD ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"]',
    ]);
}

export async function buildHaproxyImage(engine: Engine, haproxy3Wrapper: string, tag: string): Promise<void> {
    const dir = path.join(engine.dir, "images/haproxy");
    const rootfs = path.join(dir, "rootfs");
    baseDirs(rootfs);
    addBusybox(rootfs);
    const files = haproxy3Files(haproxy3Wrapper);
    place(files.binary, path.join(rootfs, "usr/local/sbin/haproxy"), { mode: 0o755 });
    for (const lib of files.libs) place(lib.src, path.join(rootfs, lib.dst));
    for (const d of ["usr/local/etc/haproxy", "usr/local/bin"]) fs.mkdirSync(path.join(rootfs, d), { recursive: true });
    fs.writeFileSync(path.join(rootfs, "usr/local/bin/docker-entrypoint.sh"), HAPROXY_ENTRYPOINT, { mode: 0o755 });
    fs.writeFileSync(
        path.join(rootfs, "etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nhaproxy:x:99:99:haproxy:/var/lib/haproxy:/sbin/nologin\n",
    );
    fs.writeFileSync(path.join(rootfs, "etc/group"), "root:x:0:\nhaproxy:x:99:haproxy\n");
    fs.mkdirSync(path.join(dir, "home"), { recursive: true });
    await build(engine, dir, tag, [
        "FROM scratch",
        "COPY rootfs/ /",
        "COPY --chown=99:99 home/ /var/lib/haproxy/",
        `ENV ${PATH_ENV}`,
        // As haproxy:<version>-alpine.
        "STOPSIGNAL SIGUSR1",
        'ENTRYPOINT ["docker-entrypoint.sh"]',
        "USER haproxy",
        "WORKDIR /var/lib/haproxy",
        'CMD ["haproxy", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]',
    ]);
}

export async function buildEchoImage(engine: Engine, echoBin: string): Promise<void> {
    const dir = path.join(engine.dir, "images/echo");
    const rootfs = path.join(dir, "rootfs");
    baseDirs(rootfs);
    addBusybox(rootfs);
    place(echoBin, path.join(rootfs, "echo"), { mode: 0o755, link: true });
    fs.writeFileSync(path.join(rootfs, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
    fs.writeFileSync(path.join(rootfs, "etc/group"), "root:x:0:\n");
    await build(engine, dir, ECHO_IMAGE, ["FROM scratch", "COPY rootfs/ /", `ENV ${PATH_ENV}`, 'ENTRYPOINT ["/echo"]']);
}

/** `repo[:tag]` → repo and tag, for the tag endpoint (a digest ref cannot be a local tag). */
export function splitRef(ref: string): { repo: string; tag: string } {
    if (ref.includes("@")) throw new Error(`cannot stand in for a digest reference: ${ref}`);
    const slash = ref.lastIndexOf("/");
    const colon = ref.lastIndexOf(":");
    return colon > slash ? { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) } : { repo: ref, tag: "latest" };
}

/** Tags the echo image under a registry reference, so the plan's ref resolves locally. */
export async function tagEchoAs(engine: Engine, ref: string): Promise<void> {
    const { repo, tag } = splitRef(ref);
    await engine.api(
        "POST",
        `/images/${encodeURIComponent(ECHO_IMAGE)}/tag?repo=${encodeURIComponent(repo)}&tag=${encodeURIComponent(tag)}`,
    );
}

/** The three stand-ins one edge host's engine needs: Caddy, HAProxy 3.x and the echo server. */
export async function buildStandIns(engine: Engine): Promise<void> {
    await buildCaddyImage(engine, caddyTestBinary(), CADDY_IMAGE_NAME);
    await buildHaproxyImage(engine, haproxy3Binary(), versions.haproxyImage);
    await buildEchoImage(engine, echoBinary());
}
