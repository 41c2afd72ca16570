// The stack's private client CA: an ECDSA P-256 CA and, per user, a key, a certificate for TLS
// client authentication only, and an importable PKCS#12 bundle with a generated password.
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import * as random from "@pulumi/random";
import { User } from "../stacks/model";
import { buildP12 } from "../pki/p12";
import { issueLeaf } from "./smallCa";
import {
    CA_ALLOWED_USES,
    CA_VALIDITY_HOURS,
    CLIENT_ALLOWED_USES,
    P12_PASSWORD_LENGTH,
    caSubject,
    earlyRenewalHours,
    userProblems,
} from "../pki/profile";

export interface ClientBundle {
    /** The PKCS#12 bundle, base64. */
    p12: string;
    password: string;
    /** When the certificate expires (RFC 3339). */
    notAfter: string;
}

export interface ClientCaArgs {
    users: User[];
    stackName: string;
    /** homelab:monitoring: a certificate for the status container, a non-person identity of its own. */
    monitor?: { validityDays: number };
}

/** The status container's identity: its certificate's CN (no user name can be it: users' names have no space). */
export const MONITOR_IDENTITY = { commonName: "homelab monitor", validityDays: 90 } as const;

export class ClientCa extends pulumi.ComponentResource {
    /** The CA certificate, PEM (public). */
    public readonly caCertificate: pulumi.Output<string>;
    /** User → bundle, password and expiry: secret. */
    public readonly clientBundles: pulumi.Output<Record<string, ClientBundle>>;
    /** User → certificate PEM (public): the leaf allowlist Caddy trusts besides the CA check. */
    public readonly clientCertificates: pulumi.Output<Record<string, string>>;
    /** The CA certificate's end (RFC 3339). */
    public readonly caNotAfter: pulumi.Output<string>;
    /** User → when their certificate expires (RFC 3339; public). */
    public readonly notAfter: pulumi.Output<Record<string, string>>;
    /** With a monitor: its certificate (public), key (secret) and end. */
    public readonly monitor?: {
        certificate: pulumi.Output<string>;
        key: pulumi.Output<string>;
        notAfter: pulumi.Output<string>;
    };

    constructor(name: string, args: ClientCaArgs, opts?: pulumi.ComponentResourceOptions) {
        const problems = userProblems(args.users);
        if (problems.length > 0) throw new Error(`Cannot build the client CA:\n  - ${problems.join("\n  - ")}`);
        super("homelab:pki:ClientCa", name, {}, opts);
        const child = { parent: this };

        const caKey = new tls.PrivateKey(`${name}-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" }, child);
        const caCert = new tls.SelfSignedCert(
            `${name}-cert`,
            {
                privateKeyPem: caKey.privateKeyPem,
                isCaCertificate: true,
                allowedUses: CA_ALLOWED_USES,
                validityPeriodHours: CA_VALIDITY_HOURS,
                subject: caSubject(args.stackName),
            },
            child,
        );
        this.caCertificate = caCert.certPem;

        this.caNotAfter = caCert.validityEndTime;
        const issue = (id: string, commonName: string, validityDays: number) =>
            issueLeaf(
                this,
                `${name}-${id}`,
                { keyPem: caKey.privateKeyPem, certPem: caCert.certPem },
                {
                    commonName,
                    uses: CLIENT_ALLOWED_USES,
                    validityHours: validityDays * 24,
                    earlyRenewalHours: earlyRenewalHours(validityDays),
                },
            );

        const bundles: Record<string, pulumi.Output<ClientBundle>> = {};
        const certs: Record<string, pulumi.Output<string>> = {};
        const ends: Record<string, pulumi.Output<string>> = {};
        for (const user of args.users) {
            const { key, cert } = issue(user.name, user.name, user.validityDays);
            ends[user.name] = cert.validityEndTime;
            const password = new random.RandomPassword(
                `${name}-${user.name}-p12-password`,
                { length: P12_PASSWORD_LENGTH, special: false },
                child,
            );
            certs[user.name] = cert.certPem;
            bundles[user.name] = pulumi.secret(
                pulumi
                    .all([key.privateKeyPem, cert.certPem, caCert.certPem, password.result, cert.validityEndTime])
                    .apply(([keyPem, certPem, caPem, pw, notAfter]) => ({
                        p12: buildP12({
                            keyPem,
                            certPem,
                            caPems: [caPem],
                            password: pw,
                            friendlyName: user.name,
                        }).toString("base64"),
                        password: pw,
                        notAfter,
                    })),
            );
        }
        this.clientBundles = pulumi.secret(pulumi.output(bundles) as pulumi.Output<Record<string, ClientBundle>>);
        this.clientCertificates = pulumi.output(certs) as pulumi.Output<Record<string, string>>;
        this.notAfter = pulumi.output(ends) as pulumi.Output<Record<string, string>>;
        if (args.monitor) {
            // "_monitor": no user's resources can have this name (a user's name starts with a letter or digit).
            const { key, cert } = issue("_monitor", MONITOR_IDENTITY.commonName, args.monitor.validityDays);
            this.monitor = {
                certificate: cert.certPem,
                key: pulumi.secret(key.privateKeyPem),
                notAfter: cert.validityEndTime,
            };
        }
        this.registerOutputs({
            caCertificate: this.caCertificate,
            clientBundles: this.clientBundles,
            clientCertificates: this.clientCertificates,
        });
    }
}
