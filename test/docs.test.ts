// README's configuration reference, Pulumi.yaml's declarations and the validator's schema
// describe the same keys.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { KNOWN_KEYS, schemas, serviceSchema } from "../stacks/validate";

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
    const out: string[] = ["cloudflare:apiToken", "homelab:services", "homelab:secrets"];
    for (const [k, s] of Object.entries(schemas)) {
        out.push(`homelab:${k}`);
        walk(`homelab:${k}`, s, out);
    }
    walk("homelab:services.<name>", serviceSchema, out);
    return out.sort();
}

function readmeKeys(): string[] {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const section = readme.split("## Configuration reference")[1]?.split("\n## ")[0] ?? "";
    return [...section.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1] as string).sort();
}

describe("configuration reference", () => {
    it("README documents exactly the keys the validator accepts", () => {
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
