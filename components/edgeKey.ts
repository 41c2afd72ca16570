// How the relay knows the native edge (Mac runtimes): a 256-bit secret of the stack's own. The
// edge sends it in a TLV of every PROXY v2 header; the relay keeps only its SHA-256 and refuses any
// connection whose header does not carry it. Every container reaches the relay's ports on the Mac's
// loopback (host.docker.internal), all from one gateway address, so an address cannot tell the
// edge apart; the secret can: no container may mount the folders it is written to (homelab:
// docker.dataDir), and the hop it travels (the Mac's loopback into the relay's own network, where
// only Caddy is beside it) is seen by no container.
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

/** The native edge's map file: the key `edge` to the secret. */
export function secretMapFile(secret: string): string {
    return `edge ${secret}\n`;
}

/** The relay's list: the secret's SHA-256, as HAProxy's `sha2(256),hex` writes it. */
export function secretHashFile(secret: string): string {
    return `${crypto.createHash("sha256").update(secret, "utf8").digest("hex").toUpperCase()}\n`;
}

export class EdgeKey extends pulumi.ComponentResource {
    /** The native edge's map file (secret). */
    public readonly secretMap: pulumi.Output<string>;
    /** The relay's hash file (secret too, by propagation: nothing is gained by showing it). */
    public readonly secretHash: pulumi.Output<string>;

    constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
        super("homelab:edge:EdgeKey", name, {}, opts);
        // 43 letters and digits: 256 bits. A RandomPassword (its result is a secret in the state).
        const secret = new random.RandomPassword(
            `${name}-secret`,
            { length: 43, special: false },
            { parent: this, additionalSecretOutputs: ["result"] },
        );
        this.secretMap = pulumi.secret(secret.result.apply(secretMapFile));
        this.secretHash = pulumi.secret(secret.result.apply(secretHashFile));
        this.registerOutputs({ secretMap: this.secretMap, secretHash: this.secretHash });
    }
}
