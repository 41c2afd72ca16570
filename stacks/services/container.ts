// A managed service's container settings: each key's check and parser (image pin, volumes,
// healthcheck, sizes, user, devices, capabilities, tmpfs, labels, published ports). Pure.
import { hostPathProblem, normalisePath, parseDuration } from "../grammar";
import { HostPathRule, protectedMountProblem } from "../hostPaths";
import { ContainerSettings, Device, EdgePlacement, GATEWAY_PORT, PublishedPort, Runtime } from "../model";
import { canonicalIp, parseIp } from "../net";
import { ParsedService } from "../schema";

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
export function edgePorts(edge: EdgePlacement | "gateway"): number[] {
    if (edge === "gateway") return [GATEWAY_PORT];
    return edge === "native" ? [80, 443, 8443, 9443] : [80, 443];
}

export function publishProblem(
    p: string,
    hostAddresses: string[],
    edge: EdgePlacement | "gateway",
): string | undefined {
    const pp = parsePublish(p);
    if (!pp) return `"${p}" must be [HOST_IP:]HOST_PORT:CONTAINER_PORT[/tcp|udp], e.g. 6881:6881/udp`;
    if (pp.hostIp !== undefined && (pp.hostIp === "0.0.0.0" || pp.hostIp === "::"))
        return `"${p}": leave the address out to publish on every address`;
    if (pp.hostIp !== undefined && !hostAddresses.includes(pp.hostIp))
        return `"${p}": ${pp.hostIp} is not one of the host's addresses in this stack (${hostAddresses.join(", ")}); leave it out for every address`;
    if (edgePorts(edge).includes(pp.hostPort))
        return `"${p}": host port ${pp.hostPort} belongs to the ${edge === "gateway" ? "host's gateway" : "edge"} (${edgePorts(edge).join(", ")})`;
    return undefined;
}

/** The parsed container settings in the model's form: the one place each of them is converted. */
export function containerSettings(s: ParsedService): ContainerSettings {
    return {
        ...(s.user !== undefined ? { user: s.user } : {}),
        ...(s.memory !== undefined ? { memoryMb: sizeToMb(s.memory) as number } : {}),
        ...(s.shmSize !== undefined ? { shmSizeMb: sizeToMb(s.shmSize) as number } : {}),
        devices: s.devices.map((d) => parseDevice(d) as Device),
        capAdd: [...new Set(s.capAdd.map((c) => c.toUpperCase().replace(/^CAP_/, "")))].sort(),
        tmpfs: Object.fromEntries(
            s.tmpfs.map((t) => parseTmpfs(t) as [string, string]).sort(([a], [b]) => (a < b ? -1 : 1)),
        ),
        labels: { ...s.labels },
        restart: s.restart,
        ...(s.stopGracePeriod !== undefined
            ? { stopGraceSeconds: Math.ceil(Number(parseDuration(s.stopGracePeriod) as bigint) / 1e9) }
            : {}),
    };
}
