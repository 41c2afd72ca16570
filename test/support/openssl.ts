// Test certificates made with the openssl CLI: throwaway CAs (EC P-256, a day or two) and leaves
// they sign. One place for what the unit, e2e and engine tests each used to spell out.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

/** Paths of a certificate and its key. */
export interface CertFiles {
    cert: string;
    key: string;
}

/** A client certificate's extensions: not a CA, signing, TLS client authentication. */
export const CLIENT_EXT =
    "basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\nextendedKeyUsage = clientAuth\n";

/** subjectAltName for these DNS names (duplicates dropped), then any further extension lines. */
export function sanExt(names: string[], more = ""): string {
    return `subjectAltName = ${[...new Set(names)].map((n) => `DNS:${n}`).join(", ")}\n${more}`;
}

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

/** openssl with these arguments in `dir`; a failure throws with openssl's message. */
export function openssl(dir: string, args: string[]): void {
    execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
}

/** A self-signed certificate (a test CA, or a stand-in): `<name>.pem` and `<name>.key` in dir. */
export function selfSigned(dir: string, name: string, subject: string, days = 2): CertFiles {
    const out = ["-keyout", `${name}.key`, "-out", `${name}.pem`, "-subj", subject, "-days", String(days)];
    openssl(dir, ["req", "-x509", ...EC_KEY, ...out]);
    return { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) };
}

/** A new key and CSR for `name` (`<name>.key`, `<name>.csr`). */
export function keyAndCsr(dir: string, name: string, subject: string): void {
    openssl(dir, ["req", ...EC_KEY, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject]);
}

/** `<name>.pem` with a key of its own, signed by `ca`, with the extensions in `ext`. */
export function issue(dir: string, name: string, subject: string, ca: CertFiles, ext: string, days = 2): CertFiles {
    keyAndCsr(dir, name, subject);
    fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
    openssl(dir, [
        "x509",
        "-req",
        "-in",
        `${name}.csr`,
        "-CA",
        ca.cert,
        "-CAkey",
        ca.key,
        "-out",
        `${name}.pem`,
        "-days",
        String(days),
        "-extfile",
        `${name}.ext`,
    ]);
    return { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) };
}
