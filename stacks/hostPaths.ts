// Host paths a service may not bind-mount. A mount is judged by what it exposes inside the
// container, so a rule either covers a path and everything around it ("overlap": the path, its
// parents and its children) or only the path and its parents ("whole": mounting one file below it,
// such as /etc/localtime, is fine). `*` in a rule matches one path segment.
//
// Symlinks are not followed (the program never reads the host's filesystem): a link that points
// into a protected path is not caught here.
import { Runtime } from "./model";

export interface HostPathRule {
    pattern: string;
    scope: "overlap" | "whole";
    why: string;
}

const ENGINE = "gives the container control of the Docker engine and every secret in it";
const ENGINE_STATE = "holds every container's files, volumes and secrets";
const HOME = "is a whole home folder (keys, credentials, the Pulumi state passphrase); mount the folder you need";

/** The rules for a stack: the engine, the host's system folders, and the stack's own state. */
export function hostPathRules(dataDir: string, dockerSocket?: string): HostPathRule[] {
    const overlap = (pattern: string, why: string): HostPathRule => ({ pattern, scope: "overlap", why });
    const whole = (pattern: string, why: string): HostPathRule => ({ pattern, scope: "whole", why });
    return [
        // Whole system folders and homes (one file or folder below them is fine): said first, as the
        // plainest reason when a mount is both.
        whole("/", "is the host's whole filesystem"),
        whole("/etc", "holds the host's accounts, keys and service configs (mount the one file you need, e.g. /etc/localtime)"),
        whole("/sys", "is the kernel's control surface"),
        whole("/dev", "holds every device of the host (use devices for the one you need)"),
        whole("/boot", "holds the host's kernel and boot loader"),
        ...["/home/*", "/Users/*"].map((p) => whole(p, HOME)),
        // The engine's socket wherever a runtime puts it, and the one docker.host names.
        ...["/var/run/docker.sock", "/run/docker.sock", "/run/user/*/docker.sock", "/Users/*/.docker/run/docker.sock", "/Users/*/.orbstack/run/docker.sock", "/Users/*/.colima/*/docker.sock"].map((p) => overlap(p, ENGINE)),
        ...(dockerSocket ? [overlap(dockerSocket, ENGINE)] : []),
        overlap("/var/lib/docker", ENGINE_STATE),
        overlap("/var/lib/containerd", ENGINE_STATE),
        overlap("/proc", "shows every process on the host, with its environment (secrets) and its root filesystem"),
        overlap("/root", "is root's home (keys and credentials)"),
        ...["/home/*/.ssh", "/Users/*/.ssh"].map((p) => overlap(p, "holds SSH keys")),
        ...["/home/*/.pulumi", "/Users/*/.pulumi"].map((p) => overlap(p, "holds Pulumi's credentials and state")),
        // The stack's own state and keys.
        overlap(`${dataDir}/caddy`, "holds Caddy's certificates, ACME account key and config"),
        overlap(`${dataDir}/haproxy`, "holds the edge's configuration"),
        overlap(`${dataDir}/edge`, "holds the edge's key"),
    ];
}

/** Path segments; a Mac's view is case-insensitive and sees the data volume and /private aliases. */
export function pathSegments(p: string, mac: boolean): string[] {
    let s = mac ? p.toLowerCase() : p;
    if (mac) {
        s = s.replace(/^\/system\/volumes\/data(?=\/|$)/, "") || "/";
        s = s.replace(/^\/private(?=\/(var|etc|tmp)(\/|$))/, "");
    }
    return s.split("/").filter((x) => x !== "");
}

function segmentsMatch(path: string[], pattern: string[], n: number): boolean {
    for (let i = 0; i < n; i++) if (pattern[i] !== "*" && pattern[i] !== path[i]) return false;
    return true;
}

/** Whether mounting `src` exposes what `rule` protects. */
export function ruleHits(src: string, rule: HostPathRule, runtime: Runtime): boolean {
    const mac = runtime !== "linux";
    const s = pathSegments(src, mac);
    const p = pathSegments(rule.pattern, mac);
    const parentOrSelf = s.length <= p.length && segmentsMatch(s, p, s.length);
    const inside = s.length >= p.length && segmentsMatch(s, p, p.length);
    return rule.scope === "whole" ? parentOrSelf : parentOrSelf || inside;
}

/** The first protected path a bind-mount source exposes, as a message; undefined when none. */
export function protectedMountProblem(src: string, rules: HostPathRule[], runtime: Runtime): string | undefined {
    const hit = rules.find((r) => ruleHits(src, r, runtime));
    if (!hit) return undefined;
    const what = hit.pattern === "/" ? "the host's /" : hit.pattern;
    return hit.scope === "whole" ? `mounts ${what}, which ${hit.why}` : `mounts ${what} or a folder around it, which ${hit.why}`;
}
