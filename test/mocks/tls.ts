// Real crypto behind Pulumi's mocks for @pulumi/tls: keys, CSRs and certificates computed from
// the resource inputs with Node and the openssl CLI, so bundles built from them can be opened and
// verified. Outputs are cached by resource name: a second run sees the same "state".
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFileSync } from "child_process";
import { MockResourceArgs } from "@pulumi/pulumi/runtime/mocks";

const cache = new Map<string, { fingerprint: string; state: Record<string, any> }>();

/** Forget every cached output (a fresh state). */
export function resetTlsState(): void {
    cache.clear();
}

function tmp(): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), "homelab-tls-"));
}

function subjectArg(subject: Record<string, string> | undefined): string {
    const parts: string[] = [];
    if (subject?.organization) parts.push(`O=${subject.organization}`);
    if (subject?.commonName) parts.push(`CN=${subject.commonName}`);
    return "/" + parts.join("/");
}

const KEY_USAGE: Record<string, string> = {
    digital_signature: "digitalSignature",
    key_encipherment: "keyEncipherment",
    cert_signing: "keyCertSign",
    crl_signing: "cRLSign",
    key_agreement: "keyAgreement",
};
const EXT_USAGE: Record<string, string> = { client_auth: "clientAuth", server_auth: "serverAuth" };

function extensions(inputs: Record<string, any>): string {
    const uses: string[] = inputs.allowedUses ?? [];
    const ku = uses.map((u) => KEY_USAGE[u]).filter(Boolean);
    const eku = uses.map((u) => EXT_USAGE[u]).filter(Boolean);
    const lines = [
        `basicConstraints = critical, CA:${inputs.isCaCertificate ? "TRUE" : "FALSE"}`,
        "subjectKeyIdentifier = hash",
    ];
    if (ku.length) lines.push(`keyUsage = critical, ${ku.join(", ")}`);
    if (eku.length) lines.push(`extendedKeyUsage = ${eku.join(", ")}`);
    return lines.join("\n") + "\n";
}

function sign(
    inputs: Record<string, any>,
    opts: { csrPem?: string; keyPem?: string; caCertPem?: string; caKeyPem?: string },
): Record<string, any> {
    const dir = tmp();
    try {
        const hours: number = inputs.validityPeriodHours;
        const start = new Date();
        fs.writeFileSync(path.join(dir, "ext.cnf"), extensions(inputs));
        const common = [
            "-days",
            String(Math.max(1, Math.ceil(hours / 24))),
            "-sha256",
            "-extfile",
            path.join(dir, "ext.cnf"),
            "-out",
            path.join(dir, "cert.pem"),
        ];
        if (opts.caCertPem && opts.caKeyPem && opts.csrPem) {
            fs.writeFileSync(path.join(dir, "csr.pem"), opts.csrPem);
            fs.writeFileSync(path.join(dir, "ca.pem"), opts.caCertPem);
            fs.writeFileSync(path.join(dir, "ca.key"), opts.caKeyPem, { mode: 0o600 });
            // Like the provider: the CSR's subject alternative names carry over into the certificate.
            execFileSync(
                "openssl",
                [
                    "x509",
                    "-req",
                    "-in",
                    path.join(dir, "csr.pem"),
                    "-CA",
                    path.join(dir, "ca.pem"),
                    "-CAkey",
                    path.join(dir, "ca.key"),
                    "-copy_extensions",
                    "copy",
                    "-set_serial",
                    `0x${crypto.randomBytes(8).toString("hex")}`,
                    ...common,
                ],
                { stdio: "pipe" },
            );
        } else {
            fs.writeFileSync(path.join(dir, "key.pem"), opts.keyPem ?? "", { mode: 0o600 });
            execFileSync(
                "openssl",
                [
                    "req",
                    "-new",
                    "-key",
                    path.join(dir, "key.pem"),
                    "-subj",
                    subjectArg(inputs.subject),
                    "-out",
                    path.join(dir, "csr.pem"),
                ],
                { stdio: "pipe" },
            );
            execFileSync(
                "openssl",
                ["x509", "-req", "-in", path.join(dir, "csr.pem"), "-signkey", path.join(dir, "key.pem"), ...common],
                { stdio: "pipe" },
            );
        }
        const certPem = fs.readFileSync(path.join(dir, "cert.pem"), "utf8");
        return {
            certPem,
            validityStartTime: start.toISOString().replace(/\.\d+Z$/, "Z"),
            validityEndTime: new X509(certPem).validTo,
        };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

class X509 {
    readonly validTo: string;
    constructor(pem: string) {
        this.validTo = new Date(new crypto.X509Certificate(pem).validTo).toISOString().replace(/\.\d+Z$/, "Z");
    }
}

function compute(args: MockResourceArgs): Record<string, any> | undefined {
    const i = args.inputs;
    switch (args.type) {
        case "tls:index/privateKey:PrivateKey": {
            const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
            return {
                privateKeyPem: privateKey.export({ type: "pkcs8", format: "pem" }),
                publicKeyPem: publicKey.export({ type: "spki", format: "pem" }),
            };
        }
        case "tls:index/certRequest:CertRequest": {
            const dir = tmp();
            try {
                fs.writeFileSync(path.join(dir, "key.pem"), i.privateKeyPem, { mode: 0o600 });
                const san =
                    (i.dnsNames ?? []).length > 0
                        ? ["-addext", `subjectAltName=${(i.dnsNames as string[]).map((d) => `DNS:${d}`).join(",")}`]
                        : [];
                const csr = execFileSync(
                    "openssl",
                    ["req", "-new", "-key", path.join(dir, "key.pem"), "-subj", subjectArg(i.subject), ...san],
                    { stdio: "pipe" },
                ).toString();
                return { certRequestPem: csr };
            } finally {
                fs.rmSync(dir, { recursive: true, force: true });
            }
        }
        case "tls:index/selfSignedCert:SelfSignedCert":
            return sign(i, { keyPem: i.privateKeyPem });
        case "tls:index/locallySignedCert:LocallySignedCert":
            return sign(i, { csrPem: i.certRequestPem, caCertPem: i.caCertPem, caKeyPem: i.caPrivateKeyPem });
        default:
            return undefined;
    }
}

let fixed: Record<string, Record<string, any>> | undefined;
/**
 * For benchmarks (HOMELAB_FAST_TLS=1): one real key, CA and client certificate made once and
 * handed to every resource, so evaluating 1,000 users measures the program, not openssl.
 */
function fastState(type: string): Record<string, any> | undefined {
    if (!fixed) {
        const key = compute({
            type: "tls:index/privateKey:PrivateKey",
            name: "k",
            inputs: {},
        } as MockResourceArgs) as Record<string, any>;
        const ca = sign(
            {
                isCaCertificate: true,
                allowedUses: ["cert_signing"],
                validityPeriodHours: 24,
                subject: { commonName: "bench CA" },
            },
            { keyPem: key.privateKeyPem },
        );
        const csr = compute({
            type: "tls:index/certRequest:CertRequest",
            name: "c",
            inputs: { privateKeyPem: key.privateKeyPem, subject: { commonName: "user" } },
        } as MockResourceArgs) as Record<string, any>;
        const leaf = sign(
            { allowedUses: ["client_auth"], validityPeriodHours: 24 },
            { csrPem: csr.certRequestPem, caCertPem: ca.certPem, caKeyPem: key.privateKeyPem },
        );
        fixed = {
            "tls:index/privateKey:PrivateKey": key,
            "tls:index/selfSignedCert:SelfSignedCert": ca,
            "tls:index/certRequest:CertRequest": csr,
            "tls:index/locallySignedCert:LocallySignedCert": leaf,
        };
    }
    return fixed[type];
}

/** A state mock for test/harness.ts: real outputs for tls resources, unknown in preview. */
export function tlsStateMock(args: MockResourceArgs, preview: boolean): Record<string, any> | undefined {
    if (!args.type.startsWith("tls:") || preview) return undefined;
    if (process.env["HOMELAB_FAST_TLS"]) return fastState(args.type);
    // By name and inputs: a stack run again (or another stack with a resource of the same name in
    // between) sees the state its own earlier run left, as the engine would.
    const fingerprint = JSON.stringify(args.inputs);
    const key = `${args.name}\n${fingerprint}`;
    const hit = cache.get(key);
    if (hit) return hit.state;
    const state = compute(args);
    if (state) cache.set(key, { fingerprint, state });
    return state;
}
