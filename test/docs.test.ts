// README's configuration reference, Pulumi.yaml's declarations and the validator's schema
// describe the same keys.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { KNOWN_KEYS, schemas, serviceSchema } from "../stacks/validate";
import { dashboardSchema, hostSchema, monitoringSchema } from "../stacks/schema";

const ROOT = path.resolve(__dirname, "..");

function unwrap(s: any): any {
    while (s?.def && ["optional", "default", "pipe"].includes(s.def.type)) s = s.def.innerType ?? s.def.in;
    return s;
}
function walk(prefix: string, s: any, out: string[]): void {
    s = unwrap(s);
    if (s.def.type === "object") {
        for (const [k, v] of Object.entries(s.shape)) {
            out.push(`${prefix}.${k}`);
            walk(`${prefix}.${k}`, v, out);
        }
    } else if (s.def.type === "array") {
        const e = unwrap(s.element);
        if (e.def.type === "object") walk(`${prefix}[]`, e, out);
    }
}
function schemaKeys(): string[] {
    const out: string[] = ["cloudflare:apiToken", "homelab:hosts", "homelab:services", "homelab:secrets"];
    for (const [k, s] of Object.entries(schemas)) {
        out.push(`homelab:${k}`);
        walk(`homelab:${k}`, s, out);
    }
    walk("homelab:hosts.<name>", hostSchema, out);
    walk("homelab:services.<name>", serviceSchema, out);
    out.push("homelab:monitoring", "homelab:dashboard");
    walk("homelab:monitoring", monitoringSchema, out);
    walk("homelab:dashboard", dashboardSchema, out);
    return out.sort();
}

/** The configuration reference (docs/configuration.md; README links to it). */
const REFERENCE = path.join(ROOT, "docs/configuration.md");

function readmeKeys(): string[] {
    const readme = fs.readFileSync(REFERENCE, "utf8");
    const section = readme.split("## Configuration reference")[1]?.split("\n## ")[0] ?? "";
    return [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1] as string).sort();
}

/** The schema's default for each key that has one (walking the same way as schemaKeys). */
function schemaDefaults(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const visit = (prefix: string, s: any): void => {
        if (s?.def?.type === "default")
            out[prefix] = typeof s.def.defaultValue === "function" ? s.def.defaultValue() : s.def.defaultValue;
        const inner = unwrap(s);
        if (inner.def.type === "object") for (const [k, v] of Object.entries(inner.shape)) visit(`${prefix}.${k}`, v);
        else if (inner.def.type === "array" && unwrap(inner.element).def.type === "object")
            for (const [k, v] of Object.entries(unwrap(inner.element).shape)) visit(`${prefix}[].${k}`, v);
    };
    for (const [k, s] of Object.entries(schemas)) visit(`homelab:${k}`, s);
    for (const [k, s] of Object.entries(serviceSchema.shape)) visit(`homelab:services.<name>.${k}`, s);
    visit("homelab:monitoring", monitoringSchema);
    visit("homelab:dashboard", dashboardSchema);
    return out;
}

/** How README writes a default: `5m`, `[a, b]`, `{}`, `false`. Objects with content are described in words. */
function formatDefault(v: unknown): string | undefined {
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return `\`${v}\``;
    if (Array.isArray(v)) return `\`[${v.join(", ")}]\``;
    if (v && typeof v === "object") {
        const entries = Object.entries(v as Record<string, unknown>).filter(
            ([, x]) => !(Array.isArray(x) && x.length === 0),
        );
        return entries.length === 0 ? "`{}`" : `\`{${entries.map(([k, x]) => `${k}: ${x}`).join(", ")}}\``;
    }
    return undefined;
}

function readmeDefaults(): Record<string, string> {
    const readme = fs.readFileSync(REFERENCE, "utf8");
    const section = readme.split("## Configuration reference")[1]?.split("\n## ")[0] ?? "";
    return Object.fromEntries(
        [...section.matchAll(/^\| `([^`]+)` \|[^|]*\| ([^|]+?) \|/gm)].map((m) => [m[1] as string, m[2] as string]),
    );
}

describe("configuration reference", () => {
    it("docs/configuration.md gives every schema default as the validator applies it", () => {
        const readme = readmeDefaults();
        const wrong: string[] = [];
        for (const [key, value] of Object.entries(schemaDefaults())) {
            const want = formatDefault(value);
            if (want === undefined) continue;
            const got = readme[key] ?? "(missing)";
            if (!got.startsWith(want)) wrong.push(`${key}: the reference says ${got}, the schema ${want}`);
        }
        assert.deepEqual(wrong, []);
    });

    it("docs/configuration.md documents exactly the keys the validator accepts", () => {
        assert.deepEqual(readmeKeys(), schemaKeys());
    });

    it("Pulumi.yaml declares every top-level homelab key, typed where Pulumi can type it", () => {
        const text = fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8");
        const project = YAML.parse(text) as { config: Record<string, { type: string; description: string }> };
        for (const [k, v] of Object.entries(project.config)) {
            assert.ok(["string", "integer", "boolean", "array"].includes(v.type), `${k} has a Pulumi type`);
            assert.ok(v.description.length > 10, `${k} has a description`);
        }
        const objectKeys = [...text.matchAll(/^#\s{3}(\w+): /gm)].map((m) => m[1] as string);
        const declared = [...Object.keys(project.config), ...objectKeys].sort();
        assert.deepEqual(declared, [...KNOWN_KEYS].sort());
    });
});

describe("the supported Pulumi CLI", () => {
    it("Pulumi.yaml requires the CLI version README and docs/operations.md name", () => {
        const project = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as {
            requiredPulumiVersion?: string;
        };
        const m = /^>=(\d+\.\d+\.\d+)$/.exec(project.requiredPulumiVersion ?? "");
        assert.ok(m, `requiredPulumiVersion: ${project.requiredPulumiVersion}`);
        const version = m[1] as string;
        assert.ok(
            fs.readFileSync(path.join(ROOT, "README.md"), "utf8").includes(`Pulumi CLI** ${version} or newer`),
            "README's install step",
        );
        assert.ok(
            fs.readFileSync(path.join(ROOT, "docs/operations.md"), "utf8").includes(`Pulumi CLI ${version} or newer`),
            "docs/operations.md",
        );
    });
});
