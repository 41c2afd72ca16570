// `homelab:services`: one entry at a time into the model, through small named checks, then the
// rules across services (hostnames, published ports, dependencies). Pure.
import * as crypto from "crypto";
import {
    Device,
    EdgePlacement,
    ExternalService,
    ForwardAuth,
    ManagedService,
    Plane,
    PLANES,
    PublishedPort,
    RESERVED_NAMES,
    RESERVED_SERVICE_NAMES,
    Runtime,
    Service,
    UpstreamTls,
    isInternal,
} from "./model";
import { HostPathRule, hostPathRules, protectedMountProblem } from "./hostPaths";
import { LocalProblem } from "./checks";
import { EXTERNAL_ONLY_KEYS, MANAGED_ONLY_KEYS, ParsedService } from "./schema";
import { caddyTokenProblem, hostPathProblem, isDnsLabel, isDnsName, normalisePath, parseDuration } from "./grammar";
import { canonicalIp, parseIp } from "./net";

const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const problem = (key: string, message: string): LocalProblem => ({ key, message });

// Docker image reference: [registry[:port]/]path[:tag][@sha256:digest]
const IMAGE_RE =
    /^(?:(?<registry>[a-zA-Z0-9.-]+(?::[0-9]+)?)\/)?(?<path>[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)(?::(?<tag>[\w][\w.-]{0,127}))?(?:@(?<digest>sha256:[a-f0-9]{64}))?$/;

export function imagePinProblem(image: string): string | undefined {
    const m = IMAGE_RE.exec(image);
    if (!m?.groups) return `"${image}" is not a Docker image reference (name[:tag][@sha256:digest])`;
    const { tag, digest } = m.groups;
    if (!tag && !digest) return `"${image}" is not pinned: give a version tag (e.g. ${image}:1.2.3) or a digest`;
    if (tag === "latest" && !digest) return `"${image}" uses the moving tag "latest": pin a version`;
    return undefined;
}

export function serviceNameProblem(name: string): string | undefined {
    if (!isDnsLabel(name))
        return "the service name must be one lowercase DNS label (letters, digits, hyphens): it becomes a hostname and a container name";
    const reserved = Object.prototype.hasOwnProperty.call(RESERVED_SERVICE_NAMES, name)
        ? RESERVED_SERVICE_NAMES[name]
        : undefined;
    if (reserved) return `"${name}" ${reserved}; choose another service name (set hostname: ${name} to keep the URL)`;
    return undefined;
}

// --- upstreams

export interface Upstream {
    scheme: "http" | "https";
    host: string;
    port: number;
    /** `host:port` (IPv6 in brackets), what Caddy and cloudflared dial. */
    hostPort: string;
}

/** `host:port`, `http://host:port` or `https://host:port` (no path, no credentials). */
export function parseUpstream(s: string): Upstream | undefined {
    const m = /^(?:(https?):\/\/)?(\[[0-9a-fA-F:.]+\]|[^:\s[\]/@]+):([0-9]{1,5})$/.exec(s);
    if (!m) return undefined;
    const host = m[2] as string;
    const port = Number(m[3]);
    if (!(port >= 1 && port <= 65535)) return undefined;
    const bare = host.startsWith("[") ? host.slice(1, -1) : host;
    if (host.startsWith("[")) {
        const a = parseIp(bare);
        if (!a || a.kind() !== "ipv6") return undefined;
    } else if (!parseIp(bare) && !isDnsName(bare)) {
        return undefined;
    }
    return { scheme: (m[1] as "http" | "https" | undefined) ?? "http", host, port, hostPort: `${host}:${port}` };
}

/**
 * Where an upstream may not point: Caddy or cloudflared itself (loopback inside their containers:
 * `localhost:2019` is Caddy's admin API, which would let any visitor reconfigure it), the stack's
 * own containers, addresses that route nowhere, and link-local (cloud metadata).
 */
export function upstreamTargetProblem(u: { host: string }): string | undefined {
    const bare = u.host.replace(/^\[|\]$/g, "");
    const a = parseIp(bare);
    const loopback = `${u.host} is the proxy's own loopback (inside Caddy's container it is Caddy itself, with its admin API on :2019); for a process on the host use host.docker.internal`;
    if (a) {
        const r = a.range();
        if (r === "loopback" || (r === "ipv4Mapped" && (a as any).toIPv4Address().range() === "loopback"))
            return loopback;
        if (["unspecified", "multicast", "broadcast"].includes(r))
            return `${u.host} is a ${r} address, which no service listens on`;
        if (r === "linkLocal")
            return `${u.host} is link-local (cloud metadata lives there); give the appliance's LAN address`;
        return undefined;
    }
    const host = bare.toLowerCase();
    if (host === "localhost" || host.endsWith(".localhost") || host === "ip6-localhost" || host === "ip6-loopback")
        return loopback;
    if ((RESERVED_NAMES as readonly string[]).includes(host))
        return `${u.host} is one of the stack's own containers, not a service`;
    return undefined;
}

export function upstreamProblem(text: string): string | undefined {
    const u = parseUpstream(text);
    if (!u)
        return `"${text}" must be host:port, http://host:port or https://host:port, e.g. immich-server:2283, host.docker.internal:1234 or https://192.168.1.10:8006`;
    return upstreamTargetProblem(u);
}

/** The PEM certificates in `pem` (at least one, all parseable), or a reason. */
export function pemCertificates(pem: string): { certs: crypto.X509Certificate[]; problem?: string } {
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (blocks.length === 0)
        return { certs: [], problem: "must contain a PEM certificate (-----BEGIN CERTIFICATE-----)" };
    if (/PRIVATE KEY/.test(pem)) return { certs: [], problem: "contains a private key: give only the CA certificate" };
    const certs: crypto.X509Certificate[] = [];
    for (const b of blocks) {
        try {
            certs.push(new crypto.X509Certificate(b));
        } catch {
            return { certs: [], problem: "contains a certificate that does not parse" };
        }
    }
    return { certs };
}

/** upstreamTls: only for https upstreams, and either skip verification or say what to verify. */
export function upstreamTlsProblems(
    sk: string,
    scheme: "http" | "https",
    tls: ParsedService["upstreamTls"],
): { problems: LocalProblem[]; tls?: UpstreamTls } {
    if (!tls) return { problems: [] };
    const key = `${sk}.upstreamTls`;
    if (scheme !== "https")
        return {
            problems: [problem(key, "applies only to https:// upstreams (the connection to this one is plain HTTP)")],
        };
    if (tls.insecureSkipVerify === true) {
        if (tls.serverName !== undefined || tls.ca !== undefined)
            return {
                problems: [
                    problem(key, "insecureSkipVerify: true verifies nothing; give serverName and ca, or neither"),
                ],
            };
        return { problems: [], tls: { insecureSkipVerify: true } };
    }
    if (tls.serverName === undefined && tls.ca === undefined)
        return {
            problems: [
                problem(
                    key,
                    "says nothing: set insecureSkipVerify: true for a self-signed appliance, or ca (and serverName) to verify it; without upstreamTls the system CAs are used",
                ),
            ],
        };
    if (tls.ca !== undefined) {
        const { problem: p } = pemCertificates(tls.ca);
        if (p) return { problems: [problem(`${key}.ca`, p)] };
    }
    return {
        problems: [],
        tls: {
            insecureSkipVerify: false,
            ...(tls.serverName ? { serverName: tls.serverName } : {}),
            ...(tls.ca ? { ca: tls.ca } : {}),
        },
    };
}

// --- forward auth

const HEADER_RE = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

export function forwardAuthProblems(
    sk: string,
    fa: ParsedService["forwardAuth"],
    expose: Plane[],
): { problems: LocalProblem[]; forwardAuth?: ForwardAuth } {
    if (!fa) return { problems: [] };
    const key = `${sk}.forwardAuth`;
    const out: LocalProblem[] = [];
    if (!expose.includes("private") && !expose.includes("mtls"))
        out.push(
            problem(
                key,
                "applies on the private and mtls planes (Caddy); for a public service use access (Cloudflare Access)",
            ),
        );
    else if (expose.includes("public"))
        out.push(
            problem(
                key,
                "runs in Caddy, and the public plane reaches the service through the tunnel without Caddy: the public hostname would be unprotected (expose it on private/mtls only, or protect the public name with access)",
            ),
        );
    const u = parseUpstream(fa.upstream);
    const up = upstreamProblem(fa.upstream);
    if (up) out.push(problem(`${key}.upstream`, up));
    if (!/^\/[A-Za-z0-9._~%/!$&'()*+,;=:@?-]*$/.test(fa.uri) || caddyTokenProblem(fa.uri))
        out.push(
            problem(
                `${key}.uri`,
                `"${fa.uri}" must be a path (and query) starting with /, e.g. /api/authz/forward-auth, with no spaces, quotes or { }`,
            ),
        );
    fa.copyHeaders.forEach((h, i) => {
        const token = caddyTokenProblem(h);
        if (!HEADER_RE.test(h) || token)
            out.push(
                problem(
                    `${key}.copyHeaders[${i}]`,
                    `"${h}" is not an HTTP header name Caddy can copy${token ? ` (${token})` : ""}`,
                ),
            );
    });
    if (out.length > 0 || !u) return { problems: out };
    return {
        problems: [],
        forwardAuth: { upstream: u.hostPort, scheme: u.scheme, uri: fa.uri, copyHeaders: [...fa.copyHeaders] },
    };
}

// --- container settings

export function volumeProblem(v: string, rules: HostPathRule[], runtime: Runtime): string | undefined {
    const parts = v.split(":");
    const [src = "", dst = "", mode] = parts;
    const shape = `"${v}" must be /host/path:/container/path[:ro|rw] or volume-name:/container/path[:ro|rw]`;
    if (parts.length < 2 || parts.length > 3 || !src || !dst) return shape;
    if (mode !== undefined && mode !== "ro" && mode !== "rw")
        return `${shape} (the mode "${mode}" is neither ro nor rw)`;
    if (src.startsWith("/")) {
        const p = hostPathProblem(src);
        if (p) return `the host path ${p}`;
        const hit = protectedMountProblem(src, rules, runtime, mode === "ro");
        if (hit) return hit;
    } else if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(src)) {
        return shape;
    }
    const d = hostPathProblem(dst);
    if (d) return `the container path ${d}`;
    if (normalisePath(dst) === "/") return "cannot mount over the container's /";
    return undefined;
}

export function healthcheckProblem(test: string[]): string | undefined {
    const kind = test[0];
    if (kind !== "CMD" && kind !== "CMD-SHELL" && kind !== "NONE")
        return `must start with "CMD", "CMD-SHELL" or "NONE" (e.g. ["CMD", "curl", "-fsS", "http://localhost/health"])`;
    if (kind !== "NONE" && test.length < 2) return `needs the command after "${kind}"`;
    return undefined;
}

/** `512m`, `2g`, `1.5g`, `1048576k` → MB (rounded up); undefined when not a size. */
export function sizeToMb(s: string): number | undefined {
    const m = /^([0-9]+(?:\.[0-9]+)?)([kmg])b?$/i.exec(s.trim());
    if (!m) return undefined;
    const n = Number(m[1]);
    const mb = { k: n / 1024, m: n, g: n * 1024 }[(m[2] as string).toLowerCase() as "k" | "m" | "g"];
    return Math.ceil(mb);
}

export function sizeProblem(s: string, min: number, max: number): string | undefined {
    const mb = sizeToMb(s);
    if (mb === undefined) return `"${s}" is not a size such as 512m or 2g (k, m or g)`;
    if (mb < min || mb > max) return `"${s}" is out of range: between ${min}m and ${max / 1024}g`;
    return undefined;
}

export function userProblem(u: string): string | undefined {
    const part = "(?:[a-z_][a-z0-9_-]{0,31}|[0-9]{1,10})";
    return new RegExp(`^${part}(?::${part})?$`).test(u)
        ? undefined
        : `"${u}" must be user[:group], by name or number (e.g. 1000:1000 or postgres)`;
}

/**
 * The character devices a service may be given: GPUs and video, TV tuners, serial and single USB
 * devices, sound, a tunnel, FUSE, a Coral TPU, KVM and a Raspberry Pi's GPIO/I2C. Never a disk
 * (the host's file systems, under every permission check), a whole USB bus (usbfs can take a USB
 * disk from its driver), memory, the kernel log or an unknown device.
 */
const DEVICE_FAMILIES: { re: RegExp; example: string }[] = [
    { re: /^\/dev\/dri(\/(card|renderD)[0-9]+)?$/, example: "/dev/dri" },
    { re: /^\/dev\/(kfd|nvidia[0-9]+|nvidiactl|nvidia-uvm|nvidia-uvm-tools|nvidia-modeset)$/, example: "/dev/nvidia0" },
    { re: /^\/dev\/video[0-9]+$/, example: "/dev/video0" },
    { re: /^\/dev\/(ttyUSB|ttyACM|ttyAMA|ttyS)[0-9]+$/, example: "/dev/ttyUSB0" },
    { re: /^\/dev\/serial\/by-id\/[A-Za-z0-9._+-]+$/, example: "/dev/serial/by-id/usb-…" },
    { re: /^\/dev\/bus\/usb\/[0-9]{3}\/[0-9]{3}$/, example: "/dev/bus/usb/001/004" },
    { re: /^\/dev\/hidraw[0-9]+$/, example: "/dev/hidraw0" },
    { re: /^\/dev\/snd(\/[A-Za-z0-9]+)?$/, example: "/dev/snd" },
    { re: /^\/dev\/(net\/tun|fuse)$/, example: "/dev/net/tun" },
    { re: /^\/dev\/apex_[0-9]+$/, example: "/dev/apex_0" },
    { re: /^\/dev\/dvb(\/adapter[0-9]+)?$/, example: "/dev/dvb" },
    { re: /^\/dev\/(kvm|vchiq|gpiomem|gpiochip[0-9]+|i2c-[0-9]+|accel\/accel[0-9]+)$/, example: "/dev/kvm" },
];

export function deviceProblem(d: string): string | undefined {
    const dev = parseDevice(d);
    if (!dev) return `"${d}" must be /dev/<host device>[:/container/path[:rwm]]`;
    if (/^\/dev\/bus\/usb(\/[0-9]{3})?$/.test(dev.hostPath))
        return `${dev.hostPath} gives every USB device on it, USB disks included: name the one device (e.g. /dev/bus/usb/001/004, from lsusb) or use /dev/serial/by-id/…`;
    if (!DEVICE_FAMILIES.some((f) => f.re.test(dev.hostPath)))
        return `${dev.hostPath} is not a device a service may be given: only GPUs, video, TV tuners, serial, single USB devices, sound, tun, FUSE, Coral, KVM and GPIO/I2C devices (${DEVICE_FAMILIES.map((f) => f.example).join(", ")}); never a disk, memory or the kernel log`;
    return undefined;
}

export function parseDevice(d: string): Device | undefined {
    const [hostPath = "", containerPath = hostPath, permissions = "rwm", extra] = d.split(":");
    if (
        extra !== undefined ||
        !hostPath.startsWith("/dev/") ||
        hostPathProblem(hostPath) ||
        hostPathProblem(containerPath)
    )
        return undefined;
    if (!/^(?=.)r?w?m?$/.test(permissions)) return undefined;
    return { hostPath, containerPath, permissions };
}

/** Linux capabilities a container may be given; the ones that amount to the host are refused. */
export const CAPABILITIES = [
    "AUDIT_CONTROL",
    "AUDIT_READ",
    "AUDIT_WRITE",
    "BLOCK_SUSPEND",
    "BPF",
    "CHECKPOINT_RESTORE",
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "IPC_LOCK",
    "IPC_OWNER",
    "KILL",
    "LEASE",
    "LINUX_IMMUTABLE",
    "MAC_ADMIN",
    "MAC_OVERRIDE",
    "MKNOD",
    "NET_ADMIN",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_RAW",
    "PERFMON",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_CHROOT",
    "SYS_MODULE",
    "SYS_NICE",
    "SYS_PACCT",
    "SYS_PTRACE",
    "SYS_RAWIO",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "SYSLOG",
    "WAKE_ALARM",
] as const;
/** Capabilities refused, each with what it hands over beyond the container. */
const HOST_CAPABILITIES: Record<string, string> = {
    SYS_ADMIN: "mount file systems and much else: the usual way out of a container",
    SYS_MODULE: "load kernel modules",
    SYS_BOOT: "reboot the host",
    SYS_RAWIO: "raw access to the host's memory and I/O ports",
    DAC_READ_SEARCH:
        "open any file on the host's disks by handle, bypassing the container's view (the \"shocker\" escape)",
    BPF: "load programs into the host's kernel",
    PERFMON: "read kernel and other processes' memory through perf and BPF",
    SYS_TIME: "set the host's clock, which every certificate check depends on",
    MAC_ADMIN: "change the host's AppArmor or SELinux policy",
    MAC_OVERRIDE: "bypass the host's AppArmor or SELinux policy",
    SYSLOG: "read the kernel's log and addresses (what /dev/kmsg would give)",
    AUDIT_CONTROL: "change the host's audit rules",
};

export function capabilityProblem(c: string): string | undefined {
    const name = c.toUpperCase().replace(/^CAP_/, "");
    if (name === "ALL") return "ALL gives the container every capability of the host: list the ones it needs";
    if (!(CAPABILITIES as readonly string[]).includes(name)) return `"${c}" is not a Linux capability (e.g. NET_ADMIN)`;
    const why = HOST_CAPABILITIES[name];
    if (why) return `${name} lets the container ${why}: not in this stack`;
    return undefined;
}

export function parseTmpfs(t: string): [string, string] | undefined {
    const i = t.indexOf(":");
    const [path, opts] = i < 0 ? [t, ""] : [t.slice(0, i), t.slice(i + 1)];
    if (hostPathProblem(path) || normalisePath(path) === "/") return undefined;
    if (opts !== "" && !/^[A-Za-z0-9=,._-]+$/.test(opts)) return undefined;
    return [normalisePath(path), opts];
}

export function labelProblem(key: string, value: string): string | undefined {
    if (!/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(key)) return `"${key}" is not a label name (letters, digits, . _ / -)`;
    if (/^(com\.docker\.|io\.docker\.|org\.dockerproject\.)/.test(key))
        return `"${key}" is in a namespace Docker reserves`;
    if (value.includes("\u0000")) return "contains a NUL character";
    return undefined;
}

/** Compose short syntax `[HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|udp]`; IPv6 hosts in brackets. */
export function parsePublish(p: string): PublishedPort | undefined {
    const m = /^(?:(\[[0-9a-fA-F:.]+\]|[0-9.]+):)?([0-9]{1,5}):([0-9]{1,5})(?:\/(tcp|udp))?$/.exec(p);
    if (!m) return undefined;
    const hostPort = Number(m[2]);
    const containerPort = Number(m[3]);
    if (!(hostPort >= 1 && hostPort <= 65535 && containerPort >= 1 && containerPort <= 65535)) return undefined;
    const ip = m[1] ? m[1].replace(/^\[|\]$/g, "") : undefined;
    if (ip !== undefined && !parseIp(ip)) return undefined;
    return {
        ...(ip ? { hostIp: canonicalIp(ip) as string } : {}),
        hostPort,
        containerPort,
        protocol: (m[4] as "tcp" | "udp" | undefined) ?? "tcp",
    };
}

/** Host ports the edge itself uses: never given to a service. */
export function edgePorts(edge: EdgePlacement): number[] {
    return edge === "native" ? [80, 443, 8443, 9443] : [80, 443];
}

export function publishProblem(p: string, hostAddresses: string[], edge: EdgePlacement): string | undefined {
    const pp = parsePublish(p);
    if (!pp) return `"${p}" must be [HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|udp], e.g. 6881:6881/udp`;
    if (pp.hostIp !== undefined && (pp.hostIp === "0.0.0.0" || pp.hostIp === "::"))
        return `"${p}": leave the address out to publish on every address`;
    if (pp.hostIp !== undefined && !hostAddresses.includes(pp.hostIp))
        return `"${p}": ${pp.hostIp} is not one of the host's addresses in this stack (${hostAddresses.join(", ")}); leave it out for every address`;
    if (edgePorts(edge).includes(pp.hostPort))
        return `"${p}": host port ${pp.hostPort} belongs to the edge (${edgePorts(edge).join(", ")})`;
    return undefined;
}

// --- one service

export interface ServiceContext {
    domain: string;
    privateFqdn: string;
    dataDir: string;
    runtime: Runtime;
    /** The engine's socket when docker.host is a unix:// URL: no service may mount it. */
    dockerSocket?: string;
    /** Keys present in `homelab:secrets`; undefined when unknown (offline renders). */
    secretNames?: string[];
    /** The host's own addresses in the stack (tailnet, listed): where a port may be published. */
    hostAddresses: string[];
    edge: EdgePlacement;
}

function planeProblems(sk: string, s: ParsedService, expose: Plane[], managed: boolean): LocalProblem[] {
    const out: LocalProblem[] = [];
    if (new Set(s.expose).size !== s.expose.length) out.push(problem(`${sk}.expose`, "lists a plane twice"));
    if (expose.includes("mtls") && expose.includes("public"))
        out.push(
            problem(
                `${sk}.expose`,
                "a service cannot be both mtls and public: the tunnel terminates TLS at Cloudflare and would bypass the client certificate",
            ),
        );
    if (expose.length === 0) {
        if (!managed)
            out.push(
                problem(
                    `${sk}.expose`,
                    "an external service with no plane would do nothing; [] (internal) is for containers this stack runs",
                ),
            );
        for (const k of ["apex", "hostname", "access", "forwardAuth"] as const) {
            if (k === "apex" ? s.apex : s[k] !== undefined)
                out.push(problem(`${sk}.${k}`, "an internal service (expose: []) has no name and no route"));
        }
    }
    if (s.access && !expose.includes("public"))
        out.push(
            problem(
                `${sk}.access`,
                "Access policies apply only to services exposed on the public plane (add public to expose, or remove access)",
            ),
        );
    if (s.access && s.access.emails.length + s.access.emailDomains.length === 0)
        out.push(problem(`${sk}.access`, "needs at least one entry in emails or emailDomains"));
    return out;
}

function managedProblems(sk: string, s: ParsedService, ctx: ServiceContext): LocalProblem[] {
    const out: LocalProblem[] = [];
    const add = (key: string, message: string | undefined) => void (message && out.push(problem(key, message)));
    add(`${sk}.image`, imagePinProblem(s.image as string));
    if (s.port === undefined) add(`${sk}.port`, "is required with image: the port the container listens on");
    for (const k of Object.keys(s.env))
        if (!ENV_NAME_RE.test(k)) add(`${sk}.env.${k}`, "is not a valid environment variable name");
    for (const [k, ref] of Object.entries(s.secretEnv)) {
        if (!ENV_NAME_RE.test(k)) add(`${sk}.secretEnv.${k}`, "is not a valid environment variable name");
        else if (s.env[k] !== undefined) add(`${sk}.secretEnv.${k}`, "is also set in env; set it in one place");
        else if (ctx.secretNames && !ctx.secretNames.includes(ref))
            add(
                `${sk}.secretEnv.${k}`,
                `refers to homelab:secrets.${ref}, which is not set: pulumi config set --secret --path 'homelab:secrets.${ref}' <value>`,
            );
    }
    const rules = hostPathRules(ctx.dataDir, ctx.dockerSocket);
    s.volumes.forEach((v, i) => add(`${sk}.volumes[${i}]`, volumeProblem(v, rules, ctx.runtime)));
    if (s.healthcheck) add(`${sk}.healthcheck.test`, healthcheckProblem(s.healthcheck.test));
    s.publish.forEach((p, i) => add(`${sk}.publish[${i}]`, publishProblem(p, ctx.hostAddresses, ctx.edge)));
    if (s.user !== undefined) add(`${sk}.user`, userProblem(s.user));
    if (s.memory !== undefined) add(`${sk}.memory`, sizeProblem(s.memory, 6, 1024 * 1024));
    if (s.shmSize !== undefined) add(`${sk}.shmSize`, sizeProblem(s.shmSize, 1, 64 * 1024));
    s.devices.forEach((d, i) => add(`${sk}.devices[${i}]`, deviceProblem(d)));
    s.capAdd.forEach((c, i) => add(`${sk}.capAdd[${i}]`, capabilityProblem(c)));
    s.tmpfs.forEach((t, i) =>
        add(
            `${sk}.tmpfs[${i}]`,
            parseTmpfs(t) ? undefined : `"${t}" must be /container/path[:options], e.g. /run:size=64m,mode=1777`,
        ),
    );
    for (const [k, v] of Object.entries(s.labels)) add(`${sk}.labels.${k}`, labelProblem(k, v));
    return out;
}

function managedService(
    name: string,
    s: ParsedService,
    base: Omit<ManagedService, "kind" | "image" | "port" | "upstream" | "upstreamScheme" | keyof ManagedFields>,
): ManagedService {
    const hc = s.healthcheck;
    const tmpfs = Object.fromEntries(
        s.tmpfs.map((t) => parseTmpfs(t) as [string, string]).sort(([a], [b]) => (a < b ? -1 : 1)),
    );
    return {
        ...base,
        kind: "managed",
        image: s.image as string,
        port: s.port as number,
        upstream: `${name}:${s.port}`,
        upstreamScheme: "http",
        env: { ...s.env },
        secretEnv: { ...s.secretEnv },
        volumes: [...s.volumes],
        ...(s.command ? { command: [...s.command] } : {}),
        ...(s.entrypoint ? { entrypoint: [...s.entrypoint] } : {}),
        ...(hc
            ? {
                  healthcheck: {
                      test: [...hc.test],
                      interval: hc.interval,
                      timeout: hc.timeout,
                      retries: hc.retries,
                      startPeriod: hc.startPeriod,
                  },
              }
            : {}),
        publish: s.publish.map((p) => parsePublish(p) as PublishedPort),
        dependsOn: [...new Set(s.dependsOn)].sort(),
        ...(s.user !== undefined ? { user: s.user } : {}),
        ...(s.memory !== undefined ? { memoryMb: sizeToMb(s.memory) as number } : {}),
        ...(s.shmSize !== undefined ? { shmSizeMb: sizeToMb(s.shmSize) as number } : {}),
        devices: s.devices.map((d) => parseDevice(d) as Device),
        capAdd: [...new Set(s.capAdd.map((c) => c.toUpperCase().replace(/^CAP_/, "")))].sort(),
        tmpfs,
        labels: { ...s.labels },
        restart: s.restart,
        ...(s.stopGracePeriod !== undefined
            ? { stopGraceSeconds: Math.ceil(Number(parseDuration(s.stopGracePeriod) as bigint) / 1e9) }
            : {}),
    };
}
type ManagedFields = Pick<
    ManagedService,
    | "env"
    | "secretEnv"
    | "volumes"
    | "command"
    | "entrypoint"
    | "healthcheck"
    | "publish"
    | "dependsOn"
    | "user"
    | "memoryMb"
    | "shmSizeMb"
    | "devices"
    | "capAdd"
    | "tmpfs"
    | "labels"
    | "restart"
    | "stopGraceSeconds"
>;

/** One parsed service entry → a Service, or problems. `raw` is the entry as written. */
export function buildService(
    name: string,
    s: ParsedService,
    raw: Record<string, unknown>,
    ctx: ServiceContext,
): { problems: LocalProblem[]; service?: Service } {
    const sk = `services.${name}`;
    const problems: LocalProblem[] = [];
    const managed = s.image !== undefined;
    const expose = PLANES.filter((pl) => s.expose.includes(pl));
    problems.push(...planeProblems(sk, s, expose, managed));

    const label = s.hostname ?? name;
    const hostnames: Partial<Record<Plane, string>> = {};
    if (expose.includes("private")) hostnames.private = s.apex ? ctx.privateFqdn : `${label}.${ctx.privateFqdn}`;
    if (expose.includes("mtls")) hostnames.mtls = `${label}.${ctx.domain}`;
    if (expose.includes("public")) hostnames.public = `${label}.${ctx.domain}`;
    if (s.apex && !expose.includes("private") && expose.length > 0)
        problems.push(
            problem(
                `${sk}.apex`,
                `the apex is the private plane's name ${ctx.privateFqdn}; an apex service must expose private`,
            ),
        );
    const fa = forwardAuthProblems(sk, s.forwardAuth, expose);
    problems.push(...fa.problems);

    const base = {
        name,
        label,
        apex: s.apex,
        expose,
        hostnames,
        ...(s.access ? { access: { emails: [...s.access.emails], emailDomains: [...s.access.emailDomains] } } : {}),
        ...(fa.forwardAuth ? { forwardAuth: fa.forwardAuth } : {}),
    };
    if (managed && s.upstream !== undefined) {
        problems.push(
            problem(
                sk,
                "give either image + port (a container this stack runs) or upstream (one it does not), not both",
            ),
        );
        return { problems };
    }
    if (s.upstream !== undefined) {
        for (const f of MANAGED_ONLY_KEYS)
            if (raw[f] !== undefined)
                problems.push(
                    problem(`${sk}.${f}`, "applies only to managed services (image + port); this one has an upstream"),
                );
        const up = upstreamProblem(s.upstream);
        if (up) problems.push(problem(`${sk}.upstream`, up));
        const u = parseUpstream(s.upstream);
        const tls = upstreamTlsProblems(sk, u?.scheme ?? "http", s.upstreamTls);
        problems.push(...tls.problems);
        if (problems.length > 0 || !u) return { problems };
        return {
            problems,
            service: {
                ...base,
                kind: "external",
                upstream: u.hostPort,
                upstreamScheme: u.scheme,
                ...(tls.tls ? { upstreamTls: tls.tls } : {}),
            } satisfies ExternalService,
        };
    }
    if (!managed) {
        problems.push(
            problem(sk, "needs image + port (a container this stack runs) or upstream: host:port (one it does not)"),
        );
        return { problems };
    }
    for (const f of EXTERNAL_ONLY_KEYS)
        if (raw[f] !== undefined)
            problems.push(
                problem(
                    `${sk}.${f}`,
                    "applies only to services with an upstream; a managed service is reached over HTTP on its port",
                ),
            );
    problems.push(...managedProblems(sk, s, ctx));
    if (problems.length > 0) return { problems };
    return { problems, service: managedService(name, s, base) };
}

// --- across services

/** One apex, and every hostname used once. */
export function checkHostnames(services: Service[], privateFqdn: string, wanRecord?: string): LocalProblem[] {
    const out: LocalProblem[] = [];
    const apexes = services.filter((s) => s.apex);
    if (apexes.length > 1)
        out.push(
            problem(
                "services",
                `only one service may be the apex (${privateFqdn}); found ${apexes.map((s) => s.name).join(", ")}`,
            ),
        );
    const byHost = new Map<string, string>([[privateFqdn, "(apex)"]]);
    // With a dynamic address, the record the DDNS updater keeps at the home's address.
    if (wanRecord) byHost.set(wanRecord, "(wan)");
    for (const s of services) {
        for (const [plane, host] of Object.entries(s.hostnames)) {
            if (s.apex && plane === "private") continue;
            const other = byHost.get(host);
            if (other !== undefined && other !== s.name) {
                const by =
                    other === "(apex)"
                        ? "the private plane (homelab:private.subdomain)"
                        : other === "(wan)"
                          ? "the record the DDNS updater keeps at the home's address (homelab:wan.publicIp: dynamic)"
                          : `service ${other}`;
                out.push(problem(`services.${s.name}`, `hostname ${host} is already used by ${by}`));
            } else byHost.set(host, s.name);
        }
    }
    return out;
}

/**
 * Each container port and protocol is published on one host address: Docker reports several
 * bindings of one port in an order that differs between versions (20.10 reverses them, 27+ sorts
 * them, and TCP and UDP of one port come in either order), and the Docker provider compares them
 * by position, forgiving the order only when each port and protocol has one binding. Otherwise
 * the container would be replaced on every run on one Docker version or another.
 */
function checkPublishStable(s: Service): LocalProblem[] {
    if (s.kind !== "managed") return [];
    const seen = new Set<string>();
    const out: LocalProblem[] = [];
    s.publish.forEach((p, i) => {
        const key = `${p.containerPort}/${p.protocol}`;
        if (seen.has(key))
            out.push(
                problem(
                    `services.${s.name}.publish[${i}]`,
                    `container port ${key} is already published on another host address: publish each container port and protocol once (on one address, or on every IPv4 address by leaving the address out), or the Docker provider would replace the container on every run`,
                ),
            );
        seen.add(key);
    });
    return out;
}

/** No two services publish the same host port and protocol on overlapping addresses. */
export function checkPublishConflicts(services: Service[]): LocalProblem[] {
    const out: LocalProblem[] = services.flatMap(checkPublishStable);
    const taken: { s: string; p: PublishedPort }[] = [];
    for (const s of services) {
        if (s.kind !== "managed") continue;
        s.publish.forEach((p, i) => {
            const clash = taken.find(
                (t) =>
                    t.p.hostPort === p.hostPort &&
                    t.p.protocol === p.protocol &&
                    (t.p.hostIp === undefined || p.hostIp === undefined || t.p.hostIp === p.hostIp),
            );
            if (clash)
                out.push(
                    problem(
                        `services.${s.name}.publish[${i}]`,
                        `host port ${p.hostPort}/${p.protocol} is already published by ${clash.s === s.name ? "this service" : `service ${clash.s}`}`,
                    ),
                );
            else taken.push({ s: s.name, p });
        });
    }
    return out;
}

/** dependsOn names managed services of this stack, never itself, and without cycles. */
export type Segment = "private" | "public";

/**
 * The network segment(s) each container this stack runs sits on: a public service on the public
 * one, any other exposed service on the private one, and an internal service (expose: []) on the
 * segments of the services that depend on it, through other internal ones. Assumes no cycles.
 */
export function serviceSegments(services: Service[]): Map<string, Segment[]> {
    const managed = services.filter((s): s is ManagedService => s.kind === "managed");
    const byName = new Map(managed.map((s) => [s.name, s]));
    const segs = new Map<string, Set<Segment>>(
        managed.map((s) => [
            s.name,
            new Set<Segment>(isInternal(s) ? [] : [s.expose.includes("public") ? "public" : "private"]),
        ]),
    );
    for (let changed = true, rounds = 0; changed && rounds <= managed.length; rounds++) {
        changed = false;
        for (const s of managed) {
            for (const d of s.dependsOn) {
                const target = byName.get(d);
                if (!target || !isInternal(target)) continue;
                const to = segs.get(d) as Set<Segment>;
                for (const n of segs.get(s.name) as Set<Segment>) {
                    if (to.has(n)) continue;
                    to.add(n);
                    changed = true;
                }
            }
        }
    }
    const order: Segment[] = ["private", "public"];
    return new Map(
        [...segs].map(([name, set]) => [name, set.size === 0 ? ["private"] : order.filter((n) => set.has(n))]),
    );
}

/** An internal service on both segments would be a bridge from the internet-facing side to the private one. */
export function checkSegmentBridges(services: Service[]): LocalProblem[] {
    const segs = serviceSegments(services);
    const dependents = (name: string) =>
        services.filter((s) => s.kind === "managed" && s.dependsOn.includes(name)).map((s) => s.name);
    return services
        .filter((s) => s.kind === "managed" && isInternal(s) && (segs.get(s.name) ?? []).length > 1)
        .map((s) =>
            problem(
                `services.${s.name}`,
                `is needed by both public and private services (through ${dependents(s.name).join(", ")}): one container on both networks would let a compromised public service reach the private side; run one instance for each side`,
            ),
        );
}

export function checkDependencies(services: Service[]): LocalProblem[] {
    const out: LocalProblem[] = [];
    const byName = new Map(services.map((s) => [s.name, s]));
    for (const s of services) {
        if (s.kind !== "managed") continue;
        s.dependsOn.forEach((d) => {
            const target = byName.get(d);
            const key = `services.${s.name}.dependsOn`;
            if (d === s.name) out.push(problem(key, "a service cannot depend on itself"));
            else if (!target) out.push(problem(key, `"${d}" is not a service of this stack`));
            else if (target.kind !== "managed")
                out.push(
                    problem(
                        key,
                        `"${d}" is not a container this stack runs (it has an upstream), so there is nothing to start first`,
                    ),
                );
        });
    }
    if (out.length > 0) return out;
    // Depth-first search for a cycle; report it once, naming its services in order.
    const state = new Map<string, "visiting" | "done">();
    const stack: string[] = [];
    const visit = (n: string): string[] | undefined => {
        if (state.get(n) === "done") return undefined;
        if (state.get(n) === "visiting") return [...stack.slice(stack.indexOf(n)), n];
        state.set(n, "visiting");
        stack.push(n);
        const s = byName.get(n);
        for (const d of s && s.kind === "managed" ? s.dependsOn : []) {
            const cycle = visit(d);
            if (cycle) return cycle;
        }
        stack.pop();
        state.set(n, "done");
        return undefined;
    };
    for (const s of services) {
        const cycle = visit(s.name);
        if (cycle) return [problem(`services.${cycle[0]}.dependsOn`, `forms a cycle: ${cycle.join(" → ")}`)];
    }
    return out;
}
