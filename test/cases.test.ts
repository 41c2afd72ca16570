// One-case fixture files (test/cases/), in the style of Caddy's adapter tests
// (caddyconfig/httpcaddyfile/testdata/*.caddyfiletest): a minimal stack, a `----------` line, and
// what it must give. Beside the whole-stack goldens (test/golden/), each case shows one feature.
//
//   test/cases/render/*.txt    the stack, `----------`, then one or more `=== <file>` sections:
//                              a file renderAll writes, or `dns-records` (the records the stack
//                              owns, plannedRecords), each exactly as rendered.
//   test/cases/validate/*.txt  the stack, `----------`, then every problem the validator reports,
//                              one `<key>: <message>` a line, or `ok` when the stack is accepted.
//
// The stack is the `config:` map of a stack file (keys such as `homelab:domain`), read as YAML the
// way `npm run render` reads a stack file, and judged as `pulumi up` judges it (stacks/config.ts
// loadConfig): `homelab:secrets` gives the secret names (secretEnv is checked against them) and
// must be written `secure:`, as must `cloudflare:apiToken` if given (a case needs neither). "Now"
// is pinned, so a date in a case means the same thing every day. UPDATE_GOLDEN=1 rewrites the part
// after the separator (the files a render case lists, in its order).
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import {
    CaseFile,
    caseFiles,
    CASES_DIR,
    Kind,
    loadCase,
    parseCase,
    runRender,
    runValidate,
    SEPARATOR,
} from "./support/cases";
import { Problem } from "../stacks/validate";

/** Rewrites the part after the separator; returns it as the file now reads (so a result the format cannot hold fails). */
function update(file: string, c: CaseFile, kind: Kind, actual: string): string {
    fs.writeFileSync(file, `${c.inputText}${SEPARATOR}\n${actual}`);
    return parseCase(fs.readFileSync(file, "utf8"), kind).expectedText;
}

for (const kind of ["render", "validate"] as const) {
    describe(`test/cases/${kind}`, () => {
        it("has cases, and nothing but .txt files", () => {
            const all = fs.readdirSync(path.join(CASES_DIR, kind));
            assert.ok(all.length > 0, "no case files");
            assert.deepEqual(
                all.filter((f) => !f.endsWith(".txt")),
                [],
            );
        });
        for (const file of caseFiles(kind)) {
            it(file, () => {
                const full = path.join(CASES_DIR, kind, file);
                const c = parseCase(fs.readFileSync(full, "utf8"), kind);
                const actual =
                    kind === "render"
                        ? runRender(c)
                              .map(([name, content]) => `=== ${name}\n${content}`)
                              .join("")
                        : runValidate(c);
                const expected = process.env["UPDATE_GOLDEN"] ? update(full, c, kind, actual) : c.expectedText;
                assert.equal(actual, expected, `${full} (UPDATE_GOLDEN=1 to accept a change)`);
            });
        }
    });
}

describe("test/cases: the case file format", () => {
    const STACK = "homelab:domain: example.dev\n";

    it("splits at the first separator line and keeps the stack byte for byte", () => {
        const c = parseCase(`# a comment\n${STACK}${SEPARATOR}\n=== Caddyfile\na\n=== dns-records\nb\nc\n`, "render");
        assert.equal(c.inputText, `# a comment\n${STACK}`);
        assert.deepEqual(c.config, { "homelab:domain": "example.dev" });
        assert.deepEqual(c.files, [
            ["Caddyfile", "a\n"],
            ["dns-records", "b\nc\n"],
        ]);
    });

    it("refuses a case with no separator line, or with CRLF line endings", () => {
        assert.throws(() => parseCase(`${STACK}=== Caddyfile\n`, "render"), /no separator line/);
        assert.throws(() => parseCase(`${STACK}---------\nok\n`, "validate"), /no separator line/);
        assert.throws(() => parseCase(`${STACK}${SEPARATOR}\r\nok\r\n`, "validate"), /CR line endings/);
    });

    it("refuses an unknown file name, one listed twice, or a result that names no file", () => {
        assert.throws(
            () => parseCase(`${STACK}${SEPARATOR}\n=== Caddyfile.json\nx\n`, "render"),
            /"=== Caddyfile.json" names no rendered file \(known: Caddyfile, haproxy.cfg/,
        );
        assert.throws(
            () => parseCase(`${STACK}${SEPARATOR}\n=== Caddyfile\nx\n=== Caddyfile\ny\n`, "render"),
            /listed twice/,
        );
        assert.throws(() => parseCase(`${STACK}${SEPARATOR}\nx\n`, "render"), /must start with a "=== <file>" line/);
    });

    it("refuses a validate case with nothing expected, and a stack that is not a map of config keys", () => {
        assert.throws(() => parseCase(`${STACK}${SEPARATOR}\n`, "validate"), /nothing after the separator/);
        assert.throws(
            () => parseCase(`config:\n  ${STACK}${SEPARATOR}\nok\n`, "validate"),
            /"config" is not a config key/,
        );
        assert.throws(() => parseCase(`- a\n${SEPARATOR}\nok\n`, "validate"), /must be a map of config keys/);
        assert.throws(() => parseCase(`a: [\n${SEPARATOR}\nok\n`, "validate"), /not YAML/);
    });

    it("refuses to render a file the stack does not have, and reports a refused stack's problems", () => {
        const linux = parseCase(
            [
                "homelab:domain: example.dev",
                "homelab:zoneId: 023e105f4ecef8ad9ca31a8372d0c353",
                "homelab:accountId: 01a7362d577a6c3019a474fd6f485823",
                "homelab:tailnet: { ipv4: 100.101.102.103 }",
                "homelab:acme: { email: admin@example.dev }",
                "homelab:docker: { runtime: linux, dataDir: /srv/homelab }",
                SEPARATOR,
                "=== edge.haproxy.cfg",
                "",
            ].join("\n"),
            "render",
        );
        assert.throws(() => runRender(linux), /renders no edge.haproxy.cfg/);
        assert.throws(
            () => runRender(parseCase(`${STACK}${SEPARATOR}\n=== Caddyfile\n`, "render")),
            /refused[\s\S]*homelab:zoneId: is required/,
        );
    });

    it("takes secret names from homelab:secrets (secretEnv is checked against them), and refuses one written in plaintext", () => {
        const secretsProblems = (secrets: unknown) =>
            loadCase({ "homelab:secrets": secrets }).problems.filter((p) => p.key === "homelab:secrets");
        assert.deepEqual(secretsProblems({ a: { secure: "v1:x" } }), []);
        assert.match((secretsProblems({ a: { secure: "v1:x" }, b: "plain" })[0] as Problem).message, /plaintext/);
        assert.throws(() => loadCase({ "homelab:secrets": "x" }), /must be a map/);
        // The names reach validation: a secretEnv that names one is accepted, one that does not is refused.
        const minimal = parseCase(
            fs.readFileSync(path.join(CASES_DIR, "validate/valid-minimal.txt"), "utf8"),
            "validate",
        );
        const stack = (ref: string) => ({
            ...minimal.config,
            "homelab:services": { app: { image: "nginx:1.29.3", port: 80, secretEnv: { TOKEN: ref } } },
            "homelab:secrets": { a: { secure: "v1:x" } },
        });
        assert.deepEqual(loadCase(stack("a")).problems, []);
        assert.match(
            loadCase(stack("b"))
                .problems.map((p) => `${p.key}: ${p.message}`)
                .join("\n"),
            /homelab:services\.app\.secretEnv\.TOKEN: refers to homelab:secrets\.b, which is not set/,
        );
    });
});
