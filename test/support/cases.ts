// Reading and running the one-case fixture files of test/cases/: their format and how a stack is
// judged are described where they run, in test/cases.test.ts.
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { rawConfigOf } from "../../stacks/stackFile";
import { ConfigError, Problem, validate } from "../../stacks/validate";
import { SECRETS_KEY, plaintextSecretProblems } from "../../stacks/config";
import { plannedRecords } from "../../stacks/firstContact";
import { Model } from "../../stacks/model";
import { renderAll } from "../../render/all";

export const CASES_DIR = path.resolve(__dirname, "..", "cases");
export const SEPARATOR = "----------";
/** What "now" is for every case (dnsToken.expiresOn must lie after it). */
export const NOW = new Date("2026-01-01T00:00:00Z");
/** The files a render case may check: renderAll's (edge.* on a Mac runtime only) and the records. */
export const RENDERED_FILES = [
    "Caddyfile",
    "haproxy.cfg",
    "tunnel-ingress.json",
    "caddy.Dockerfile",
    "edge.haproxy.cfg",
    "edge.plist",
    "dns-records",
] as const;
const HEADER_RE = /^=== (.*)$/;

export type Kind = "render" | "validate";

export interface CaseFile {
    /** Everything before the separator line, byte for byte (the stack). */
    inputText: string;
    /** The stack's `config:` map. */
    config: Record<string, unknown>;
    /** Everything after the separator line. */
    expectedText: string;
    /** Render cases: file name → expected content, in the order the case lists them. */
    files: [name: string, content: string][];
}

/** Parses a case file; throws an Error saying what is wrong with a malformed one. */
export function parseCase(text: string, kind: Kind): CaseFile {
    if (text.includes("\r")) throw new Error("has CR line endings: case files use LF only");
    const lines = text.split("\n");
    const at = lines.indexOf(SEPARATOR);
    if (at < 0) throw new Error(`no separator line: the stack, then a line of exactly "${SEPARATOR}", then the result`);
    const inputText = lines.slice(0, at).join("\n") + "\n";
    const expectedText = lines.slice(at + 1).join("\n");
    let doc: unknown;
    try {
        doc = YAML.parse(inputText);
    } catch (e) {
        throw new Error(`the stack above the separator is not YAML: ${(e as Error).message}`);
    }
    const config = doc ?? {};
    if (typeof config !== "object" || Array.isArray(config))
        throw new Error(
            "the stack above the separator must be a map of config keys (what a stack file has under config:)",
        );
    for (const k of Object.keys(config))
        if (!/^[a-z][a-z0-9-]*:[A-Za-z]/.test(k))
            throw new Error(
                `"${k}" is not a config key such as homelab:domain (write the keys a stack file has under config:, not config: itself)`,
            );
    const files = kind === "render" ? parseSections(expectedText) : [];
    if (kind === "validate" && expectedText.trim() === "")
        throw new Error(
            "nothing after the separator: list the expected problems, one `<key>: <message>` a line, or ok",
        );
    return { inputText, config: config as Record<string, unknown>, expectedText, files };
}

/** `=== <name>` sections; each one's content runs to the next header (or the end). */
function parseSections(text: string): [string, string][] {
    const lines = text.split("\n");
    if (!HEADER_RE.test(lines[0] ?? ""))
        throw new Error(`the result must start with a "=== <file>" line (one of ${RENDERED_FILES.join(", ")})`);
    const out: [string, string][] = [];
    let current: { name: string; lines: string[] } | undefined;
    // Every line but the result's last ends in a newline (the last is "" when the file ends in one).
    const close = (last = false) => current && out.push([current.name, current.lines.join("\n") + (last ? "" : "\n")]);
    for (const line of lines) {
        const m = HEADER_RE.exec(line);
        if (!m) {
            current?.lines.push(line);
            continue;
        }
        close();
        const name = (m[1] as string).trim();
        if (!(RENDERED_FILES as readonly string[]).includes(name))
            throw new Error(`"=== ${name}" names no rendered file (known: ${RENDERED_FILES.join(", ")})`);
        if (out.some(([n]) => n === name)) throw new Error(`"=== ${name}" is listed twice`);
        current = { name, lines: [] };
    }
    close(true);
    return out;
}

/** A value written as a stack file writes a secret: `{ secure: v1:... }`. */
function isSecure(v: unknown): boolean {
    return typeof v === "object" && v !== null && typeof (v as { secure?: unknown }).secure === "string";
}

/** The stack as `pulumi up` would take it: the model, or every problem (stacks/config.ts loadConfig, offline). */
export function loadCase(config: Record<string, unknown>): { model?: Model; problems: Problem[] } {
    const secrets = config[SECRETS_KEY];
    if (secrets !== undefined && (typeof secrets !== "object" || secrets === null || Array.isArray(secrets)))
        throw new Error(`${SECRETS_KEY} must be a map of name → { secure: ... }`);
    const secretNames = Object.keys((secrets ?? {}) as Record<string, unknown>);
    const encrypted = (k: string) =>
        k === SECRETS_KEY ? Object.values(secrets as Record<string, unknown>).every(isSecure) : isSecure(config[k]);
    const present = (k: string) => config[k] !== undefined;
    const problems: Problem[] = [];
    let model: Model | undefined;
    try {
        model = validate(rawConfigOf(config), secretNames, { now: NOW });
    } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        problems.push(...e.problems);
    }
    problems.push(...plaintextSecretProblems(present, encrypted));
    return problems.length > 0 ? { problems } : { model: model as Model, problems };
}

/** The records the stack owns, one a line: type, name, and the resource that creates it. */
export function renderRecords(model: Model): string {
    return plannedRecords(model)
        .map((r) => `${r.type.padEnd(5)} ${r.name}  (${r.component}-${r.resourceName})`)
        .join("\n")
        .concat("\n");
}

function rendered(model: Model): Record<string, string> {
    return { ...renderAll(model), "dns-records": renderRecords(model) };
}

/** Every file of a render case, as rendered now, in the case's order. */
export function runRender(c: CaseFile): [string, string][] {
    const { model, problems } = loadCase(c.config);
    if (!model)
        throw new Error(
            `the stack is refused, so nothing renders (a refused stack belongs in test/cases/validate):\n${problems.map((p) => `  ${p.key}: ${p.message}`).join("\n")}`,
        );
    const files = rendered(model);
    return c.files.map(([name]) => {
        const content = files[name];
        if (content === undefined)
            throw new Error(`this stack renders no ${name} (edge.haproxy.cfg and edge.plist: Mac runtimes only)`);
        if (!content.endsWith("\n") || content.split("\n").some((l) => HEADER_RE.test(l)))
            throw new Error(`${name} cannot be held in a case file (it must end in a newline and have no "=== " line)`);
        return [name, content];
    });
}

/** The validator's verdict, one line per problem, or `ok`. */
export function runValidate(c: CaseFile): string {
    const { problems } = loadCase(c.config);
    return problems.length === 0 ? "ok\n" : problems.map((p) => `${p.key}: ${p.message}\n`).join("");
}

/** The case files of one kind, sorted. */
export function caseFiles(kind: Kind): string[] {
    const dir = path.join(CASES_DIR, kind);
    return fs
        .readdirSync(dir)
        .filter((f) => f.endsWith(".txt"))
        .sort();
}
