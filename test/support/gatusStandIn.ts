// A stand-in for Gatus in the end-to-end tests: Gatus cannot be built or run here (the Go module
// proxy refuses it), so this runs the checks of a rendered Gatus config the way Gatus does for the
// subset the renderer writes (render/gatus.ts): an HTTPS GET per endpoint, the names resolved by the
// status container's own /etc/hosts, the client certificate of `client.tls`, and the conditions
// [CONNECTED], [STATUS], [CERTIFICATE_EXPIRATION] and [BODY] compared as Gatus compares them
// (durations in milliseconds, integers as integers). A condition it does not know is an error,
// never a pass. What it checks is the config and the path (edge, Caddy, service), not Gatus.
import * as fs from "fs";
import * as https from "https";
import * as path from "path";
import { parse } from "yaml";
import { parseGoDuration } from "./gatus-schema";

export interface StandInOptions {
    /** The status container's /etc/hosts (rendered): name → address. */
    hostsFile: string;
    /** Where the config's `/config/...` files are on this machine. */
    configDir: string;
    /** The address the checks come from (the status container's). */
    localAddress: string;
    /** The port that stands in for :443 at every address (the lab's monitor entry). */
    port: number;
    /** The CA the served certificates chain to (production: the public roots). */
    ca: string;
    /** Gatus expands ${...} from its environment before parsing. */
    env?: Record<string, string>;
    timeoutMs?: number;
}

export interface CheckResult {
    name: string;
    group: string;
    success: boolean;
    /** Each condition and whether it held. */
    conditions: [string, boolean][];
    error?: string;
}

interface Endpoint {
    name: string;
    group?: string;
    url: string;
    client?: { tls?: { "certificate-file"?: string; "private-key-file"?: string } };
    conditions: string[];
}

interface Observed {
    connected: boolean;
    status: number;
    body: string;
    /** Milliseconds until the served certificate ends. */
    certificateExpiration: number;
}

function hostsMap(text: string): Map<string, string> {
    const out = new Map<string, string>();
    for (const line of text.split("\n")) {
        const fields = line.replace(/#.*/, "").trim().split(/\s+/);
        const [addr, ...names] = fields;
        if (!addr) continue;
        for (const n of names) if (!out.has(n)) out.set(n, addr);
    }
    return out;
}

function localFile(configDir: string, p: string): string {
    if (!p.startsWith("/config/")) throw new Error(`stand-in: ${p} is not under /config`);
    return path.join(configDir, p.slice("/config/".length));
}

function observe(e: Endpoint, opts: StandInOptions): Promise<Observed> {
    const url = new URL(e.url);
    const addr = hostsMap(opts.hostsFile).get(url.hostname);
    const failed: Observed = { connected: false, status: 0, body: "", certificateExpiration: 0 };
    if (!addr) return Promise.resolve(failed);
    const tlsFiles = e.client?.tls;
    return new Promise((resolve) => {
        const req = https.request(
            {
                host: addr,
                port: opts.port,
                path: `${url.pathname}${url.search}`,
                method: "GET",
                servername: url.hostname,
                headers: { Host: url.host, "User-Agent": "Gatus/1.0 (homelab stand-in)" },
                localAddress: opts.localAddress,
                ca: fs.readFileSync(opts.ca),
                ...(tlsFiles?.["certificate-file"] && tlsFiles["private-key-file"]
                    ? {
                          cert: fs.readFileSync(localFile(opts.configDir, tlsFiles["certificate-file"])),
                          key: fs.readFileSync(localFile(opts.configDir, tlsFiles["private-key-file"])),
                      }
                    : {}),
                timeout: opts.timeoutMs ?? 5000,
                agent: false,
            },
            (res) => {
                let body = "";
                res.setEncoding("utf8");
                res.on("data", (d) => (body += d));
                res.on("end", () => {
                    const peer = (res.socket as import("tls").TLSSocket).getPeerCertificate?.();
                    resolve({
                        connected: true,
                        status: res.statusCode ?? 0,
                        body,
                        certificateExpiration: peer?.valid_to ? Date.parse(peer.valid_to) - Date.now() : 0,
                    });
                });
            },
        );
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", () => resolve(failed));
        req.end();
    });
}

/** A value of a condition's side, as Gatus compares with < and >: a duration in ms, else an integer. */
function numeric(v: string): number {
    const d = parseGoDuration(v);
    if (d.ok && d.ns !== 0n) return Number(d.ns / 1_000_000n);
    const n = Number.parseInt(v, 10);
    if (/^-?\d+$/.test(v) && Number.isFinite(n)) return n;
    throw new Error(`stand-in: "${v}" is neither a duration nor an integer`);
}

function evaluate(condition: string, o: Observed): boolean {
    const m = /^(\[[A-Z_]+\]) (==|!=|<=|>=|<|>) (.+)$/.exec(condition);
    if (!m) throw new Error(`stand-in: cannot read the condition "${condition}"`);
    const [, placeholder, op, right] = m as unknown as [string, string, string, string];
    const left: Record<string, string> = {
        "[CONNECTED]": String(o.connected),
        "[STATUS]": String(o.status),
        "[BODY]": o.body.trim(),
        "[CERTIFICATE_EXPIRATION]": `${Math.max(0, Math.floor(o.certificateExpiration))}ms`,
    };
    const l = left[placeholder];
    if (l === undefined) throw new Error(`stand-in: ${placeholder} is not a placeholder it knows`);
    if (op === "==") return l === right;
    if (op === "!=") return l !== right;
    const a = placeholder === "[CERTIFICATE_EXPIRATION]" ? Number(l.slice(0, -2)) : numeric(l);
    const b = numeric(right);
    return op === "<" ? a < b : op === ">" ? a > b : op === "<=" ? a <= b : a >= b;
}

/** Runs every endpoint of a rendered Gatus config once; the results in the config's order. */
export async function runChecks(configText: string, opts: StandInOptions): Promise<CheckResult[]> {
    const expanded = configText.replace(/\$\{([A-Z0-9_]+)\}/g, (_, n: string) => opts.env?.[n] ?? "");
    const cfg = parse(expanded) as { endpoints: Endpoint[] };
    const out: CheckResult[] = [];
    for (const e of cfg.endpoints) {
        try {
            const o = await observe(e, opts);
            const conditions = e.conditions.map((c): [string, boolean] => [c, evaluate(c, o)]);
            out.push({ name: e.name, group: e.group ?? "", success: conditions.every(([, ok]) => ok), conditions });
        } catch (err) {
            out.push({ name: e.name, group: e.group ?? "", success: false, conditions: [], error: String(err) });
        }
    }
    return out;
}
