// The client CA with real crypto: the program's own outputs (under mocks that compute real
// certificates) are checked with openssl and curl, against a TLS server on 127.0.0.1.
import { strict as assert } from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import { spawn, spawnSync } from "child_process";
import { issue, selfSigned } from "../support/openssl";
import { EXAMPLE, ROOT, Run, clone, commandNamed, installMocks, ofType, readStackFile, runProgram } from "../harness";
import { ClientCa } from "../../components/clientCa";
import { buildP12 } from "../../pki/p12";
import { earlyRenewalHours } from "../../pki/profile";
import { unpackFiles } from "../../render/reload";

interface Bundle {
    p12: string;
    password: string;
    notAfter: string;
}
/** curl, asynchronously: the TLS server under test runs in this process. */
function curl(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        const child = spawn("curl", args);
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("close", (status) => resolve({ status, stdout, stderr }));
    });
}
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "homelab-pki-"));
const openssl = (args: string[], input?: string) => spawnSync("openssl", args, { encoding: "utf8", input });

function certText(pem: string): string {
    return openssl(["x509", "-noout", "-text"], pem).stdout;
}

/** A throwaway CA and a leaf it signs, for "another CA" and for the test server. */
function throwawayPki(
    dir: string,
    cn: string,
    ext: string,
): { caPem: string; caKey: string; certPem: string; keyPem: string } {
    const ca = selfSigned(dir, `${cn}-ca`, `/CN=${cn} CA`);
    const leaf = issue(dir, cn, `/CN=${cn}`, ca, ext, 1);
    const r = (f: string) => fs.readFileSync(f, "utf8");
    return { caPem: r(ca.cert), caKey: r(ca.key), certPem: r(leaf.cert), keyPem: r(leaf.key) };
}

describe("client CA (real crypto)", () => {
    let run: Run;
    let dir: string;
    let caPem: string;
    let bundles: Record<string, Bundle>;
    before(async () => {
        run = await runProgram(EXAMPLE);
        assert.equal(run.error, undefined, run.error?.message);
        dir = tmp();
        caPem = run.outputs["caCertificate"] as string;
        bundles = run.outputs["clientBundles"] as Record<string, Bundle>;
        fs.writeFileSync(path.join(dir, "ca.pem"), caPem);
        for (const [u, b] of Object.entries(bundles)) {
            fs.writeFileSync(path.join(dir, `${u}.p12`), Buffer.from(b.p12, "base64"));
            fs.writeFileSync(path.join(dir, `${u}.pw`), b.password, { mode: 0o600 });
            const out = openssl([
                "pkcs12",
                "-in",
                path.join(dir, `${u}.p12`),
                "-passin",
                `file:${path.join(dir, `${u}.pw`)}`,
                "-nodes",
            ]);
            assert.equal(out.status, 0, out.stderr);
            fs.writeFileSync(path.join(dir, `${u}.all.pem`), out.stdout, { mode: 0o600 });
        }
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("exports the CA certificate in clear and the bundles as a secret, one per user", () => {
        assert.ok(!run.secretOutputs.has("caCertificate"));
        assert.ok(run.secretOutputs.has("clientBundles"));
        assert.deepEqual(Object.keys(bundles).sort(), ["dave", "mom", "sam"]);
        assert.doesNotMatch(run.plainOutputsJson, /PRIVATE KEY/);
    });

    it("the CA is ECDSA P-256, CA:TRUE (critical), certificate and CRL signing only, about ten years", () => {
        const t = certText(caPem);
        assert.match(t, /ASN1 OID: prime256v1/);
        assert.match(t, /X509v3 Basic Constraints: critical\s+CA:TRUE/);
        assert.match(t, /X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign\n/);
        assert.match(t, /Subject: O ?= ?homelab, CN ?= ?homelab home client CA/);
        const c = new crypto.X509Certificate(caPem);
        const years = (Date.parse(c.validTo) - Date.parse(c.validFrom)) / (365.25 * 24 * 3600_000);
        assert.ok(years > 9.9 && years < 10.1, `${years} years`);
        const [ca] = ofType(run, "tls:index/selfSignedCert:SelfSignedCert");
        assert.deepEqual(ca?.inputs.allowedUses, ["cert_signing", "crl_signing"]);
        assert.deepEqual(ca?.parents, ["homelab:pki:ClientCa"]);
    });

    it("each user's certificate chains to the CA for TLS client use, with clientAuth only and CA:FALSE", () => {
        for (const u of ["dave", "mom", "sam"]) {
            const pem = path.join(dir, `${u}.all.pem`);
            const v = openssl(["verify", "-purpose", "sslclient", "-CAfile", path.join(dir, "ca.pem"), pem]);
            assert.equal(v.status, 0, v.stdout + v.stderr);
            const t = certText(fs.readFileSync(pem, "utf8"));
            assert.match(t, new RegExp(`Subject: CN ?= ?${u}\\n`));
            assert.match(t, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
            assert.match(t, /X509v3 Key Usage: critical\s+Digital Signature\n/);
            assert.match(t, /X509v3 Extended Key Usage: \s+TLS Web Client Authentication\n/);
            assert.doesNotMatch(t, /Server Authentication/);
            assert.match(t, /ASN1 OID: prime256v1/);
            assert.equal(
                openssl(["verify", "-purpose", "sslserver", "-CAfile", path.join(dir, "ca.pem"), pem]).status,
                2,
                "not usable as a server certificate",
            );
        }
        const leafs = ofType(run, "tls:index/locallySignedCert:LocallySignedCert").filter(
            (l) => l.parents[0] === "homelab:pki:ClientCa",
        );
        assert.deepEqual(
            leafs
                .map((l) => [
                    l.name,
                    l.inputs.validityPeriodHours,
                    l.inputs.earlyRenewalHours,
                    l.inputs.allowedUses.join(","),
                ])
                .sort(),
            [
                ["client-ca-dave-cert", 365 * 24, 720, "digital_signature,client_auth"],
                ["client-ca-mom-cert", 180 * 24, 720, "digital_signature,client_auth"],
                ["client-ca-sam-cert", 90 * 24, 720, "digital_signature,client_auth"],
            ],
        );
        assert.equal(earlyRenewalHours(30), 240);
        assert.equal(earlyRenewalHours(1), 8);
    });

    it("the bundle opens with OpenSSL 3 without -legacy: SHA-1 MAC, 3DES, key + certificate + CA, friendly name", () => {
        const info = openssl([
            "pkcs12",
            "-in",
            path.join(dir, "mom.p12"),
            "-passin",
            `file:${path.join(dir, "mom.pw")}`,
            "-info",
            "-noout",
        ]);
        assert.equal(info.status, 0, info.stderr);
        const text = info.stdout + info.stderr;
        assert.match(text, /MAC: sha1/);
        assert.match(text, /Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC/);
        assert.match(text, /PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC/);
        assert.doesNotMatch(text, /AES|PBES2|RC2/);
        const all = fs.readFileSync(path.join(dir, "mom.all.pem"), "utf8");
        assert.equal((all.match(/BEGIN CERTIFICATE/g) ?? []).length, 2, "user certificate and CA");
        assert.equal((all.match(/BEGIN PRIVATE KEY/g) ?? []).length, 1);
        assert.match(all, /friendlyName: mom/);
        const key = crypto.createPrivateKey(all.slice(all.indexOf("-----BEGIN PRIVATE KEY")));
        const cert = new crypto.X509Certificate(all.slice(all.indexOf("-----BEGIN CERTIFICATE")));
        assert.ok(cert.checkPrivateKey(key), "the key matches the certificate");
        assert.equal(cert.subject, "CN=mom");
        assert.equal(
            openssl(["pkcs12", "-in", path.join(dir, "mom.p12"), "-passin", "pass:wrong", "-noout"]).status !== 0,
            true,
            "a wrong password fails",
        );
    });

    it("generates a password of at least 16 characters per user, and reports the expiry", () => {
        for (const b of Object.values(bundles)) {
            assert.ok(b.password.length >= 16);
            assert.ok(!Number.isNaN(Date.parse(b.notAfter)));
        }
        const pws = ofType(run, "random:index/randomPassword:RandomPassword").filter((p) =>
            p.name.endsWith("-p12-password"),
        );
        assert.equal(pws.length, 3);
        for (const p of pws) assert.ok(p.inputs.length >= 16 && p.inputs.special === false);
    });

    it("curl with the bundle gets a 200 from a server that requires this CA; another CA's certificate is refused", async () => {
        const server = throwawayPki(dir, "localhost", "subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n");
        const other = throwawayPki(dir, "stranger", "extendedKeyUsage = clientAuth\n");
        const srv = https.createServer(
            { key: server.keyPem, cert: server.certPem, ca: caPem, requestCert: true, rejectUnauthorized: true },
            (req, res) => {
                const peer = (req.socket as any).getPeerCertificate();
                res.end(`hello ${peer.subject?.CN}`);
            },
        );
        await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
        const port = (srv.address() as any).port;
        try {
            // The password goes through a 0600 config file, never the command line.
            const cfg = path.join(dir, "curl.cfg");
            fs.writeFileSync(
                cfg,
                `cert = "${path.join(dir, "dave.p12")}:${bundles["dave"]?.password}"\ncert-type = "P12"\n`,
                { mode: 0o600 },
            );
            const ok = await curl([
                "-sS",
                "--max-time",
                "10",
                "--cacert",
                path.join(dir, "localhost-ca.pem"),
                "--config",
                cfg,
                "-w",
                "\n%{http_code}",
                `https://127.0.0.1:${port}/`,
            ]);
            assert.equal(ok.status, 0, ok.stderr);
            assert.match(ok.stdout, /hello dave\n200$/);
            fs.writeFileSync(path.join(dir, "stranger.key"), other.keyPem, { mode: 0o600 });
            const bad = await curl([
                "-sS",
                "--max-time",
                "10",
                "--cacert",
                path.join(dir, "localhost-ca.pem"),
                "--cert",
                path.join(dir, "stranger.pem"),
                "--key",
                path.join(dir, "stranger.key"),
                `https://127.0.0.1:${port}/`,
            ]);
            assert.notEqual(bad.status, 0, "a certificate from another CA is refused");
            const none = await curl([
                "-sS",
                "--max-time",
                "10",
                "--cacert",
                path.join(dir, "localhost-ca.pem"),
                `https://127.0.0.1:${port}/`,
            ]);
            assert.notEqual(none.status, 0, "no certificate is refused");
        } finally {
            await new Promise((r) => srv.close(r));
        }
    });

    it("gives identical bundles and passwords on a second run with the same state", async () => {
        const again = await runProgram(EXAMPLE);
        assert.deepEqual(again.outputs["clientBundles"], bundles);
        assert.equal(again.outputs["caCertificate"], caPem);
    });

    it("a removed user's bundle and certificate are gone", async () => {
        const cfg = clone(EXAMPLE);
        cfg["homelab:users"] = cfg["homelab:users"].filter((u: any) => u.name !== "mom");
        const r = await runProgram(cfg);
        assert.deepEqual(Object.keys(r.outputs["clientBundles"] as object).sort(), ["dave", "sam"]);
        assert.ok(!r.resources.some((x) => x.name.startsWith("client-ca-mom-")));
    });
});

describe("PKCS#12 builder", () => {
    it("is deterministic and changes with the password", () => {
        const dir = tmp();
        try {
            const p = throwawayPki(dir, "u1", "extendedKeyUsage = clientAuth\n");
            const input = {
                keyPem: p.keyPem,
                certPem: p.certPem,
                caPems: [p.caPem],
                password: "correct-horse-battery",
                friendlyName: "u1",
            };
            const a = buildP12(input);
            assert.ok(a.equals(buildP12(input)));
            assert.ok(!a.equals(buildP12({ ...input, password: "another-password-here" })));
            const wrong = throwawayPki(dir, "u2", "extendedKeyUsage = clientAuth\n");
            assert.throws(() => buildP12({ ...input, keyPem: wrong.keyPem }), /does not match/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});

describe("client CA: bad users", () => {
    const bad: [string, { name: string; validityDays: number }[], RegExp][] = [
        [
            "duplicate names",
            [
                { name: "dave", validityDays: 30 },
                { name: "dave", validityDays: 30 },
            ],
            /homelab:users\[1\]\.name: "dave" is listed twice/,
        ],
        ["unsafe name", [{ name: "../x", validityDays: 30 }], /homelab:users\[0\]\.name/],
        ["validity 0", [{ name: "a", validityDays: 0 }], /homelab:users\[0\]\.validityDays/],
        ["validity 826", [{ name: "a", validityDays: 826 }], /homelab:users\[0\]\.validityDays/],
    ];
    for (const [name, users, msg] of bad) {
        it(`refuses ${name} and registers nothing`, async () => {
            const { monitor } = installMocks({ stack: "t" });
            assert.throws(() => new ClientCa("ca", { users, stackName: "t" }), msg);
            await new Promise((r) => setTimeout(r, 20));
            assert.deepEqual(monitor.records, []);
        });
    }
});

describe("the edge's secret (Mac runtimes)", () => {
    let files: Record<string, string>;
    let run: Run;
    before(async () => {
        run = await runProgram(EXAMPLE);
        assert.equal(run.error, undefined, run.error?.message);
        const stdin = (suffix: string) => unpackFiles(commandNamed(run, suffix).inputs.stdin);
        files = { ...stdin("edge-haproxy-config"), ...stdin("edge-native") };
    });

    it("gives the native edge a 256-bit secret and the relay only its SHA-256", () => {
        const password = ofType(run, "random:index/randomPassword:RandomPassword").find((r) =>
            r.parents.includes("homelab:edge:EdgeKey"),
        );
        assert.deepEqual(password?.inputs, { length: 43, special: false }, "43 letters and digits: 256 bits");
        assert.ok(password?.options.additionalSecretOutputs.includes("result"));
        const m = /^edge (\S+)\n$/.exec(files["edge-secret.map"] as string);
        assert.ok(m, "the native edge's map: the key edge to the secret");
        const secret = m[1] as string;
        const hash = crypto.createHash("sha256").update(secret).digest("hex").toUpperCase();
        assert.equal(files["edge-secret.sha256"], `${hash}\n`);
        for (const [name, body] of Object.entries(files))
            if (name !== "edge-secret.map") assert.ok(!body.includes(secret), `${name} does not carry the secret`);
    });
});

describe("the further hosts' CA (real crypto)", () => {
    let dir: string;
    before(async () => {
        const run = await runProgram(readStackFile(path.join(ROOT, "test/stacks/twohosts.yaml")));
        assert.equal(run.error, undefined, run.error?.message);
        dir = tmp();
        const caddy = unpackFiles(commandNamed(run, "docker-caddy-reload").inputs.stdin);
        const gateway = unpackFiles(commandNamed(run, "gateway-nas-config").inputs.stdin);
        fs.writeFileSync(path.join(dir, "hosts-ca.pem"), gateway["hosts-ca.pem"] as string);
        fs.writeFileSync(path.join(dir, "gateway.pem"), gateway["gateway.pem"] as string);
        fs.writeFileSync(path.join(dir, "caddy.pem"), caddy["hosts-client.crt"] as string);
        fs.writeFileSync(path.join(dir, "users-ca.pem"), run.outputs["caCertificate"] as string);
        assert.equal(
            caddy["hosts-ca.pem"],
            gateway["hosts-ca.pem"],
            "Caddy trusts the CA the gateway's certificate is from",
        );
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("gives the gateway a server certificate for its names and Caddy a client certificate, from a CA of their own", () => {
        const v = (purpose: string, f: string, ca = "hosts-ca.pem") =>
            openssl(["verify", "-purpose", purpose, "-CAfile", path.join(dir, ca), path.join(dir, f)]).status;
        assert.equal(v("sslserver", "gateway.pem"), 0);
        assert.equal(v("sslclient", "caddy.pem"), 0);
        assert.notEqual(v("sslclient", "gateway.pem"), 0, "the gateway's certificate is no client certificate");
        assert.notEqual(v("sslserver", "caddy.pem"), 0);
        assert.notEqual(v("sslclient", "caddy.pem", "users-ca.pem"), 0, "not the users' CA");
        assert.match(
            certText(fs.readFileSync(path.join(dir, "gateway.pem"), "utf8")),
            /DNS:\*\.nas\.homelab\.internal/,
        );
    });
});
