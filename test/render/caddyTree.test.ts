// The Caddyfile marshaller: the only place braces, indentation and quoting are written, and the
// last check of every token before it reaches Caddy.
import { strict as assert } from "assert";
import { BLANK, block, comment, directive, marshal, val } from "../../render/caddyTree";

describe("Caddyfile tree: the marshaller", () => {
    it("writes blocks with one tab per depth, the global options block as a bare brace, and a final newline", () => {
        const text = marshal([
            comment("top"),
            block("", [], [directive("admin", ["off"])]),
            BLANK,
            block(
                val("https://a.example.dev:8443", "site"),
                [],
                [block("handle", [], [directive("respond", ['"hi {remote_host}"', "200"])])],
            ),
        ]);
        assert.equal(
            text,
            '# top\n{\n\tadmin off\n}\n\nhttps://a.example.dev:8443 {\n\thandle {\n\t\trespond "hi {remote_host}" 200\n\t}\n}\n',
        );
    });

    const badValues: [string, string, RegExp][] = [
        ["a closing brace ends the site early", "a.dev}", /hostname "a\.dev}" contains \{ or \}/],
        ["a placeholder would expand", "{env.CLOUDFLARE_API_TOKEN}", /placeholder/],
        ["a newline starts a new directive", "a.dev\n\tabort", /whitespace/],
        ["a space adds an argument", "a.dev b.dev", /whitespace/],
        ["a # comments out the rest", "a.dev#x", /comment/],
        ["a quote opens a string", 'a"b', /not allowed/],
        ["empty", "", /empty/],
    ];
    for (const [name, value, message] of badValues)
        it(`refuses a stack value where ${name}`, () => {
            assert.throws(() => marshal([directive("reverse_proxy", [val(value, "hostname")])]), message);
        });

    const badLiterals: [string, string][] = [
        ["whitespace outside quotes", "a b"],
        ["a quote inside a quoted string", '"a"b"'],
        ["a backslash", '"a\\"'],
        ["a brace that is not a placeholder", "a{"],
        ["a placeholder with a space", '"{a b}"'],
        ["a control character", '"a\u0007"'],
        ["a leading #", "#x"],
        ["an empty word", ""],
    ];
    for (const [name, literal] of badLiterals)
        it(`refuses a program literal with ${name}`, () => {
            assert.throws(() => marshal([directive("respond", [literal])]), /internal: Caddyfile literal/);
        });

    it("refuses a comment that spans lines and a directive without a name", () => {
        assert.throws(() => marshal([comment("a\nabort")]), /spans lines/);
        assert.throws(() => marshal([directive("")]), /without a name/);
    });
});
