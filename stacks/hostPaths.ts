// Host paths a service may not bind-mount. A mount is judged by what it exposes inside the
// container, so a rule covers a path in one of three ways:
// - "overlap": the path, its parents and its children (the engine's socket, keys, /proc);
// - "whole": the path and its parents only; one file or folder below it is fine (homes);
// - "readOnly": the path and its parents are refused, and anything below it only read-only
//   (system folders: /etc/localtime:ro is fine, a writable /etc/cron.d is host root).
// `*` in a rule matches one path segment. Paths are compared as the host sees them: /var/run is
// /run; on a Mac, letter case and Unicode compatibility forms do not matter, and the data
// volume, /private and the boot volume under /Volumes are aliases.
//
// Symlinks are not followed (the program never reads the host's filesystem): a link that points
// into a protected path is not caught here.
import { Runtime } from "./model";

export interface HostPathRule {
    pattern: string;
    scope: "overlap" | "whole" | "readOnly";
    why: string;
}

const ENGINE = "gives the container control of the container engine and every secret in it";
const ENGINE_STATE = "holds every container's files, volumes and secrets";
const HOME = "is a whole home folder (keys, credentials, the Pulumi state passphrase); mount the folder you need";
const SYSTEM = "holds the host's programs and configuration";
const SYSTEM_WHY: Record<string, string> = {
    "/sys": "is the kernel's control surface",
    "/boot": "holds the host's kernel and boot loader",
    "/var/spool": "holds the host's scheduled jobs",
};

/** The rules for a stack: the engine, the host's system folders, and the stack's own state. */
export function hostPathRules(dataDir: string, dockerSocket?: string): HostPathRule[] {
    const overlap = (pattern: string, why: string): HostPathRule => ({ pattern, scope: "overlap", why });
    const whole = (pattern: string, why: string): HostPathRule => ({ pattern, scope: "whole", why });
    const readOnly = (pattern: string, why: string): HostPathRule => ({ pattern, scope: "readOnly", why });
    return [
        // Whole system folders and homes, said first as the plainest reason when a mount is both.
        whole("/", "is the host's whole filesystem"),
        whole("/private", "is the Mac's /etc, /var and /tmp"),
        ...["/home/*", "/Users/*"].map((p) => whole(p, HOME)),
        whole("/dev", "holds every device of the host (use devices for the one you need)"),
        // Never, not even read-only: secrets of the host.
        ...["/etc/shadow", "/etc/gshadow", "/etc/ssh", "/etc/sudoers", "/etc/sudoers.d"].map((p) => overlap(p, "holds the host's password hashes, SSH host keys or sudo rules")),
        // The engine's socket wherever a runtime puts it, the one docker.host names, and the
        // engines' state.
        ...[
            "/run/docker.sock",
            "/run/docker",
            "/run/containerd",
            "/run/podman",
            "/run/user/*/docker.sock",
            "/run/user/*/podman",
            "/Users/*/.docker/run/docker.sock",
            "/Users/*/.orbstack/run/docker.sock",
            "/Users/*/.colima",
        ].map((p) => overlap(p, ENGINE)),
        ...(dockerSocket ? [overlap(dockerSocket, ENGINE)] : []),
        overlap("/var/lib/docker", ENGINE_STATE),
        overlap("/var/lib/containerd", ENGINE_STATE),
        overlap("/proc", "shows every process on the host, with its environment (secrets) and its root filesystem"),
        overlap("/root", "is root's home (keys and credentials)"),
        ...["/home/*/.ssh", "/Users/*/.ssh"].map((p) => overlap(p, "holds SSH keys")),
        ...["/home/*/.pulumi", "/Users/*/.pulumi"].map((p) => overlap(p, "holds Pulumi's credentials and state")),
        // System folders: below them, read-only only.
        ...["/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/boot", "/sys", "/var/spool", "/System", "/Library"].map((p) =>
            readOnly(p, SYSTEM_WHY[p] ?? SYSTEM),
        ),
        // The stack's own state and keys.
        overlap(`${dataDir}/caddy`, "holds Caddy's certificates, ACME account key and config"),
        overlap(`${dataDir}/haproxy`, "holds the edge's configuration"),
        overlap(`${dataDir}/edge`, "holds the edge's key"),
    ];
}

/** Path segments as the host sees them (see the header). */
export function pathSegments(p: string, mac: boolean): string[] {
    let s = p;
    if (mac) {
        s = s.normalize("NFKC").toLowerCase();
        s = s.replace(/^\/volumes\/macintosh hd(?=\/|$)/, "") || "/";
        s = s.replace(/^\/system\/volumes\/data(?=\/|$)/, "") || "/";
        s = s.replace(/^\/private(?=\/(var|etc|tmp)(\/|$))/, "");
    }
    s = s.replace(/^\/var\/run(?=\/|$)/, "/run");
    return s.split("/").filter((x) => x !== "");
}

function segmentsMatch(path: string[], pattern: string[], n: number): boolean {
    for (let i = 0; i < n; i++) if (pattern[i] !== "*" && pattern[i] !== path[i]) return false;
    return true;
}

/** Whether mounting `src` (read-only or not) is refused by `rule`. */
export function ruleHits(src: string, rule: HostPathRule, runtime: Runtime, readOnlyMount = false): boolean {
    const mac = runtime !== "linux";
    const s = pathSegments(src, mac);
    const p = pathSegments(rule.pattern, mac);
    const parentOrSelf = s.length <= p.length && segmentsMatch(s, p, s.length);
    const inside = s.length > p.length && segmentsMatch(s, p, p.length);
    if (rule.scope === "whole") return parentOrSelf;
    if (rule.scope === "readOnly") return parentOrSelf || (inside && !readOnlyMount);
    return parentOrSelf || inside;
}

/** The first protected path a bind-mount source exposes, as a message; undefined when none. */
export function protectedMountProblem(src: string, rules: HostPathRule[], runtime: Runtime, readOnlyMount = false): string | undefined {
    const hit = rules.find((r) => ruleHits(src, r, runtime, readOnlyMount));
    if (!hit) return undefined;
    const what = hit.pattern === "/" ? "the host's /" : hit.pattern;
    const mac = runtime !== "linux";
    const below = pathSegments(src, mac).length > pathSegments(hit.pattern, mac).length;
    if (hit.scope === "readOnly" && below) return `mounts ${src} writable; ${hit.pattern} ${hit.why}: below it, mount read-only (:ro)`;
    return hit.scope === "overlap" ? `mounts ${what} or a folder around it, which ${hit.why}` : `mounts ${what}, which ${hit.why}`;
}
