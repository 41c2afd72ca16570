// The edge's own small PKI (Mac runtimes): a CA, a server certificate for the relay container and
// a client certificate for the native edge. The relay accepts a connection only when it carries
// that client certificate, so nothing but the edge (no other container reaching the Mac's loopback
// through host.docker.internal, no local process) can hand Caddy a PROXY header. Separate from the
// users' client CA: a family member's certificate must never open this door.
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { RELAY_SERVER_NAME } from "../stacks/layout";

/** Five years; `pulumi up` renews each certificate in its last year. */
export const EDGE_CERT_HOURS = 5 * 365 * 24;
export const EDGE_EARLY_RENEWAL_HOURS = 365 * 24;

export interface EdgeTlsArgs {
    stackName: string;
}

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
            validityPeriodHours: 2 * EDGE_CERT_HOURS,
            earlyRenewalHours: EDGE_EARLY_RENEWAL_HOURS,
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
                validityPeriodHours: EDGE_CERT_HOURS,
                earlyRenewalHours: EDGE_EARLY_RENEWAL_HOURS,
            },
            child,
        );
        return { cert: cert.certPem, key: pulumi.secret(key.privateKeyPem) };
    };
    return { caPem: ca.certPem, leaf };
}

/** Certificate and key in one PEM (what HAProxy's `crt` takes), secret. */
export function bundlePem(leaf: { cert: pulumi.Output<string>; key: pulumi.Output<string> }): pulumi.Output<string> {
    return pulumi.secret(pulumi.all([leaf.cert, leaf.key]).apply(([c, k]) => `${c.trim()}\n${k.trim()}\n`));
}

export class EdgeTls extends pulumi.ComponentResource {
    /** The edge CA certificate (PEM, public). */
    public readonly caPem: pulumi.Output<string>;
    /** The relay's certificate and key, PEM (secret). */
    public readonly relayPem: pulumi.Output<string>;
    /** The native edge's client certificate and key, PEM (secret). */
    public readonly edgeClientPem: pulumi.Output<string>;

    constructor(name: string, args: EdgeTlsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("homelab:pki:EdgeTls", name, {}, opts);
        const ca = smallCa(this, name, `homelab ${args.stackName} edge CA`);
        this.caPem = ca.caPem;
        this.relayPem = bundlePem(
            ca.leaf("relay", RELAY_SERVER_NAME, ["digital_signature", "server_auth"], [RELAY_SERVER_NAME]),
        );
        this.edgeClientPem = bundlePem(ca.leaf("edge", "homelab edge", ["digital_signature", "client_auth"]));
        this.registerOutputs({ caPem: this.caPem, relayPem: this.relayPem, edgeClientPem: this.edgeClientPem });
    }
}
