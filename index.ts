// homelab: one stack for a self-hosted homelab. Read top to bottom: config, components, outputs.
import * as pulumi from "@pulumi/pulumi";
import * as cloudflare from "@pulumi/cloudflare";
import { loadConfig } from "./stacks/config";
import { servicesOn } from "./stacks/model";
import { serviceUrls, tunnelName } from "./stacks/naming";
import { PrivateDns } from "./components/privateDns";
import { DnsToken } from "./components/dnsToken";
import { Tunnel } from "./components/tunnel";
import { AccessApp } from "./components/accessApp";
import { ClientCa } from "./components/clientCa";
import { DockerHost } from "./components/dockerHost";

// 1. Config: every homelab:* key, validated at once; nothing is registered if any is wrong.
const { model, secrets, cloudflareToken } = loadConfig();
const stack = pulumi.getStack();

// 2. Components.
// Cloudflare, through one explicit provider from the bootstrap token.
const cf = new cloudflare.Provider("cloudflare", { apiToken: cloudflareToken });
new PrivateDns("private-dns", { model, provider: cf });
const dnsToken = new DnsToken("dns01", { model, stack, provider: cf });
const publicServices = servicesOn(model, "public");
const tunnel = publicServices.length > 0 ? new Tunnel("tunnel", { model, tunnelName: tunnelName(pulumi.getProject(), stack), provider: cf }) : undefined;
for (const s of publicServices) {
    if (!s.access) continue;
    new AccessApp(`access-${s.name}`, { accountId: model.accountId, hostname: s.hostnames.public as string, serviceName: s.name, access: s.access, provider: cf });
}

// The private client CA: one certificate and .p12 per user.
const ca = new ClientCa("client-ca", { users: model.users, stackName: stack });

// The Docker host: network, Caddy, HAProxy, cloudflared and the services.
const host = new DockerHost("docker", {
    model,
    dnsToken: dnsToken.value,
    ...(tunnel ? { tunnelToken: tunnel.token } : {}),
    caCertificate: ca.caCertificate,
    clientCertificates: ca.clientCertificates,
    secrets,
});

// 3. Outputs.
/** Per service, per plane: the URL to open. */
export const urls = serviceUrls(model);
/** The Cloudflare Tunnel's id (absent when no service is public). */
export const tunnelId = tunnel?.tunnelId;
/** The id of the DNS-01 token (its value is secret and goes only to Caddy). */
export const dnsTokenId = dnsToken.tokenId;
/** The client CA certificate (PEM). */
export const caCertificate = ca.caCertificate;
/** Secret: per user, the .p12 (base64), its password and the certificate's expiry. */
export const clientBundles = ca.clientBundles;
/** How to write a user's .p12 to disk and import it. */
export const getBundle = "npm run bundle -- <user> [dir]   (reads: pulumi stack output --show-secrets --json clientBundles)";
/** The Docker containers this stack runs, by name. */
export const containers = host.containers;
