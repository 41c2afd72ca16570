// PKCS#12 bundles that macOS Keychain, iOS and Android import.
//
// Apple's importer rejects OpenSSL 3's default encoding (PBES2/AES-256 with a SHA-256 MAC) with a
// misleading "wrong password" error. The encoding every platform takes is the classic one:
// pbeWithSHAAnd3-KeyTripleDES-CBC for the key and the certificates, and an HMAC-SHA-1 MAC.
// OpenSSL 3 reads it without `-legacy` (3DES is in the default provider; RC2 is not, so RC2 is
// never used).
//
// node-forge supplies ASN.1, the PKCS#12 key derivation, 3DES and HMAC-SHA-1; the bags are built
// here because forge cannot parse EC keys or certificates. The bundle is deterministic: salts are
// derived from the key and password, so the same inputs give byte-identical output and a second
// `pulumi up` changes nothing.
import * as crypto from "crypto";
import forge from "node-forge";

const asn1 = forge.asn1;
const OID = {
    data: "1.2.840.113549.1.7.1",
    encryptedData: "1.2.840.113549.1.7.6",
    pkcs8ShroudedKeyBag: "1.2.840.113549.1.12.10.1.2",
    certBag: "1.2.840.113549.1.12.10.1.3",
    x509Certificate: "1.2.840.113549.1.9.22.1",
    pbeWithSHAAnd3KeyTripleDESCBC: "1.2.840.113549.1.12.1.3",
    friendlyName: "1.2.840.113549.1.9.20",
    localKeyId: "1.2.840.113549.1.9.21",
    sha1: "1.3.14.3.2.26",
};
export const P12_ITERATIONS = 2048;

export interface P12Input {
    /** The private key, PEM (any type Node reads; PKCS#8 or SEC1). */
    keyPem: string;
    /** The certificate for the key, PEM. */
    certPem: string;
    /** CA certificates to include, PEM. */
    caPems: string[];
    password: string;
    /** Shown by the importing device; also the bag's friendlyName. */
    friendlyName: string;
}

const seq = (items: forge.asn1.Asn1[]) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, items);
const set = (items: forge.asn1.Asn1[]) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, items);
const oid = (o: string) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(o).getBytes());
const octets = (bytes: string) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, bytes);
const int = (n: number) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(n).getBytes());
const explicit0 = (items: forge.asn1.Asn1[]) => asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, items);
const der = (a: forge.asn1.Asn1) => asn1.toDer(a).getBytes();
const binary = (b: Buffer) => b.toString("binary");

/** 8 bytes of salt derived from secret material and a label. */
function salt(secret: Buffer, label: string): string {
    return binary(crypto.createHmac("sha256", secret).update(label).digest().subarray(0, 8));
}

function pbeAlgorithm(saltBytes: string): forge.asn1.Asn1 {
    return seq([oid(OID.pbeWithSHAAnd3KeyTripleDESCBC), seq([octets(saltBytes), int(P12_ITERATIONS)])]);
}

function encrypt3des(password: string, saltBytes: string, plain: string): string {
    const key = forge.pkcs12.generateKey(password, forge.util.createBuffer(saltBytes), 1, P12_ITERATIONS, 24);
    const iv = forge.pkcs12.generateKey(password, forge.util.createBuffer(saltBytes), 2, P12_ITERATIONS, 8);
    const cipher = forge.cipher.createCipher("3DES-CBC", key);
    cipher.start({ iv });
    cipher.update(forge.util.createBuffer(plain));
    if (!cipher.finish()) throw new Error("3DES encryption failed");
    return cipher.output.getBytes();
}

function bagAttributes(friendlyName: string, localKeyId: string): forge.asn1.Asn1 {
    return set([
        seq([
            oid(OID.friendlyName),
            set([asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BMPSTRING, false, friendlyName)]),
        ]),
        seq([oid(OID.localKeyId), set([octets(localKeyId)])]),
    ]);
}

function certDer(pem: string): Buffer {
    return new crypto.X509Certificate(pem).raw;
}

/** Builds the bundle; returns its DER bytes. */
export function buildP12(input: P12Input): Buffer {
    const key = crypto.createPrivateKey(input.keyPem);
    const leaf = new crypto.X509Certificate(input.certPem);
    if (!leaf.checkPrivateKey(key)) throw new Error(`the key does not match the certificate for ${input.friendlyName}`);
    const keyDer = key.export({ type: "pkcs8", format: "der" });
    const secret = Buffer.concat([keyDer, Buffer.from(input.password, "utf8")]);
    const localKeyId = binary(crypto.createHash("sha1").update(leaf.raw).digest());
    const attrs = bagAttributes(input.friendlyName, localKeyId);

    // The key: a shrouded key bag (EncryptedPrivateKeyInfo, 3DES).
    const keySalt = salt(secret, "key");
    const shrouded = seq([pbeAlgorithm(keySalt), octets(encrypt3des(input.password, keySalt, binary(keyDer)))]);
    const keyBag = seq([oid(OID.pkcs8ShroudedKeyBag), explicit0([shrouded]), attrs]);
    const keyContents = seq([keyBag]);
    const keyInfo = seq([oid(OID.data), explicit0([octets(der(keyContents))])]);

    // The certificates: leaf first (with the same localKeyId as the key), then the CA chain,
    // encrypted as one EncryptedData (3DES), as OpenSSL's legacy export does.
    const certBag = (raw: Buffer, withAttrs: boolean) =>
        seq([
            oid(OID.certBag),
            explicit0([seq([oid(OID.x509Certificate), explicit0([octets(binary(raw))])])]),
            ...(withAttrs ? [attrs] : []),
        ]);
    const certContents = seq([certBag(leaf.raw, true), ...input.caPems.map((p) => certBag(certDer(p), false))]);
    const certSalt = salt(secret, "certs");
    const encryptedCerts = seq([
        oid(OID.encryptedData),
        explicit0([
            seq([
                int(0),
                seq([
                    oid(OID.data),
                    pbeAlgorithm(certSalt),
                    asn1.create(
                        asn1.Class.CONTEXT_SPECIFIC,
                        0,
                        false,
                        encrypt3des(input.password, certSalt, der(certContents)),
                    ),
                ]),
            ]),
        ]),
    ]);

    const authSafe = seq([encryptedCerts, keyInfo]);
    const authSafeDer = der(authSafe);

    // The MAC: HMAC-SHA-1 with a PKCS#12-derived key over the AuthenticatedSafe.
    const macSalt = salt(secret, "mac");
    const macKey = forge.pkcs12.generateKey(input.password, forge.util.createBuffer(macSalt), 3, P12_ITERATIONS, 20);
    const hmac = forge.hmac.create();
    hmac.start("sha1", macKey);
    hmac.update(authSafeDer);
    const macData = seq([
        seq([
            seq([oid(OID.sha1), asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, "")]),
            octets(hmac.digest().getBytes()),
        ]),
        octets(macSalt),
        int(P12_ITERATIONS),
    ]);

    const pfx = seq([int(3), seq([oid(OID.data), explicit0([octets(authSafeDer)])]), macData]);
    return Buffer.from(der(pfx), "binary");
}
