// npm run render -- <stack.yaml> <outdir>
// Writes the Caddyfile, haproxy.cfg, caddy.Dockerfile and tunnel-ingress.json a stack would use,
// and on a Mac runtime the native edge's edge.haproxy.cfg and launchd edge.plist; each further host's
// files (homelab:hosts) in hosts/<name>/. Offline: no
// credentials, no Pulumi CLI. Config problems are all listed, and nothing is written.
import * as fs from "fs";
import * as path from "path";
import { modelFromStackFile } from "../stacks/stackFile";
import { ConfigError } from "../stacks/validate";
import { renderAll } from "../render/all";

/** `Pulumi.<stack>.yaml` → `<stack>`; any other file → its name without the extension. */
export function stackNameOf(file: string): string {
    const base = path.basename(file);
    return /^Pulumi\.(.+)\.ya?ml$/.exec(base)?.[1] ?? base.replace(/\.ya?ml$/, "");
}

export function main(argv: string[]): number {
    const [stackFile, outDir] = argv;
    if (!stackFile || !outDir) {
        process.stderr.write("usage: npm run render -- <stack.yaml> <outdir>\n");
        return 2;
    }
    let files: Record<string, string>;
    try {
        files = renderAll(modelFromStackFile(stackFile), stackNameOf(stackFile));
    } catch (e) {
        if (e instanceof ConfigError) {
            process.stderr.write(`${stackFile}: ${e.message}\n`);
            return 1;
        }
        throw e;
    }
    fs.mkdirSync(outDir, { recursive: true });
    for (const [name, content] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(outDir, name)), { recursive: true });
        fs.writeFileSync(path.join(outDir, name), content);
        process.stdout.write(`wrote ${path.join(outDir, name)}\n`);
    }
    return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
