// A small CA of the stack's own, for certificates between its own parts (Caddy and the further
// hosts' gateways): never the users' client CA, so no family member's certificate opens those doors.
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";

/** Five years; `pulumi up` renews each certificate in its last year. */
export const CERT_HOURS = 5 * 365 * 24;
export const EARLY_RENEWAL_HOURS = 365 * 24;

/**
 * A small CA of the stack's own and a way to issue leaves from it, as children of `parent` named
 * `<name>-ca-key`, `<name>-ca-cert`, `<name>-<leaf>-key|csr|cert`. ECDSA P-256, five-year leaves
 * renewed in their last year by `pulumi up`. Each leaf comes back as certificate + key PEM (secret).
 */
export function smallCa(parent: pulumi.Resource, name: string, caName: string) {
    const child = { parent };
    const caKey = new tls.PrivateKey(`${name}-ca-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, child);
    const ca = new tls.SelfSignedCert(
        `${name}-ca-cert`,
        {
            privateKeyPem: caKey.privateKeyPem,
            isCaCertificate: true,
            allowedUses: ["cert_signing"],
            validityPeriodHours: 2 * CERT_HOURS,
            earlyRenewalHours: EARLY_RENEWAL_HOURS,
            subject: { commonName: caName, organization: "homelab" },
        },
        child,
    );
    const leaf = (leafName: string, commonName: string, uses: string[], dnsNames?: string[]) => {
        const key = new tls.PrivateKey(`${name}-${leafName}-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, child);
        const csr = new tls.CertRequest(
            `${name}-${leafName}-csr`,
            { privateKeyPem: key.privateKeyPem, subject: { commonName }, ...(dnsNames ? { dnsNames } : {}) },
            child,
        );
        const cert = new tls.LocallySignedCert(
            `${name}-${leafName}-cert`,
            {
                certRequestPem: csr.certRequestPem,
                caPrivateKeyPem: caKey.privateKeyPem,
                caCertPem: ca.certPem,
                isCaCertificate: false,
                allowedUses: uses,
                validityPeriodHours: CERT_HOURS,
                earlyRenewalHours: EARLY_RENEWAL_HOURS,
            },
            child,
        );
        return { cert: cert.certPem, key: pulumi.secret(key.privateKeyPem), notAfter: cert.validityEndTime };
    };
    return { caPem: ca.certPem, caNotAfter: ca.validityEndTime, leaf };
}

/** Certificate and key in one PEM (what HAProxy's `crt` takes), secret. */
export function bundlePem(leaf: { cert: pulumi.Output<string>; key: pulumi.Output<string> }): pulumi.Output<string> {
    return pulumi.secret(pulumi.all([leaf.cert, leaf.key]).apply(([c, k]) => `${c.trim()}\n${k.trim()}\n`));
}
