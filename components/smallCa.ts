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
        const { key, cert } = issueLeaf(
            parent,
            `${name}-${leafName}`,
            { keyPem: caKey.privateKeyPem, certPem: ca.certPem },
            { commonName, uses, validityHours: CERT_HOURS, earlyRenewalHours: EARLY_RENEWAL_HOURS, dnsNames },
        );
        return { cert: cert.certPem, key: pulumi.secret(key.privateKeyPem), notAfter: cert.validityEndTime };
    };
    return { caPem: ca.certPem, caNotAfter: ca.validityEndTime, leaf };
}

/**
 * One ECDSA P-256 key and a certificate for it signed by a CA of the stack's, as children of
 * `parent` named `<prefix>-key`, `<prefix>-csr`, `<prefix>-cert` (the users' client certificates
 * and the small CAs' leaves alike): never a CA, renewed by `pulumi up` `earlyRenewalHours` before
 * its end.
 */
export function issueLeaf(
    parent: pulumi.Resource,
    prefix: string,
    ca: { keyPem: pulumi.Input<string>; certPem: pulumi.Input<string> },
    leaf: {
        commonName: string;
        uses: string[];
        validityHours: number;
        earlyRenewalHours: number;
        dnsNames?: string[] | undefined;
    },
): { key: tls.PrivateKey; cert: tls.LocallySignedCert } {
    const child = { parent };
    const key = new tls.PrivateKey(`${prefix}-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, child);
    const csr = new tls.CertRequest(
        `${prefix}-csr`,
        {
            privateKeyPem: key.privateKeyPem,
            subject: { commonName: leaf.commonName },
            ...(leaf.dnsNames ? { dnsNames: leaf.dnsNames } : {}),
        },
        child,
    );
    const cert = new tls.LocallySignedCert(
        `${prefix}-cert`,
        {
            certRequestPem: csr.certRequestPem,
            caPrivateKeyPem: ca.keyPem,
            caCertPem: ca.certPem,
            isCaCertificate: false,
            allowedUses: leaf.uses,
            validityPeriodHours: leaf.validityHours,
            earlyRenewalHours: leaf.earlyRenewalHours,
        },
        child,
    );
    return { key, cert };
}

/** Certificate and key in one PEM (what HAProxy's `crt` takes), secret. */
export function bundlePem(leaf: { cert: pulumi.Output<string>; key: pulumi.Output<string> }): pulumi.Output<string> {
    return pulumi.secret(pulumi.all([leaf.cert, leaf.key]).apply(([c, k]) => `${c.trim()}\n${k.trim()}\n`));
}
