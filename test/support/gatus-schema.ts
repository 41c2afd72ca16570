// The Gatus (github.com/TwiN/gatus) configuration file that homelab renders, as a zod schema written down from Gatus's
// own source at GATUS_SOURCE (Gatus cannot be built or run here, so tests check the rendered file against this).
//
// How Gatus reads the file (config/config.go@v5.36.0, parseAndValidateConfigBytes):
//   1. every "$$" in the raw file text becomes a sentinel, 2. os.ExpandEnv runs over the WHOLE text (keys, values and
//   comments alike; "$NAME" / "${NAME}" become the variable's value, "" when unset), 3. the sentinel becomes "$",
//   4. yaml.v3 yaml.Unmarshal into the Config struct. That Unmarshal is NOT strict (no KnownFields), so Gatus silently
//   ignores a key it does not know. Every object below is a strictObject anyway, so a typo in our renderer fails here.
//   5. then the Validate* functions run; the first error aborts start-up (the process panics, main.go@v5.36.0).
//
// Rules marked "stricter:" go beyond what Gatus rejects: they catch configs Gatus accepts but that cannot work as meant
// (a provider Gatus drops with a warning, a comparison Gatus silently makes against 0, a panic at run time, ...).
import { z } from "zod";

export const GATUS_SOURCE = {
    repo: "TwiN/gatus",
    tag: "v5.36.0",
    commit: "ed1107b41a30e22047eecfb6dbc3be5e39829d5a",
} as const;

// ---------------------------------------------------------------------------------------------------------------------
// Go grammars Gatus relies on
// ---------------------------------------------------------------------------------------------------------------------

export type GoDuration = { ok: true; ns: bigint } | { ok: false; error: string };

const MAX_U63 = 1n << 63n;
// time/format.go unitMap (Go 1.26): a Map, so "constructor" & co. are not units.
const DURATION_UNITS = new Map<string, bigint>([
    ["ns", 1n],
    ["us", 1_000n],
    ["\u00b5s", 1_000n], // U+00B5 micro sign
    ["\u03bcs", 1_000n], // U+03BC Greek mu
    ["ms", 1_000_000n],
    ["s", 1_000_000_000n],
    ["m", 60_000_000_000n],
    ["h", 3_600_000_000_000n],
]);
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= "0" && c <= "9";

/**
 * Go's time.ParseDuration, ported line for line (time/format.go): what yaml.v3 applies to every time.Duration field
 * (interval, timeout, duration, ...) and what condition.go tries first on every operand of < > <= >=.
 * A bare YAML number is NOT accepted for a time.Duration by yaml.v3 v3.0.1 (decode.go: "This used to work in v2").
 */
export function parseGoDuration(input: string): GoDuration {
    const bad = (why: string): GoDuration => ({ ok: false, error: `time: ${why} "${input}"` });
    let s = input;
    let neg = false;
    if (s !== "" && (s[0] === "-" || s[0] === "+")) {
        neg = s[0] === "-";
        s = s.slice(1);
    }
    if (s === "0") return { ok: true, ns: 0n };
    if (s === "") return bad("invalid duration");
    let d = 0n;
    while (s !== "") {
        if (!(s[0] === "." || isDigit(s[0]))) return bad("invalid duration");
        let i = 0;
        let v = 0n;
        for (; i < s.length && isDigit(s[i]); i++) {
            if (v > MAX_U63 / 10n) return bad("invalid duration");
            v = v * 10n + BigInt(s.charCodeAt(i) - 48);
            if (v > MAX_U63) return bad("invalid duration");
        }
        const pre = i > 0;
        s = s.slice(i);
        let f = 0n;
        let scale = 1;
        let post = false;
        if (s !== "" && s[0] === ".") {
            s = s.slice(1);
            let j = 0;
            let overflow = false;
            for (; j < s.length && isDigit(s[j]); j++) {
                if (overflow) continue;
                if (f > (MAX_U63 - 1n) / 10n) {
                    overflow = true;
                    continue;
                }
                const y = f * 10n + BigInt(s.charCodeAt(j) - 48);
                if (y > MAX_U63) {
                    overflow = true;
                    continue;
                }
                f = y;
                scale *= 10;
            }
            post = j > 0;
            s = s.slice(j);
        }
        if (!pre && !post) return bad("invalid duration");
        let k = 0;
        for (; k < s.length; k++) if (s[k] === "." || isDigit(s[k])) break;
        if (k === 0) return bad("missing unit in duration");
        const u = s.slice(0, k);
        s = s.slice(k);
        const unit = DURATION_UNITS.get(u);
        if (unit === undefined) return { ok: false, error: `time: unknown unit "${u}" in duration "${input}"` };
        if (v > MAX_U63 / unit) return bad("invalid duration");
        v *= unit;
        if (f > 0n) {
            v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
            if (v > MAX_U63) return bad("invalid duration");
        }
        d += v;
        if (d > MAX_U63) return bad("invalid duration");
    }
    if (neg) return { ok: true, ns: -d };
    if (d > MAX_U63 - 1n) return bad("invalid duration");
    return { ok: true, ns: d };
}

const NS = { second: 1_000_000_000n, minute: 60_000_000_000n, hour: 3_600_000_000_000n } as const;

/** One `$` reference that Go's os.Expand (os/env.go) would act on: a variable name, or syntax it eats. */
export interface EnvReference {
    /** The variable looked up (e.g. "NTFY_TOKEN", or "2" for the "$2" in a bcrypt hash); undefined when eaten. */
    name?: string;
    /** The text that is replaced or eaten, e.g. "${NTFY_TOKEN}", "$2", "${". */
    text: string;
}

const GATUS_DOLLAR_SENTINEL = "__GATUS_LITERAL_DOLLAR_SIGN__"; // config/config.go@v5.36.0
const isShellSpecialVar = (c: string): boolean => "*#$@!?-0123456789".includes(c);
const isAlphaNum = (c: string): boolean => /^[A-Za-z0-9_]$/.test(c);

/** Go's os.getShellName: the name after a "$" and how many bytes it spans ("" with w > 0 is eaten syntax). */
function getShellName(s: string): [name: string, width: number] {
    if (s[0] === "{") {
        if (s.length > 2 && isShellSpecialVar(s[1]) && s[2] === "}") return [s.slice(1, 2), 3];
        for (let i = 1; i < s.length; i++) {
            if (s[i] === "}") return i === 1 ? ["", 2] : [s.slice(1, i), i + 1];
        }
        return ["", 1];
    }
    if (isShellSpecialVar(s[0])) return [s.slice(0, 1), 1];
    let i = 0;
    while (i < s.length && isAlphaNum(s[i])) i++;
    return [s.slice(0, i), i];
}

/**
 * What Gatus does to the raw file text before parsing it (config/config.go@v5.36.0): "$$" → literal "$", then
 * os.ExpandEnv ("$NAME", "${NAME}", "${anything-up-to-}", and "$" + one of *#$@!?-0-9 are replaced by the variable;
 * "${" without "}" and "${}" are eaten; "$" before any other character, or at the very end, stays). Returns the text
 * Gatus would parse and every reference it acted on.
 */
export function gatusExpandEnv(
    text: string,
    env: Readonly<Record<string, string | undefined>> = {},
): { text: string; references: EnvReference[] } {
    const s = text.split("$$").join(GATUS_DOLLAR_SENTINEL);
    const references: EnvReference[] = [];
    let out = "";
    let i = 0;
    for (let j = 0; j < s.length; j++) {
        if (s[j] === "$" && j + 1 < s.length) {
            out += s.slice(i, j);
            const [name, w] = getShellName(s.slice(j + 1));
            if (name === "" && w > 0) {
                references.push({ text: s.slice(j, j + 1 + w) });
            } else if (name === "") {
                out += "$";
            } else {
                references.push({ name, text: s.slice(j, j + 1 + w) });
                out += env[name] ?? "";
            }
            j += w;
            i = j + 1;
        }
    }
    out += s.slice(i);
    return { text: out.split(GATUS_DOLLAR_SENTINEL).join("$"), references };
}

// Go's strconv.ParseInt(s, 0, 64) for the plain forms a condition may hold (stricter: no "_" digit separators).
function goInt(s: string): bigint | undefined {
    const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
    if (!m) return undefined;
    const body = /^0[0-7]+$/.test(m[2]) ? `0o${m[2].slice(1)}` : m[2];
    const v = BigInt(body) * (m[1] === "-" ? -1n : 1n);
    return v >= -MAX_U63 && v < MAX_U63 ? v : undefined;
}
// Go's strconv.ParseFloat for plain decimal forms (stricter: no hex floats, no "_", no Inf/NaN).
const GO_FLOAT_RE = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

/** A literal operand of < > <= >= the way condition.go's sanitizeAndResolveNumericalWithContext reads it. */
function numericLiteral(s: string): { kind: "duration" | "int" | "float"; ms: number } | undefined {
    const d = parseGoDuration(s);
    if (d.ok && d.ns !== 0n) return { kind: "duration", ms: Number(d.ns / 1_000_000n) };
    const i = goInt(s);
    if (i !== undefined) return { kind: "int", ms: Number(i) };
    if (GO_FLOAT_RE.test(s)) return { kind: "float", ms: Math.trunc(Number(s)) };
    return undefined;
}

// ---------------------------------------------------------------------------------------------------------------------
// Conditions (config/endpoint/condition.go@v5.36.0, config/endpoint/placeholder.go@v5.36.0)
// ---------------------------------------------------------------------------------------------------------------------

/** In the order condition.go's evaluate tries them; each must have a space on both sides. */
export const CONDITION_OPERATORS = ["==", "!=", "<=", ">=", ">", "<"] as const;
export type ConditionOperator = (typeof CONDITION_OPERATORS)[number];

/** placeholder.go@v5.36.0 ResolvePlaceholder's basic placeholders. */
export const CONDITION_PLACEHOLDERS = [
    "[STATUS]",
    "[IP]",
    "[DNS_RCODE]",
    "[RESPONSE_TIME]",
    "[BODY]",
    "[CONNECTED]",
    "[CERTIFICATE_EXPIRATION]",
    "[DOMAIN_EXPIRATION]",
    "[CONTEXT]",
] as const;
type Placeholder = (typeof CONDITION_PLACEHOLDERS)[number];

// miekg/dns RcodeToString: what [DNS_RCODE] resolves to.
const DNS_RCODES = new Set([
    "NOERROR",
    "FORMERR",
    "SERVFAIL",
    "NXDOMAIN",
    "NOTIMP",
    "REFUSED",
    "YXDOMAIN",
    "YXRRSET",
    "NXRRSET",
    "NOTAUTH",
    "NOTZONE",
    "BADSIG",
    "BADKEY",
    "BADTIME",
    "BADMODE",
    "BADNAME",
    "BADALG",
    "BADTRUNC",
    "BADCOOKIE",
]);

export interface ParsedCondition {
    operator: ConditionOperator;
    left: string;
    right: string;
    /** How many pieces strings.Split produced; Gatus reads only the first two. */
    pieces: number;
}

/** condition.go's evaluate: the first operator (CONDITION_OPERATORS order) found as " op ", then Split + TrimSpace. */
export function parseGatusCondition(condition: string): ParsedCondition | undefined {
    for (const operator of CONDITION_OPERATORS) {
        const sep = ` ${operator} `;
        if (condition.includes(sep)) {
            const parts = condition.split(sep);
            return { operator, left: parts[0].trim(), right: parts[1].trim(), pieces: parts.length };
        }
    }
    return undefined;
}

type Operand =
    | { kind: "placeholder"; placeholder: Placeholder; fn?: "len" | "has"; written: string }
    | { kind: "unknown-placeholder"; fn?: "len" | "has"; written: string }
    | { kind: "pattern"; fn: "pat" | "any" }
    | { kind: "literal"; fn?: "len" | "has"; text: string };

/** placeholder.go's extractFunctionWrapper + ResolvePlaceholder, reduced to what the operand is. */
function classifyOperand(raw: string): Operand {
    if ((raw.startsWith("pat(") || raw.startsWith("any(")) && raw.endsWith(")"))
        return { kind: "pattern", fn: raw.startsWith("pat(") ? "pat" : "any" };
    let fn: "len" | "has" | undefined;
    let inner = raw;
    if ((raw.startsWith("len(") || raw.startsWith("has(")) && raw.endsWith(")")) {
        fn = raw.startsWith("len(") ? "len" : "has";
        inner = raw.slice(4, -1);
    }
    const upper = inner.toUpperCase();
    for (const p of CONDITION_PLACEHOLDERS) {
        if (p === "[CONTEXT]" ? upper.startsWith(p) : upper === p)
            return { kind: "placeholder", placeholder: p, fn, written: inner };
    }
    if (upper.startsWith("[BODY].") || upper.startsWith("[BODY]["))
        return { kind: "placeholder", placeholder: "[BODY]", fn, written: inner };
    if (/^\[[A-Za-z_]+\]/.test(inner)) return { kind: "unknown-placeholder", fn, written: inner };
    return { kind: "literal", fn, text: inner };
}

export type EndpointType =
    "DNS" | "TCP" | "SCTP" | "UDP" | "ICMP" | "STARTTLS" | "TLS" | "HTTP" | "GRPC" | "WEBSOCKET" | "SSH" | "UNKNOWN";

/** config/endpoint/endpoint.go@v5.36.0 Type(): a dns block wins, then the URL's prefix (case-sensitive). */
export function gatusEndpointType(url: string, hasDns: boolean): EndpointType {
    if (hasDns) return "DNS";
    const prefixes: [string[], EndpointType][] = [
        [["tcp://"], "TCP"],
        [["sctp://"], "SCTP"],
        [["udp://"], "UDP"],
        [["icmp://"], "ICMP"],
        [["starttls://"], "STARTTLS"],
        [["tls://"], "TLS"],
        [["http://", "https://"], "HTTP"],
        [["grpc://", "grpcs://"], "GRPC"],
        [["ws://", "wss://"], "WEBSOCKET"],
        [["ssh://"], "SSH"],
    ];
    for (const [ps, t] of prefixes) if (ps.some((p) => url.startsWith(p))) return t;
    return "UNKNOWN";
}

// Which Result fields each endpoint type's call() fills in (config/endpoint/endpoint.go@v5.36.0 call): a placeholder
// whose field is never set resolves to its zero value ("0", "", "false").
const SETS_STATUS: ReadonlySet<EndpointType> = new Set(["HTTP", "SSH"]);
const SETS_BODY: ReadonlySet<EndpointType> = new Set(["HTTP", "TCP", "UDP", "TLS", "DNS", "WEBSOCKET", "SSH", "GRPC"]);

interface ConditionContext {
    type: EndpointType;
    url: string;
    inSuite: boolean;
}

/** Problems with one condition; the first mirrors Gatus's own check, the rest are stricter. */
export function gatusConditionProblems(condition: string, ctx: ConditionContext): string[] {
    const parsed = parseGatusCondition(condition);
    // condition.go@v5.36.0 Validate/evaluate: the only error Gatus raises is "invalid condition" when no operator is
    // found with spaces around it; every operand resolves without error (unknown text is compared literally).
    if (!parsed)
        return [
            `"${condition}" has no operator: Gatus needs "<VALUE> <OP> <VALUE>" with one of ` +
                `${CONDITION_OPERATORS.join(" ")} between single spaces`,
        ];
    const problems: string[] = [];
    const { operator, left, right } = parsed;
    // stricter: Split keeps going, but evaluate reads only pieces [0] and [1] (condition.go@v5.36.0).
    if (parsed.pieces !== 2) problems.push(`"${condition}" has " ${operator} " more than once; Gatus ignores the rest`);
    for (const side of [left, right]) {
        for (const op of CONDITION_OPERATORS) {
            if (side.includes(` ${op} `) && parsed.pieces === 2)
                problems.push(`"${condition}" also holds " ${op} "; Gatus splits on " ${operator} " only`);
        }
    }
    if (left === "" || right === "") problems.push(`"${condition}" has an empty side`);
    const numeric = operator !== "==" && operator !== "!=";
    const ops = [classifyOperand(left), classifyOperand(right)];
    for (const o of ops) {
        if (o.kind === "unknown-placeholder") {
            problems.push(`"${o.written}" is not a Gatus placeholder; Gatus would compare the text itself`);
            continue;
        }
        if (o.kind === "literal" && o.fn)
            problems.push(
                `${o.fn}(${o.text}) wraps no placeholder; Gatus resolves it to ` +
                    (o.fn === "has" ? "false" : "(INVALID)"),
            );
        if (o.kind !== "placeholder") continue;
        // stricter: ResolvePlaceholder ignores case, but endpoint.go needsToReadBody / needsToRetrieveIP /
        // needsToRetrieveDomainExpiration look for "[BODY]", "[IP]", "[DOMAIN_EXPIRATION]" case-sensitively, so in any
        // other case the body is never read (or the lookup never made) and the placeholder resolves to "" / 0.
        if (!o.written.startsWith(o.placeholder))
            problems.push(
                ["[BODY]", "[IP]", "[DOMAIN_EXPIRATION]"].includes(o.placeholder)
                    ? `"${o.written}" must be written in upper case; Gatus only fetches what "${o.placeholder}" names`
                    : `write "${o.written}" in upper case, as ${o.placeholder}`,
            );
        if (o.placeholder === "[CONTEXT]" && !ctx.inSuite)
            problems.push(`[CONTEXT] only resolves inside a suite; elsewhere Gatus compares the text itself`);
        if (ctx.type === "UNKNOWN") continue;
        // stricter: the field this placeholder reads is never set for this endpoint type (endpoint.go call).
        if (o.placeholder === "[CERTIFICATE_EXPIRATION]") {
            const tls = ctx.type === "TLS" || ctx.type === "STARTTLS" || ctx.url.startsWith("https://");
            if (!tls)
                problems.push(
                    `[CERTIFICATE_EXPIRATION] is always 0 for ${ctx.url}: ` +
                        "only https://, tls:// and starttls:// read a certificate",
                );
        }
        if (o.placeholder === "[STATUS]" && !SETS_STATUS.has(ctx.type))
            problems.push(`[STATUS] is always 0 for ${ctx.type} endpoints`);
        if (o.placeholder === "[DNS_RCODE]" && ctx.type !== "DNS")
            problems.push(`[DNS_RCODE] is always empty for ${ctx.type} endpoints`);
        if (o.placeholder === "[BODY]" && !SETS_BODY.has(ctx.type))
            problems.push(`[BODY] is always empty for ${ctx.type} endpoints`);
    }
    if (numeric) {
        // condition.go sanitizeAndResolveNumericalWithContext: a non-zero Go duration → milliseconds, else ParseInt
        // (base 0), else ParseFloat, else 0 — silently. stricter: every operand must be something that is a number.
        for (const [i, o] of ops.entries()) {
            const written = i === 0 ? left : right;
            if (o.kind === "pattern") problems.push(`${o.fn}() only works with == and !=; with ${operator} it is 0`);
            else if (o.kind === "literal" && !o.fn && numericLiteral(o.text) === undefined)
                problems.push(`"${written}" is neither a number nor a Go duration; Gatus compares it as 0`);
            else if (o.kind === "placeholder" && o.fn === "has")
                problems.push(`has() yields true/false; with ${operator} Gatus compares it as 0`);
            else if (
                o.kind === "placeholder" &&
                !o.fn &&
                (o.placeholder === "[CONNECTED]" || o.placeholder === "[IP]" || o.placeholder === "[DNS_RCODE]")
            )
                problems.push(`${o.placeholder} is never a number; with ${operator} Gatus compares it as 0`);
        }
    } else {
        // condition.go isEqual: pat()/any() on one side, else ParseInt both sides, else exact string equality.
        if (ops[0].kind === "pattern" && ops[1].kind === "pattern")
            problems.push(`"${condition}" has a function on both sides; Gatus then compares the texts`);
        for (const [i, o] of ops.entries()) {
            const other = ops[1 - i];
            if (o.kind !== "placeholder" || o.fn || other.kind !== "literal" || other.fn) continue;
            const lit = other.text;
            if (o.placeholder === "[CONNECTED]" && lit !== "true" && lit !== "false")
                problems.push(`[CONNECTED] is "true" or "false", never "${lit}"`);
            if (o.placeholder === "[STATUS]" && goInt(lit) === undefined)
                problems.push(`[STATUS] is a number, never "${lit}"`);
            if (o.placeholder === "[DNS_RCODE]" && !DNS_RCODES.has(lit))
                problems.push(`[DNS_RCODE] is a DNS rcode name (NOERROR, NXDOMAIN, ...), never "${lit}"`);
        }
    }
    return [...new Set(problems)];
}

// ---------------------------------------------------------------------------------------------------------------------
// Small schemas
// ---------------------------------------------------------------------------------------------------------------------

type Ctx = z.RefinementCtx;
const issue = (ctx: Ctx, message: string, path: PropertyKey[] = []): void =>
    ctx.addIssue({ code: "custom", message, path });

/** A string; a number where a string belongs is refused (yaml.v3 would take it, but our renderer should quote). */
const str = () =>
    z.string({
        error: (iss) =>
            typeof iss.input === "number" ? `must be a string, not the number ${iss.input}` : "must be a string",
    });
const bool = () => z.boolean({ error: "must be true or false" });
const int = () => z.number({ error: "must be an integer" }).int("must be an integer");

/** A Go time.Duration field: yaml.v3 v3.0.1 takes only a string time.ParseDuration accepts (not a bare number). */
const duration = (rule?: (ns: bigint) => string | undefined) =>
    z
        .string({
            error: (iss) =>
                typeof iss.input === "number"
                    ? `must be a Go duration string such as "30s": yaml.v3 refuses the number ${iss.input}`
                    : `must be a Go duration string such as "30s"`,
        })
        .superRefine((v, ctx) => {
            const d = parseGoDuration(v);
            if (!d.ok) return issue(ctx, `${d.error} (Go's time.ParseDuration)`);
            const p = rule?.(d.ns);
            if (p) issue(ctx, p);
        });

// "Name and group must not have \" or \\" (config/endpoint/common.go@v5.36.0).
const NO_QUOTE_OR_BACKSLASH = /^[^"\\]*$/;
// Go's httpguts.ValidHeaderFieldName / http.NewRequest's validMethod: an RFC 7230 token.
const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** config/key/key.go@v5.36.0 ConvertGroupAndNameToKey: what "unique" means for endpoints, suites and the like. */
export function gatusKey(group: string | undefined, name: string): string {
    const sanitize = (s: string) =>
        s
            .toLowerCase()
            .trim()
            .replace(/[/_.,\s#+&]/g, "-");
    return `${sanitize(group ?? "")}_${sanitize(name)}`;
}

// ---------------------------------------------------------------------------------------------------------------------
// client (client/config.go@v5.36.0)
// ---------------------------------------------------------------------------------------------------------------------

// client/config.go parseDNSResolver: this regex, then Atoi(port) (so the port is required) and 1 ≤ port ≤ 65535.
const DNS_RESOLVER_RE = /^(.*):\/\/([A-Za-z0-9\-.]+):([0-9]+)?(.*)$/;

const clientSchema = z
    .strictObject({
        "proxy-url": str().optional(),
        insecure: bool().optional(),
        "ignore-redirect": bool().optional(),
        // client/config.go: < 1ms (incl. absent) → 10s.
        timeout: duration((ns) =>
            ns < 1_000_000n ? "must be at least 1ms (Gatus replaces smaller with 10s)" : undefined,
        ).optional(),
        "dns-resolver": str().optional(),
        oauth2: z
            .strictObject({
                "token-url": str(),
                "client-id": str(),
                "client-secret": str(),
                scopes: z.array(str()),
            })
            .optional(),
        "identity-aware-proxy": z.strictObject({ audience: str() }).optional(),
        // ICMP only; pro-bing treats anything but ip4/ip6 as "ip". stricter: one of the three.
        network: z.enum(["ip", "ip4", "ip6"], { error: 'must be "ip", "ip4" or "ip6"' }).optional(),
        tls: z
            .strictObject({
                "certificate-file": str().optional(),
                "private-key-file": str().optional(),
                // client/config.go configureTLS: anything else silently means "never".
                renegotiation: z
                    .enum(["never", "once", "freely"], { error: 'must be "never", "once" or "freely"' })
                    .optional(),
            })
            .optional(),
        tunnel: str().optional(),
    })
    .superRefine((c, ctx) => {
        const r = c["dns-resolver"];
        if (r !== undefined && r !== "") {
            const m = DNS_RESOLVER_RE.exec(r);
            const port = m?.[3] === undefined ? NaN : Number(m[3]);
            // client/config.go ErrInvalidDNSResolver / ErrInvalidDNSResolverPort.
            if (!m) issue(ctx, "must be {proto}://{ip}:{port}, e.g. udp://1.1.1.1:53", ["dns-resolver"]);
            else if (!(port >= 1 && port <= 65535)) issue(ctx, "needs a port between 1 and 65535", ["dns-resolver"]);
        }
        // client/config.go OAuth2Config.isValid / IAPConfig.isValid.
        const o = c.oauth2;
        if (o && !(o["token-url"] && o["client-id"] && o["client-secret"] && o.scopes.length > 0))
            issue(ctx, "oauth2 needs token-url, client-id, client-secret and at least one scope", ["oauth2"]);
        if (c["identity-aware-proxy"] && !c["identity-aware-proxy"].audience)
            issue(ctx, "needs an audience", ["identity-aware-proxy"]);
        // stricter: Gatus only checks tls when BOTH files are set (HasTLSConfig) and silently ignores a half block;
        // when both are set it loads the pair (tls.LoadX509KeyPair) at config load: the files must be in the container.
        if (c.tls && !(c.tls["certificate-file"] && c.tls["private-key-file"]))
            issue(ctx, "tls needs both certificate-file and private-key-file (Gatus ignores a half tls block)", [
                "tls",
            ]);
        if (c.tunnel !== undefined && c.tunnel.trim() === "") issue(ctx, "must name a tunnel", ["tunnel"]);
    });

// ---------------------------------------------------------------------------------------------------------------------
// alerts (alerting/alert/alert.go@v5.36.0) and maintenance windows (config/maintenance/maintenance.go@v5.36.0)
// ---------------------------------------------------------------------------------------------------------------------

/** alerting/alert/type.go@v5.36.0: every type Gatus knows (it does not itself reject other strings). */
export const GATUS_ALERT_TYPES = [
    "aws-ses",
    "clickup",
    "custom",
    "datadog",
    "discord",
    "email",
    "github",
    "gitlab",
    "gitea",
    "googlechat",
    "gotify",
    "homeassistant",
    "ifttt",
    "ilert",
    "incident-io",
    "line",
    "matrix",
    "mattermost",
    "messagebird",
    "newrelic",
    "n8n",
    "ntfy",
    "opsgenie",
    "pagerduty",
    "plivo",
    "pushover",
    "rocketchat",
    "sendgrid",
    "signal",
    "signl4",
    "slack",
    "splunk",
    "squadcast",
    "teams",
    "teams-workflows",
    "telegram",
    "twilio",
    "vonage",
    "webex",
    "zapier",
    "zulip",
] as const;

const alertFields = {
    enabled: bool().optional(),
    // alert.go ValidateAndSetDefaults: ≤ 0 → 3 / 2 (after the provider's default-alert is merged). stricter: ≥ 1.
    "failure-threshold": int().min(1, "must be at least 1 (Gatus turns 0 and below into 3)").optional(),
    "success-threshold": int().min(1, "must be at least 1 (Gatus turns 0 and below into 2)").optional(),
    // alert.go ErrAlertWithInvalidMinimumReminderInterval: 0 or ≥ 5m.
    "minimum-reminder-interval": duration((ns) =>
        ns !== 0n && ns < 5n * NS.minute ? "must be omitted, 0, or at least 5m" : undefined,
    ).optional(),
    // alert.go ErrAlertWithInvalidDescription.
    description: str().regex(NO_QUOTE_OR_BACKSLASH, 'must not contain " or \\').optional(),
    "send-on-resolved": bool().optional(),
};

const alertSchema = z.strictObject({
    // Gatus accepts any string; which types must name a configured provider is checked on the whole config.
    type: str().min(1, "must name an alerting provider"),
    ...alertFields,
    "provider-override": z.record(z.string(), z.unknown()).optional(),
});

/** default-alert: an alert.Alert whose type Gatus ignores (provider.go MergeProviderDefaultAlertIntoEndpointAlert). */
const defaultAlertSchema = z.strictObject(alertFields);

const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"] as const;

function isIanaZone(tz: string): boolean {
    if (tz === "UTC" || tz === "Local") return true; // time.LoadLocation specials
    try {
        new Intl.DateTimeFormat("en-US", { timeZone: tz });
        return true;
    } catch {
        return false;
    }
}

const maintenanceSchema = z
    .strictObject({
        enabled: bool().optional(),
        start: str().optional(),
        duration: duration().optional(),
        timezone: str().optional(),
        every: z.array(str()).optional(),
    })
    .superRefine((m, ctx) => {
        // maintenance.go ValidateAndSetDefaults: nothing is checked when enabled is false (absent means true).
        if (m.enabled === false) return;
        for (const [i, day] of (m.every ?? []).entries())
            if (!(WEEKDAYS as readonly string[]).includes(day))
                issue(ctx, `must be one of ${WEEKDAYS.join(", ")} (capitalised)`, ["every", i]);
        // maintenance.go hhmmToDuration (stricter: Gatus takes any 3rd character as the separator).
        if (!/^([01][0-9]|2[0-3]):[0-5][0-9]$/.test(m.start ?? ""))
            issue(ctx, "start must be hh:mm between 00:00 and 23:59", ["start"]);
        // maintenance.go errInvalidMaintenanceDuration: 0 < duration ≤ 24h.
        const d = m.duration === undefined ? undefined : parseGoDuration(m.duration);
        if (!d || (d.ok && (d.ns <= 0n || d.ns > 24n * NS.hour)))
            issue(ctx, "duration must be more than 0 and at most 24h", ["duration"]);
        // maintenance.go errInvalidTimezone: time.LoadLocation (approximated with the ICU zone list).
        if (m.timezone !== undefined && m.timezone !== "" && !isIanaZone(m.timezone))
            issue(ctx, `"${m.timezone}" is not an IANA time zone`, ["timezone"]);
    });

// ---------------------------------------------------------------------------------------------------------------------
// endpoints (config/endpoint/endpoint.go@v5.36.0 and friends)
// ---------------------------------------------------------------------------------------------------------------------

// stricter: miekg/dns StringToType holds many more; these are the ones worth monitoring. Only A, AAAA, CNAME, MX, NS,
// PTR and SRV answers land in [BODY] (client/client.go@v5.36.0 QueryDNS).
const DNS_QUERY_TYPES = [
    "A",
    "AAAA",
    "CAA",
    "CNAME",
    "DNSKEY",
    "DS",
    "HTTPS",
    "MX",
    "NS",
    "PTR",
    "SOA",
    "SRV",
    "SVCB",
    "TLSA",
    "TXT",
] as const;

const endpointUiSchema = z
    .strictObject({
        "hide-conditions": bool().optional(),
        "hide-hostname": bool().optional(),
        "hide-url": bool().optional(),
        "hide-port": bool().optional(),
        "hide-errors": bool().optional(),
        "dont-resolve-failed-conditions": bool().optional(),
        "resolve-successful-conditions": bool().optional(),
        // config/endpoint/ui/ui.go: a badge without response-time is a nil dereference (panic) in Gatus.
        badge: z.strictObject({ "response-time": z.strictObject({ thresholds: z.array(int()) }) }).optional(),
    })
    .superRefine((u, ctx) => {
        const t = u.badge?.["response-time"].thresholds;
        // config/endpoint/ui/ui.go ErrInvalidBadgeResponseTimeConfig: exactly 5, ascending.
        if (t && (t.length !== 5 || t.some((v, i) => i > 0 && v < t[i - 1])))
            issue(ctx, "needs exactly 5 ascending thresholds", ["badge", "response-time", "thresholds"]);
    });

const HOST_RE =
    /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/;
const IPV6_RE = /^[0-9A-Fa-f:.]+$/;

function hostPortProblem(addr: string, what: string, opts: { ipv6?: boolean; portOptional?: boolean } = {}) {
    const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::([0-9]+))?$/.exec(addr);
    const host = m?.[1] ?? m?.[2];
    if (!m || host === undefined) return `${what} must be host:port, not "${addr}"`;
    if (m[1] !== undefined && (!opts.ipv6 || !IPV6_RE.test(m[1])))
        return opts.ipv6 ? `"${m[1]}" is not an IPv6 address` : `${what} cannot be an IPv6 address here`;
    if (m[2] !== undefined && !HOST_RE.test(m[2])) return `"${m[2]}" is not a host name or IPv4 address`;
    if (m[3] === undefined) return opts.portOptional ? undefined : `${what} needs a :port`;
    const port = Number(m[3]);
    return port >= 1 && port <= 65535 ? undefined : `port ${m[3]} is not between 1 and 65535`;
}

/** stricter: what each endpoint type's client (client/client.go@v5.36.0) can actually dial. */
function urlProblem(url: string, type: EndpointType): string | undefined {
    const rest = url.slice(url.indexOf("://") + 3);
    switch (type) {
        case "HTTP":
        case "WEBSOCKET": {
            // endpoint.go: http.NewRequest(method, url) must succeed (url.Parse); WHATWG URL is close enough.
            let u: URL;
            try {
                u = new URL(url);
            } catch {
                return `"${url}" is not a valid URL`;
            }
            return u.hostname === "" ? `"${url}" has no host` : undefined;
        }
        case "TCP":
        case "UDP":
        case "TLS":
        case "SCTP":
        case "GRPC":
            return hostPortProblem(rest, "the address", { ipv6: true });
        case "STARTTLS": // client.go CanPerformStartTLS: strings.Split(address, ":") must give exactly 2.
            return hostPortProblem(rest, "the address");
        case "SSH": // client.go CheckSSHBanner: host or host:port (default 22), no IPv6.
            return hostPortProblem(rest, "the address", { portOptional: true });
        case "ICMP": {
            // endpoint.go: the host is what follows icmp:// (IPv6 without brackets).
            const h = rest;
            return HOST_RE.test(h) || (h.includes(":") && IPV6_RE.test(h))
                ? undefined
                : `"${h}" must be a bare host name or IP address (no port, no path)`;
        }
        case "DNS": {
            // client.go QueryDNS: no ":" → ":53" appended; the server address is dialled as is (no scheme).
            if (url.includes("://")) return `a DNS endpoint's url is the server address (e.g. "1.1.1.1"), not "${url}"`;
            return hostPortProblem(url, "the DNS server", { ipv6: true, portOptional: true });
        }
        case "UNKNOWN":
            return undefined;
    }
}

function endpointSchema(inSuite: boolean) {
    return z
        .strictObject({
            enabled: bool().optional(),
            // common.go validateEndpointNameGroupAndAlerts: name required; no " or \ in name or group.
            name: str().min(1, "is required").regex(NO_QUOTE_OR_BACKSLASH, 'must not contain " or \\'),
            group: str().regex(NO_QUOTE_OR_BACKSLASH, 'must not contain " or \\').optional(),
            // endpoint.go ErrEndpointWithNoURL.
            url: str().min(1, "is required"),
            // endpoint.go: default GET; http.NewRequest refuses a method that is not a token.
            method: str().regex(TOKEN_RE, "must be an HTTP method token such as GET").optional(),
            body: str().optional(),
            graphql: bool().optional(),
            // stricter: Go's http.Transport refuses a header name that is not a token when it sends.
            headers: z.record(str().regex(TOKEN_RE, "must be an HTTP header name token"), str()).optional(),
            "extra-labels": z.record(z.string(), str()).optional(),
            // endpoint.go: 0/absent → 1m. stricter: > 0 (watchdog/endpoint.go time.NewTicker panics on a negative).
            interval: duration((ns) => (ns <= 0n ? "must be more than 0" : undefined)).optional(),
            // endpoint.go ErrEndpointWithNoCondition.
            conditions: z.array(str()).min(1, "needs at least one condition"),
            alerts: z.array(alertSchema).optional(),
            "maintenance-windows": z.array(maintenanceSchema).optional(),
            // config/endpoint/dns/dns.go: query-name required; query-type a miekg/dns type name.
            dns: z
                .strictObject({
                    "query-type": z.enum(DNS_QUERY_TYPES, { error: `must be one of ${DNS_QUERY_TYPES.join(", ")}` }),
                    "query-name": str().min(1, "is required"),
                })
                .optional(),
            ssh: z
                .strictObject({
                    username: str().optional(),
                    password: str().optional(),
                    "private-key": str().optional(),
                })
                .optional(),
            client: clientSchema.optional(),
            ui: endpointUiSchema.optional(),
            // Suite-only fields (endpoint.go): Gatus parses them anywhere but reads them only inside a suite.
            ...(inSuite ? { store: z.record(z.string(), str()).optional(), "always-run": bool().optional() } : {}),
        })
        .superRefine((e, ctx) => {
            const type = gatusEndpointType(e.url, e.dns !== undefined);
            // endpoint.go ErrUnknownEndpointType (skipped by Gatus when a dns or ssh block returns early; we don't).
            if (type === "UNKNOWN")
                issue(
                    ctx,
                    `"${e.url}" has no scheme Gatus knows ` +
                        "(http(s), tcp, udp, sctp, tls, starttls, icmp, grpc(s), ws(s), ssh; or a dns block)",
                    ["url"],
                );
            const up = urlProblem(e.url, type);
            if (up) issue(ctx, up, ["url"]);
            // stricter: suite.go overwrites every suite endpoint's group with the suite's.
            if (inSuite && e.group !== undefined)
                issue(ctx, "is ignored: a suite endpoint takes the suite's group", ["group"]);
            // stricter: ssh only means something for ssh:// (and Gatus skips its type check when it is present).
            if (e.ssh && type !== "SSH") issue(ctx, "only applies to ssh:// endpoints", ["ssh"]);
            // config/endpoint/ssh/ssh.go Validate.
            if (e.ssh && (e.ssh.username || e.ssh.password || e.ssh["private-key"])) {
                if (!e.ssh.username) issue(ctx, "needs a username", ["ssh", "username"]);
                else if (!e.ssh.password && !e.ssh["private-key"])
                    issue(ctx, "needs a password or a private-key", ["ssh"]);
            }
            // stricter: client.tls (mTLS) is only used by HTTP, WebSocket and grpcs (client.go), not tls:// or tcp://.
            if (e.client?.tls && !["HTTP", "WEBSOCKET", "GRPC"].includes(type))
                issue(ctx, `is not used by ${type} endpoints`, ["client", "tls"]);
            // endpoint.go ErrInvalidEndpointIntervalForDomainExpirationPlaceholder: interval (default 1m) ≥ 5m.
            const iv = e.interval === undefined ? { ok: true as const, ns: NS.minute } : parseGoDuration(e.interval);
            const ivNs = iv.ok ? (iv.ns === 0n ? NS.minute : iv.ns) : undefined;
            for (const [i, c] of e.conditions.entries()) {
                if (c.includes("[DOMAIN_EXPIRATION]") && ivNs !== undefined && ivNs < 5n * NS.minute)
                    issue(ctx, "an endpoint using [DOMAIN_EXPIRATION] needs an interval of at least 5m", [
                        "conditions",
                        i,
                    ]);
                for (const p of gatusConditionProblems(c, { type, url: e.url, inSuite }))
                    issue(ctx, p, ["conditions", i]);
            }
        });
}

// ---------------------------------------------------------------------------------------------------------------------
// alerting providers (alerting/config.go@v5.36.0; ntfy and custom only)
// ---------------------------------------------------------------------------------------------------------------------

// binwiederhier/ntfy user/types.go allowedTopicRegex: what an ntfy server accepts as a topic (Gatus only checks
// that the topic is non-empty).
const NTFY_TOPIC_RE = /^[-_A-Za-z0-9]{1,64}$/;
const ntfyConfigFields = {
    topic: str().optional(),
    url: str().optional(),
    priority: int().optional(),
    token: str().optional(),
    email: str().optional(),
    click: str().optional(),
    "disable-firebase": bool().optional(),
    "disable-cache": bool().optional(),
};
type NtfyConfig = { [K in keyof typeof ntfyConfigFields]?: z.infer<(typeof ntfyConfigFields)[K]> };

/** alerting/provider/ntfy/ntfy.go@v5.36.0 Config.Validate (+ stricter topic/url rules), on a merged config. */
function ntfyConfigProblems(c: NtfyConfig, requireTopic: boolean): [string, string][] {
    const out: [string, string][] = [];
    // ntfy.go ErrInvalidToken: a token must start with "tk_" (an ntfy access token; Gatus sends it as Bearer).
    if (c.token && !c.token.startsWith("tk_")) out.push(["token", 'must be an ntfy access token starting with "tk_"']);
    // ntfy.go ErrTopicNotSet.
    if (requireTopic && !c.topic) out.push(["topic", "is required"]);
    if (c.topic && !NTFY_TOPIC_RE.test(c.topic))
        out.push(["topic", "must be 1-64 characters of A-Z a-z 0-9 _ - (ntfy's topic rule)"]);
    // ntfy.go ErrInvalidPriority: 0/absent → 3, else 1..5.
    if (c.priority !== undefined && (c.priority < 0 || c.priority > 5))
        out.push(["priority", "must be between 1 and 5 (0 or absent means 3)"]);
    // stricter: ntfy.go Send POSTs JSON {topic, ...} to url itself; ntfy parses a JSON body only at its root URL.
    if (c.url !== undefined) {
        let u: URL | undefined;
        try {
            u = new URL(c.url);
        } catch {
            u = undefined;
        }
        if (!u || (u.protocol !== "https:" && u.protocol !== "http:")) out.push(["url", "must be an http(s) URL"]);
        else if (u.pathname !== "/" || u.search !== "")
            out.push(["url", "must be the ntfy server's root URL (the topic travels in the JSON body)"]);
    }
    return out;
}

const ntfySchema = z
    .strictObject({
        ...ntfyConfigFields,
        "default-alert": defaultAlertSchema.optional(),
        overrides: z.array(z.strictObject({ group: str(), ...ntfyConfigFields })).optional(),
    })
    .superRefine((p, ctx) => {
        for (const [k, m] of ntfyConfigProblems(p, true)) issue(ctx, m, [k]);
        // ntfy.go AlertProvider.Validate: each override needs a unique, non-empty group, a "tk_" token and 0..5.
        const seen = new Set<string>();
        for (const [i, o] of (p.overrides ?? []).entries()) {
            if (!o.group) issue(ctx, "needs a group", ["overrides", i, "group"]);
            else if (seen.has(o.group)) issue(ctx, `group "${o.group}" is overridden twice`, ["overrides", i, "group"]);
            seen.add(o.group);
            for (const [k, m] of ntfyConfigProblems({ ...p, ...o }, true)) issue(ctx, m, ["overrides", i, k]);
        }
    });

// custom.go buildHTTPRequest: the placeholders it replaces in url and body.
export const CUSTOM_ALERT_PLACEHOLDERS = [
    "[ALERT_DESCRIPTION]",
    "[ENDPOINT_NAME]",
    "[ENDPOINT_GROUP]",
    "[ENDPOINT_URL]",
    "[RESULT_ERRORS]",
    "[RESULT_CONDITIONS]",
    "[ALERT_TRIGGERED_OR_RESOLVED]",
] as const;

const customConfigFields = {
    url: str().optional(),
    method: str().regex(TOKEN_RE, "must be an HTTP method token such as POST").optional(),
    body: str().optional(),
    headers: z.record(str().regex(TOKEN_RE, "must be an HTTP header name token"), str()).optional(),
    placeholders: z.record(z.string(), z.record(z.string(), str())).optional(),
    client: clientSchema.optional(),
};
type CustomConfig = { [K in keyof typeof customConfigFields]?: z.infer<(typeof customConfigFields)[K]> };

/** alerting/provider/custom/custom.go@v5.36.0 Config.Validate (+ stricter rules), on a merged config. */
function customConfigProblems(c: CustomConfig): [PropertyKey[], string][] {
    const out: [PropertyKey[], string][] = [];
    // custom.go ErrURLNotSet.
    if (!c.url) out.push([["url"], "is required"]);
    // stricter: a placeholder-looking word custom.go does not replace is sent as is.
    for (const k of ["url", "body"] as const) {
        for (const m of (c[k] ?? "").match(/\[[A-Z_]+\]/g) ?? [])
            if (!(CUSTOM_ALERT_PLACEHOLDERS as readonly string[]).includes(m))
                out.push([
                    [k],
                    `${m} is not a placeholder custom alerts fill in (${CUSTOM_ALERT_PLACEHOLDERS.join(" ")})`,
                ]);
    }
    // stricter: custom.go defaults the method to GET; a body with GET is almost certainly a missing method.
    if (c.body && (c.method ?? "GET") === "GET") out.push([["method"], "is GET (Gatus's default) but there is a body"]);
    // custom.go GetAlertStatePlaceholderValue reads only placeholders.ALERT_TRIGGERED_OR_RESOLVED.{TRIGGERED,RESOLVED}.
    for (const [k, v] of Object.entries(c.placeholders ?? {})) {
        if (k !== "ALERT_TRIGGERED_OR_RESOLVED") out.push([["placeholders", k], "is never read by Gatus"]);
        else
            for (const s of Object.keys(v))
                if (s !== "TRIGGERED" && s !== "RESOLVED")
                    out.push([["placeholders", k, s], 'must be "TRIGGERED" or "RESOLVED"']);
    }
    // stricter: custom.go never calls ClientConfig.ValidateAndSetDefaults, so an absent timeout here means none at all.
    if (c.client && c.client.timeout === undefined)
        out.push([["client", "timeout"], "must be set: Gatus applies no 10s default to an alert provider's client"]);
    return out;
}

const customSchema = z
    .strictObject({
        ...customConfigFields,
        "default-alert": defaultAlertSchema.optional(),
        overrides: z.array(z.strictObject({ group: str(), ...customConfigFields })).optional(),
    })
    .superRefine((p, ctx) => {
        for (const [path, m] of customConfigProblems(p)) issue(ctx, m, path);
        // stricter: custom.go GetConfig applies the FIRST override whose group matches; a second one is dead.
        const seen = new Set<string>();
        for (const [i, o] of (p.overrides ?? []).entries()) {
            if (seen.has(o.group)) issue(ctx, `group "${o.group}" is overridden twice`, ["overrides", i, "group"]);
            seen.add(o.group);
            // Merge (custom.go): a non-empty override field wins.
            const merged: CustomConfig = { ...p };
            for (const [k, v] of Object.entries(o)) if (k !== "group" && v) Object.assign(merged, { [k]: v });
            for (const [path, m] of customConfigProblems(merged)) issue(ctx, m, ["overrides", i, ...path]);
        }
    });

// alerting/config.go: one optional key per provider. stricter: this schema covers ntfy and custom only.
const alertingSchema = z.strictObject({ ntfy: ntfySchema.optional(), custom: customSchema.optional() });

// ---------------------------------------------------------------------------------------------------------------------
// the rest of the top level
// ---------------------------------------------------------------------------------------------------------------------

// storage/config.go@v5.36.0 + storage/type.go.
const storageSchema = z
    .strictObject({
        path: str().optional(),
        // stricter: Gatus silently runs in memory for any type it does not know (storage/store/store.go Initialize).
        type: z
            .enum(["memory", "sqlite", "postgres"], { error: 'must be "memory", "sqlite" or "postgres"' })
            .optional(),
        caching: bool().optional(),
        "maximum-number-of-results": int().min(1, "must be at least 1 (0 and below mean 100)").optional(),
        "maximum-number-of-events": int().min(1, "must be at least 1 (0 and below mean 50)").optional(),
    })
    .superRefine((s, ctx) => {
        const type = s.type ?? "memory"; // storage/config.go: "" → memory
        // storage/config.go ErrSQLStorageRequiresPath / ErrMemoryStorageDoesNotSupportPath.
        if (type !== "memory" && !s.path) issue(ctx, `${type} storage needs a path`, ["path"]);
        if (type === "memory" && s.path)
            issue(ctx, "memory storage takes no path (set type: sqlite to persist)", ["path"]);
    });

// config/web/web.go@v5.36.0: 0/absent → 0.0.0.0:8080; a tls block needs both files, loaded at config load.
const webSchema = z
    .strictObject({
        address: str().optional(),
        port: int().min(0, "must be between 0 and 65535").max(65535, "must be between 0 and 65535").optional(),
        "read-buffer-size": int().min(0).optional(),
        tls: z.strictObject({ "certificate-file": str().optional(), "private-key-file": str().optional() }).optional(),
    })
    .superRefine((w, ctx) => {
        if (w.tls && !(w.tls["certificate-file"] && w.tls["private-key-file"]))
            issue(ctx, "tls needs both certificate-file and private-key-file", ["tls"]);
    });

// config/ui/ui.go@v5.36.0.
const uiSchema = z.strictObject({
    title: str().optional(),
    description: str().optional(),
    "dashboard-heading": str().optional(),
    "dashboard-subheading": str().optional(),
    header: str().optional(),
    logo: str().optional(),
    link: str().optional(),
    favicon: z
        .strictObject({ default: str().optional(), size16x16: str().optional(), size32x32: str().optional() })
        .optional(),
    // ui.go ErrButtonValidationFailed: a button needs a name and a link.
    buttons: z
        .array(z.strictObject({ name: str().min(1, "is required"), link: str().min(1, "is required") }))
        .optional(),
    "custom-css": str().optional(),
    "dark-mode": bool().optional(),
    // ui.go ErrInvalidDefaultSortBy / ErrInvalidDefaultFilterBy.
    "default-sort-by": z.enum(["name", "group", "health"], { error: 'must be "name", "group" or "health"' }).optional(),
    "default-filter-by": z
        .enum(["none", "failing", "unstable"], { error: 'must be "none", "failing" or "unstable"' })
        .optional(),
    "login-subtitle": str().optional(),
});

// security/config.go@v5.36.0, security/basic.go, security/oidc.go.
const securitySchema = z.strictObject({
    basic: z
        .strictObject({
            username: str().min(1, "is required"),
            // security/config.go ApplySecurityMiddleware: base64.URLEncoding (URL alphabet, padded) of a bcrypt hash.
            "password-bcrypt-base64": str()
                .min(1, "is required")
                .refine(
                    (v) =>
                        /^[A-Za-z0-9_-]*={0,2}$/.test(v) &&
                        v.length % 4 === 0 &&
                        Buffer.from(v, "base64url").toString().startsWith("$2"),
                    "must be the URL-safe, padded base64 of a bcrypt hash ($2a$/$2b$/$2y$...)",
                ),
        })
        .optional(),
    oidc: z
        .strictObject({
            "issuer-url": str().min(1, "is required"),
            // oidc.go ValidateAndSetDefaults: must end in /authorization-code/callback.
            "redirect-url": str().regex(/\/authorization-code\/callback$/, "must end in /authorization-code/callback"),
            "client-id": str().min(1, "is required"),
            "client-secret": str().min(1, "is required"),
            scopes: z.array(str()).min(1, "needs at least one scope"),
            "allowed-subjects": z.array(str()).optional(),
            "session-ttl": duration().optional(),
        })
        .optional(),
});

// config/endpoint/external_endpoint.go@v5.36.0.
const externalEndpointSchema = z.strictObject({
    enabled: bool().optional(),
    name: str().min(1, "is required").regex(NO_QUOTE_OR_BACKSLASH, 'must not contain " or \\'),
    group: str().regex(NO_QUOTE_OR_BACKSLASH, 'must not contain " or \\').optional(),
    token: str().min(1, "is required"),
    alerts: z.array(alertSchema).optional(),
    "maintenance-windows": z.array(maintenanceSchema).optional(),
    heartbeat: z
        .strictObject({
            interval: duration((ns) => (ns !== 0n && ns < 10n * NS.second ? "must be 0 or at least 10s" : undefined)),
        })
        .optional(),
});

// config/suite/suite.go@v5.36.0.
const suiteSchema = z
    .strictObject({
        name: str().min(1, "is required"),
        group: str().optional(),
        enabled: bool().optional(),
        interval: duration((ns) => (ns <= 0n ? "must be more than 0" : undefined)).optional(),
        timeout: duration((ns) => (ns < 0n ? "must not be negative" : undefined)).optional(),
        context: z.record(z.string(), z.unknown()).optional(),
        endpoints: z.array(endpointSchema(true)).min(1, "needs at least one endpoint"),
    })
    .superRefine((s, ctx) => {
        // suite.go ErrSuiteWithDuplicateEndpointNames (exact names).
        const seen = new Set<string>();
        for (const [i, e] of s.endpoints.entries()) {
            if (seen.has(e.name)) issue(ctx, `"${e.name}" appears twice in this suite`, ["endpoints", i, "name"]);
            seen.add(e.name);
        }
    });

// config/tunneling/sshtunnel/sshtunnel.go@v5.36.0 ValidateAndSetDefaults.
const tunnelSchema = z
    .strictObject({
        type: z.literal("SSH", { error: 'must be "SSH"' }),
        host: str().min(1, "is required"),
        port: int().min(0).max(65535).optional(),
        username: str().min(1, "is required"),
        "private-key": str().optional(),
        password: str().optional(),
    })
    .superRefine((t, ctx) => {
        if (!t["private-key"] && !t.password) issue(ctx, "needs a private-key or a password");
    });

const gatusConfigObject = z.strictObject({
    // config/config.go@v5.36.0 Config: every top-level key Gatus reads.
    debug: bool().optional(),
    metrics: bool().optional(),
    "skip-invalid-config-update": bool().optional(),
    "disable-monitoring-lock": bool().optional(),
    concurrency: int().min(0).optional(),
    security: securitySchema.optional(),
    alerting: alertingSchema.optional(),
    endpoints: z.array(endpointSchema(false)).optional(),
    "external-endpoints": z.array(externalEndpointSchema).optional(),
    suites: z.array(suiteSchema).optional(),
    storage: storageSchema.optional(),
    web: webSchema.optional(),
    ui: uiSchema.optional(),
    maintenance: maintenanceSchema.optional(),
    // config/remote/remote.go@v5.36.0 (alpha).
    remote: z
        .strictObject({
            instances: z
                .array(z.strictObject({ "endpoint-prefix": str(), url: str().min(1, "is required") }))
                .optional(),
            client: clientSchema.optional(),
        })
        .optional(),
    // config/connectivity/connectivity.go@v5.36.0.
    connectivity: z
        .strictObject({
            checker: z
                .strictObject({
                    target: str().regex(/:53$/, "must end in :53"),
                    interval: duration((ns) =>
                        ns !== 0n && ns < 5n * NS.second ? "must be 5s or more" : undefined,
                    ).optional(),
                })
                .optional(),
        })
        .optional(),
    // config/tunneling/tunneling.go@v5.36.0: an inline map of tunnel name → tunnel.
    tunneling: z.record(z.string(), tunnelSchema).optional(),
    // config/announcement/announcement.go@v5.36.0: message required, timestamp required, type from a list.
    announcements: z
        .array(
            z.strictObject({
                timestamp: str().refine((v) => !Number.isNaN(Date.parse(v)), "must be an RFC 3339 timestamp"),
                type: z
                    .enum(["outage", "warning", "information", "operational", "none"], {
                        error: 'must be "outage", "warning", "information", "operational" or "none"',
                    })
                    .optional(),
                message: str().min(1, "is required"),
                archived: bool().optional(),
            }),
        )
        .optional(),
});

export type GatusConfig = z.input<typeof gatusConfigObject>;

const NTFY_OVERRIDE_KEYS = Object.keys(ntfyConfigFields);
const CUSTOM_OVERRIDE_KEYS = Object.keys(customConfigFields);

/** The whole file: the shape above plus the rules that span several parts of it. */
export const gatusConfigSchema = gatusConfigObject.superRefine((c, ctx) => {
    // config/config.go ErrNoEndpointOrSuiteInConfig.
    if ((c.endpoints ?? []).length === 0 && (c.suites ?? []).length === 0)
        issue(ctx, "needs at least one endpoint or suite", ["endpoints"]);
    // config/config.go ValidateEndpointsConfig + ValidateUniqueKeys: one key (gatusKey) per endpoint, external
    // endpoint, suite, and suite endpoint (whose group is the suite's).
    const keys = new Map<string, string>();
    const claim = (key: string, what: string, path: PropertyKey[]) => {
        const prior = keys.get(key);
        if (prior) issue(ctx, `key "${key}" is already taken by ${prior}: group + name must be unique`, path);
        else keys.set(key, what);
    };
    for (const [i, e] of (c.endpoints ?? []).entries())
        claim(gatusKey(e.group, e.name), `endpoints[${i}]`, ["endpoints", i, "name"]);
    for (const [i, e] of (c["external-endpoints"] ?? []).entries())
        claim(gatusKey(e.group, e.name), `external-endpoints[${i}]`, ["external-endpoints", i, "name"]);
    const suiteNames = new Set<string>();
    for (const [i, s] of (c.suites ?? []).entries()) {
        // config/config.go ValidateSuitesConfig: duplicate suite name.
        if (suiteNames.has(s.name)) issue(ctx, `suite "${s.name}" appears twice`, ["suites", i, "name"]);
        suiteNames.add(s.name);
        claim(gatusKey(s.group, s.name), `suites[${i}]`, ["suites", i, "name"]);
        for (const [j, e] of s.endpoints.entries())
            claim(gatusKey(s.group, e.name), `suites[${i}].endpoints[${j}]`, ["suites", i, "endpoints", j, "name"]);
    }
    // stricter: Gatus keeps an alert whose type has no (valid) provider and only logs, when it triggers, that it
    // "wasn't configured properly" (watchdog/alerting.go@v5.36.0); config/config.go ValidateAlertingConfig drops an
    // invalid provider with a warning instead of failing.
    const alertLists: [PropertyKey[], z.infer<typeof alertSchema>[] | undefined][] = [
        ...(c.endpoints ?? []).map((e, i): [PropertyKey[], typeof e.alerts] => [["endpoints", i, "alerts"], e.alerts]),
        ...(c["external-endpoints"] ?? []).map((e, i): [PropertyKey[], typeof e.alerts] => [
            ["external-endpoints", i, "alerts"],
            e.alerts,
        ]),
        ...(c.suites ?? []).flatMap((s, i) =>
            s.endpoints.map((e, j): [PropertyKey[], typeof e.alerts] => [
                ["suites", i, "endpoints", j, "alerts"],
                e.alerts,
            ]),
        ),
    ];
    for (const [path, alerts] of alertLists) {
        for (const [k, a] of (alerts ?? []).entries()) {
            const at = [...path, k];
            if (!(GATUS_ALERT_TYPES as readonly string[]).includes(a.type))
                issue(ctx, `"${a.type}" is not an alert type Gatus knows`, [...at, "type"]);
            else if (a.type !== "ntfy" && a.type !== "custom")
                issue(ctx, `"${a.type}" alerts are outside this schema (ntfy, custom)`, [...at, "type"]);
            else if (!c.alerting?.[a.type])
                issue(ctx, `there is no alerting.${a.type} provider for this alert`, [...at, "type"]);
            // ntfy.go / custom.go GetConfig: provider-override is yaml-decoded into the provider's Config (unknown keys
            // ignored), merged, then validated; Gatus only warns at load and fails each Send. stricter: known keys.
            const override = a["provider-override"];
            if (override && (a.type === "ntfy" || a.type === "custom")) {
                const allowed = a.type === "ntfy" ? NTFY_OVERRIDE_KEYS : CUSTOM_OVERRIDE_KEYS;
                for (const key of Object.keys(override))
                    if (!allowed.includes(key))
                        issue(ctx, `is not a ${a.type} setting (${allowed.join(", ")})`, [
                            ...at,
                            "provider-override",
                            key,
                        ]);
                const base = c.alerting?.ntfy;
                if (a.type === "ntfy" && base) {
                    const parsed = z.object(ntfyConfigFields).safeParse(override); // unknown keys: flagged above
                    if (!parsed.success) issue(ctx, "has a value of the wrong type", [...at, "provider-override"]);
                    else
                        for (const [key, m] of ntfyConfigProblems({ ...base, ...parsed.data }, true))
                            issue(ctx, m, [...at, "provider-override", key]);
                }
            }
        }
    }
    // config/config.go resolveTunnelForClientConfig: a client.tunnel must name a tunnel under tunneling.
    const clients: [PropertyKey[], { tunnel?: string } | undefined][] = [
        ...(c.endpoints ?? []).map((e, i): [PropertyKey[], typeof e.client] => [["endpoints", i, "client"], e.client]),
        ...(c.suites ?? []).flatMap((s, i) =>
            s.endpoints.map((e, j): [PropertyKey[], typeof e.client] => [
                ["suites", i, "endpoints", j, "client"],
                e.client,
            ]),
        ),
    ];
    for (const [path, client] of clients) {
        const t = client?.tunnel?.trim();
        if (t && !c.tunneling?.[t]) issue(ctx, `tunnel "${t}" is not defined under tunneling`, [...path, "tunnel"]);
    }
    // stricter: config/config.go ValidateAndSetConcurrencyDefaults turns concurrency ≤ 0 into 3 (the README's "0
    // means unlimited" only holds for the deprecated disable-monitoring-lock: true).
    if (c.concurrency === 0 && !c["disable-monitoring-lock"])
        issue(ctx, "0 does not mean unlimited: Gatus turns it into 3", ["concurrency"]);
    // stricter: deprecated keys (config/config.go: "will be removed in v6.0.0").
    if (c.debug !== undefined) issue(ctx, "is deprecated: set GATUS_LOG_LEVEL=DEBUG instead", ["debug"]);
    if (c["disable-monitoring-lock"] !== undefined)
        issue(ctx, "is deprecated: set concurrency instead", ["disable-monitoring-lock"]);
});

// ---------------------------------------------------------------------------------------------------------------------
// Problems as text
// ---------------------------------------------------------------------------------------------------------------------

export interface GatusCheckOptions {
    /**
     * The environment Gatus will run with, for the "$NAME" / "${NAME}" references the file makes on purpose (e.g.
     * { NTFY_TOKEN: "tk_..." }). Any other reference is a problem. Strings are checked after expansion, as Gatus does.
     */
    env?: Readonly<Record<string, string>>;
}

function formatPath(path: readonly PropertyKey[]): string {
    let out = "";
    for (const p of path) {
        if (typeof p === "number") out += `[${p}]`;
        else out += out === "" ? String(p) : `.${String(p)}`;
    }
    return out === "" ? "(top level)" : out;
}

/**
 * The document as Gatus sees it after its "$" handling (config/config.go@v5.36.0), applied to each string (map keys
 * included) rather than to the raw text; problems for every reference not in env and for eaten syntax. Same result as
 * Gatus's whole-text pass for what the yaml package writes (it never escapes "$" as \x24 or splits it across lines).
 */
function expandEnv(value: unknown, path: PropertyKey[], env: Readonly<Record<string, string>>, out: string[]): unknown {
    const expand = (s: string, at: PropertyKey[], what: string): string => {
        const r = gatusExpandEnv(s, env);
        for (const ref of r.references) {
            if (ref.name !== undefined && Object.prototype.hasOwnProperty.call(env, ref.name)) continue;
            const effect =
                ref.name === undefined
                    ? "which Gatus's os.ExpandEnv deletes"
                    : `which Gatus replaces with the environment variable ${ref.name} (empty when unset)`;
            out.push(`${formatPath(at)}: ${what} holds "${ref.text}", ${effect}; write $$ for a literal $`);
        }
        return r.text;
    };
    if (typeof value === "string") return expand(value, path, "the value");
    if (Array.isArray(value)) return value.map((v, i) => expandEnv(v, [...path, i], env, out));
    if (value !== null && typeof value === "object") {
        const result: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value))
            result[expand(k, [...path, k], "the key")] = expandEnv(v, [...path, k], env, out);
        return result;
    }
    return value;
}

/**
 * Readable problems with a Gatus config (the parsed YAML document our renderer writes); empty when it is valid.
 * Checks, in order: "$" references Gatus would expand (see GatusCheckOptions.env), then the expanded document
 * against the schema (shape, then the rules spanning several parts).
 * Not checked: that files named in tls blocks exist and hold a key pair (Gatus loads them at start-up).
 */
export function gatusProblems(config: unknown, options: GatusCheckOptions = {}): string[] {
    const problems: string[] = [];
    const expanded = expandEnv(config, [], options.env ?? {}, problems);
    const r = gatusConfigSchema.safeParse(expanded);
    if (!r.success) for (const i of r.error.issues) problems.push(`${formatPath(i.path)}: ${i.message}`);
    return problems;
}
