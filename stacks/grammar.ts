// The grammar of every place a config value lands, as pure predicates: DNS names (RFC 1035
// limits), Caddyfile tokens (no placeholders, comments, quotes or spaces), Go durations (with
// int64 overflow), host paths that become bind mounts and launchd/HAProxy file paths, Docker
// socket URLs, e-mail addresses and ACME directory URLs. Each returns a reason, or undefined.
import { parseIp } from "./net";

const LABEL_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function isDnsLabel(s: string): boolean {
    return LABEL_RE.test(s);
}

/** A lowercase DNS name of LDH labels: at most 253 characters, 63 per label, no trailing dot. */
export function isDnsName(s: string): boolean {
    if (s.length === 0 || s.length > 253 || s.endsWith(".")) return false;
    return s.split(".").every(isDnsLabel);
}

/** Why `name` is not a usable DNS name (length limits included), or undefined. */
export function dnsNameProblem(name: string): string | undefined {
    if (name.length > 253) return `${name.slice(0, 40)}… is ${name.length} characters; a DNS name has at most 253`;
    const long = name.split(".").find((l) => l.length > 63);
    if (long) return `the label "${long.slice(0, 20)}…" is ${long.length} characters; a DNS label has at most 63`;
    return undefined;
}

/**
 * Characters a value may have where it becomes one Caddyfile token. Excluded on purpose: `{` and
 * `}` (Caddy expands `{env.X}` at run time and `{$X}` when it reads the file: a token could pull
 * the DNS-01 token into a URL or e-mail sent elsewhere), whitespace (splits arguments), `#` (a
 * comment), quotes, backticks and `\` (quoting and escapes), `<` (heredocs) and control characters.
 */
const CADDY_TOKEN_RE = /^[A-Za-z0-9._~:/@%+=,!*()?&;[\]-]+$/;

export function caddyTokenProblem(value: string): string | undefined {
    if (value.length === 0) return "is empty";
    if (/[{}]/.test(value)) return "contains { or }: Caddy would expand it as a placeholder";
    if (/\s/.test(value)) return "contains whitespace: it would split into several Caddyfile arguments";
    if (value.includes("#")) return "contains #: Caddy would read the rest as a comment";
    if (!CADDY_TOKEN_RE.test(value))
        return "contains characters that are not allowed in a Caddyfile value (quotes, backslashes, < or control characters)";
    return undefined;
}

/** Renderers re-check every interpolated token; a failure here is a validation bug, never user input. */
export function assertCaddyToken(value: string, what: string): string {
    const p = caddyTokenProblem(value);
    if (p) throw new Error(`internal: ${what} "${value}" ${p}`);
    return value;
}

// --- Go durations (time.ParseDuration), optionally with Caddy's `d` (days).

const UNIT_NS: Record<string, bigint> = {
    ns: 1n,
    us: 1_000n,
    µs: 1_000n,
    ms: 1_000_000n,
    s: 1_000_000_000n,
    m: 60_000_000_000n,
    h: 3_600_000_000_000n,
    d: 86_400_000_000_000n,
};
const MAX_INT64 = 9_223_372_036_854_775_807n;

/** Nanoseconds, or undefined when `s` is not a duration Go (and Caddy, with `days`) would parse. */
export function parseDuration(s: string, opts: { days?: boolean } = {}): bigint | undefined {
    const re = opts.days
        ? /^([0-9]+)(?:\.([0-9]+))?(ns|us|µs|ms|s|m|h|d)/
        : /^([0-9]+)(?:\.([0-9]+))?(ns|us|µs|ms|s|m|h)/;
    if (s === "0") return 0n;
    let rest = s;
    let total = 0n;
    if (rest.length === 0) return undefined;
    while (rest.length > 0) {
        const m = re.exec(rest);
        if (!m) return undefined;
        const unit = UNIT_NS[m[3] as string] as bigint;
        const whole = BigInt(m[1] as string);
        const frac = m[2] ?? "";
        total += whole * unit + (frac ? (BigInt(frac) * unit) / 10n ** BigInt(frac.length) : 0n);
        if (total > MAX_INT64) return undefined;
        rest = rest.slice(m[0].length);
    }
    return total;
}

/**
 * Go's time.Duration.String() of a duration in nanoseconds: the form Docker (and the Docker
 * provider, which reads healthcheck timings back with it) prints: 60s is "1m0s", 1h "1h0m0s".
 */
export function goDurationString(ns: bigint): string {
    if (ns === 0n) return "0s";
    const sign = ns < 0n ? "-" : "";
    let u = ns < 0n ? -ns : ns;
    if (u < UNIT_NS.s) {
        const [unit, div] =
            u < UNIT_NS.us
                ? (["ns", 1n] as const)
                : u < UNIT_NS.ms
                  ? (["µs", UNIT_NS.us] as const)
                  : (["ms", UNIT_NS.ms] as const);
        return sign + decimal(u, div as bigint) + unit;
    }
    const h = u / (UNIT_NS.h as bigint);
    u -= h * (UNIT_NS.h as bigint);
    const m = u / (UNIT_NS.m as bigint);
    u -= m * (UNIT_NS.m as bigint);
    const s = `${decimal(u, UNIT_NS.s as bigint)}s`;
    if (h > 0n) return `${sign}${h}h${m}m${s}`;
    if (m > 0n) return `${sign}${m}m${s}`;
    return sign + s;
}

/** `v / div` with the fraction's trailing zeros dropped, as Go prints it. */
function decimal(v: bigint, div: bigint): string {
    const rest = v % div;
    if (rest === 0n) return String(v / div);
    return `${v / div}.${String(rest)
        .padStart(String(div).length - 1, "0")
        .replace(/0+$/, "")}`;
}

/** A valid Go duration in the form Go prints it (goDurationString). */
export function canonicalGoDuration(s: string): string {
    const ns = parseDuration(s);
    if (ns === undefined) throw new Error(`internal: "${s}" is not a Go duration`);
    return goDurationString(ns);
}

export function durationProblem(
    s: string,
    min: string,
    max: string,
    opts: { days?: boolean } = {},
): string | undefined {
    const ns = parseDuration(s, opts);
    const units = opts.days ? "ns, us, ms, s, m, h, d" : "ns, us, ms, s, m, h";
    if (ns === undefined) return `"${s}" is not a duration (a number and a unit: ${units}; e.g. "30s", "5m")`;
    const lo = parseDuration(min) as bigint;
    const hi = parseDuration(max) as bigint;
    if (ns < lo || ns > hi) return `"${s}" is out of range: between ${min} and ${max}`;
    return undefined;
}

// --- host paths

/**
 * An absolute host path that becomes a bind-mount source, a file path in haproxy.cfg (single-
 * quoted) and in a launchd property list. Refused: relative paths, `.`/`..` segments, `:` (the
 * separator of Docker's `-v src:dst`), quotes, backslashes, `$` and control characters.
 */
export function hostPathProblem(p: string): string | undefined {
    if (!p.startsWith("/")) return `"${p}" is not an absolute path`;
    if ([...p].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f))
        return "contains a control character";
    if (/[:'"\\$`]/.test(p))
        return `"${p}" contains one of : ' " \\ $ \`, which break the Docker mount spec or the rendered configs`;
    const segs = p.split("/").slice(1);
    if (segs.some((s, i) => s === "." || s === ".." || (s === "" && i < segs.length - 1)))
        return `"${p}" is not a normalised path (no ., .. or //)`;
    return undefined;
}

/** Strips a trailing slash (but keeps "/"). */
export function normalisePath(p: string): string {
    return p.length > 1 ? p.replace(/\/+$/, "") : p;
}

// --- URLs and addresses

/** `unix:///abs/path` or `ssh://[user@]host[:port]`; never tcp:// (an unauthenticated engine). */
export function dockerHostProblem(s: string): string | undefined {
    if (s.startsWith("unix://")) {
        const p = s.slice("unix://".length);
        const pp = hostPathProblem(p);
        if (pp) return `the socket path ${pp}`;
        if (/\s/.test(p)) return "the socket path contains whitespace";
        return undefined;
    }
    if (s.startsWith("ssh://")) {
        const m = /^ssh:\/\/(?:([a-z_][a-z0-9_.-]{0,31})@)?(\[[0-9a-fA-F:.]+\]|[^\s/:@[\]]+)(?::([0-9]{1,5}))?$/.exec(
            s,
        );
        if (!m) return `"${s}" must be ssh://user@host or ssh://user@host:port (no path, no options)`;
        const host = m[2] as string;
        const bare = host.startsWith("[") ? host.slice(1, -1) : host;
        if (!parseIp(bare) && !isDnsName(bare.toLowerCase())) return `"${host}" is not a host name or IP address`;
        if (m[3] !== undefined && !(Number(m[3]) >= 1 && Number(m[3]) <= 65535)) return `port ${m[3]} is out of range`;
        return undefined;
    }
    return `"${s}" must be unix:///path/to/docker.sock or ssh://user@host (a tcp:// engine has no authentication)`;
}

/** The parts of an ssh:// Docker host, for running the edge's commands over the same SSH. */
export function sshTarget(s: string): { user?: string; host: string; port?: number } | undefined {
    const m = /^ssh:\/\/(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::([0-9]+))?$/.exec(s);
    if (!m) return undefined;
    const host = (m[2] as string).replace(/^\[|\]$/g, "");
    return { ...(m[1] ? { user: m[1] } : {}), host, ...(m[3] ? { port: Number(m[3]) } : {}) };
}

const EMAIL_LOCAL_RE = /^[A-Za-z0-9._%+-]{1,64}$/;

/** An e-mail address in the conservative form that is also one safe Caddyfile token. */
export function emailProblem(s: string): string | undefined {
    const at = s.lastIndexOf("@");
    if (at <= 0) return `"${s}" is not an e-mail address`;
    const local = s.slice(0, at);
    const domain = s.slice(at + 1);
    if (!EMAIL_LOCAL_RE.test(local) || local.startsWith(".") || local.endsWith(".") || local.includes(".."))
        return `"${s}" is not an e-mail address this stack accepts (letters, digits and . _ % + - before the @)`;
    if (!isDnsName(domain) || !domain.includes(".")) return `"${s}" does not end in a domain name`;
    return undefined;
}

/** An https:// ACME directory: a host, an optional port and a plain path; nothing Caddy would expand. */
export function acmeUrlProblem(s: string): string | undefined {
    const m = /^https:\/\/([a-z0-9.-]+|\[[0-9a-f:]+\])(?::([0-9]{1,5}))?(\/[A-Za-z0-9._~%/+-]*)?$/.exec(s);
    if (!m)
        return `"${s}" must be an https:// ACME directory URL with a host and a plain path (no credentials, query, spaces or { })`;
    const host = (m[1] as string).replace(/^\[|\]$/g, "");
    if (!parseIp(host) && !(isDnsName(host) && host.includes("."))) return `"${host}" is not a host name`;
    if (m[2] !== undefined && !(Number(m[2]) >= 1 && Number(m[2]) <= 65535)) return `port ${m[2]} is out of range`;
    return undefined;
}

/** Parses an RFC 3339 UTC time exactly (no rollover: 2027-02-30 is refused). */
export function parseUtcTime(s: string): Date | undefined {
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(s)) return undefined;
    const d = new Date(s);
    if (Number.isNaN(d.getTime())) return undefined;
    return d.toISOString().replace(".000Z", "Z") === s ? d : undefined;
}
