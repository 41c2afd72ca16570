// npm run bundle: from clientBundles JSON to a 0600 .p12 on disk and import instructions.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BundleError, main, parseBundles, writeBundle } from "../scripts/bundle";

const BUNDLES = {
    dave: {
        p12: Buffer.from("p12-bytes-for-dave").toString("base64"),
        password: "Pw0rdForDave123456789",
        notAfter: "2027-11-24T00:00:00Z",
    },
    mom: {
        p12: Buffer.from("p12-bytes-for-mom").toString("base64"),
        password: "Pw0rdForMom1234567890",
        notAfter: "2027-05-23T00:00:00Z",
    },
};

function capture(fn: () => number): { code: number; out: string; err: string } {
    const out: string[] = [];
    const err: string[] = [];
    const o = process.stdout.write.bind(process.stdout);
    const e = process.stderr.write.bind(process.stderr);
    (process.stdout as any).write = (s: string) => (out.push(s), true);
    (process.stderr as any).write = (s: string) => (err.push(s), true);
    try {
        return { code: fn(), out: out.join(""), err: err.join("") };
    } finally {
        (process.stdout as any).write = o;
        (process.stderr as any).write = e;
    }
}

describe("npm run bundle", () => {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "homelab-bundle-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
    const io = (json: string) => ({
        stdinIsTty: false,
        readStdin: () => json,
        readFromPulumi: () => assert.fail("must not call pulumi"),
    });

    it("writes <user>.p12 with mode 0600 from JSON on stdin and prints the password and how to import it", () => {
        const r = capture(() => main(["dave", dir], io(JSON.stringify(BUNDLES))));
        assert.equal(r.code, 0, r.err);
        const file = path.join(dir, "dave.p12");
        assert.equal(fs.readFileSync(file, "utf8"), "p12-bytes-for-dave");
        assert.equal(fs.statSync(file).mode & 0o777, 0o600);
        assert.match(r.out, /Password: Pw0rdForDave123456789/);
        for (const platform of [/macOS/, /iOS/, /Android/, /VPN & app user certificate/]) assert.match(r.out, platform);
    });

    it("refuses to overwrite without --force", () => {
        assert.equal(capture(() => main(["mom", dir], io(JSON.stringify(BUNDLES)))).code, 0);
        const again = capture(() => main(["mom", dir], io(JSON.stringify(BUNDLES))));
        assert.equal(again.code, 1);
        assert.match(again.err, /exists; pass --force/);
        assert.equal(capture(() => main(["mom", dir, "--force"], io(JSON.stringify(BUNDLES)))).code, 0);
    });

    it("names the known users when asked for an unknown one", () => {
        const r = capture(() => main(["grandpa", dir], io(JSON.stringify(BUNDLES))));
        assert.equal(r.code, 1);
        assert.match(r.err, /no bundle for "grandpa"; users in this stack: dave, mom/);
        assert.equal(fs.existsSync(path.join(dir, "grandpa.p12")), false);
    });

    it("explains malformed or redacted input", () => {
        assert.throws(() => parseBundles("not json"), BundleError);
        assert.throws(() => parseBundles(JSON.stringify({ dave: "[secret]" })), /--show-secrets/);
        assert.throws(() => writeBundle({}, "dave", dir), /\(none: add them to homelab:users\)/);
    });

    it("asks pulumi when stdin is a terminal", () => {
        let asked = false;
        const r = capture(() =>
            main(["dave", dir], {
                stdinIsTty: true,
                readStdin: () => assert.fail("no stdin"),
                readFromPulumi: () => ((asked = true), JSON.stringify(BUNDLES)),
            }),
        );
        assert.equal(r.code, 0, r.err);
        assert.ok(asked);
    });
});
