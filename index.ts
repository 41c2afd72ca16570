// homelab: one stack for a self-hosted homelab. Read top to bottom: config, components, outputs.
import * as pulumi from "@pulumi/pulumi";
import * as cloudflare from "@pulumi/cloudflare";
import * as docker from "@pulumi/docker";
import { loadConfig } from "./stacks/config";
import { servicesOn } from "./stacks/model";
import { serviceUrls, tunnelName } from "./stacks/naming";
import { PrivateDns } from "./components/privateDns";
import { DnsToken } from "./components/dnsToken";
import { Tunnel } from "./components/tunnel";
import { AccessApp } from "./components/accessApp";
import { ClientCa } from "./components/clientCa";
import { EdgeTls } from "./components/edgeTls";
import { DockerHost } from "./components/dockerHost";
import { Edge } from "./components/edge";
import { formerChild } from "./components/aliases";

// 1. Config: every homelab:* key, validated at once; nothing is registered if any is wrong.
const { model, secrets, cloudflareToken } = loadConfig();
const stack = pulumi.getStack();

// 2. Components. Providers are explicit and passed through each component's options.
const cf = new cloudflare.Provider("cloudflare", { apiToken: cloudflareToken });
const engine = new docker.Provider("docker-engine", { host: model.docker.host }, { aliases: [formerChild("homelab:docker:DockerHost", "docker", "docker-engine")] });
const onCloudflare = { providers: [cf] };

// Cloudflare: private DNS, the DNS-01 token, and the tunnel with Access for public services.
new PrivateDns("private-dns", { model }, onCloudflare);
const dnsToken = new DnsToken("dns01", { model, stack }, onCloudflare);
const publicServices = servicesOn(model, "public");
const tunnel = publicServices.length > 0 ? new Tunnel("tunnel", { model, tunnelName: tunnelName(pulumi.getProject(), stack) }, onCloudflare) : undefined;
for (const s of publicServices) {
    if (!s.access) continue;
    new AccessApp(`access-${s.name}`, { accountId: model.accountId, hostname: s.hostnames.public as string, serviceName: s.name, access: s.access }, onCloudflare);
}

// The private client CA: one certificate and .p12 per user.
const ca = new ClientCa("client-ca", { users: model.users, stackName: stack });

// The Docker host: networks, Caddy, cloudflared and the services.
const host = new DockerHost(
    "docker",
    {
        model,
        dnsToken: dnsToken.value,
        ...(tunnel ? { tunnelToken: tunnel.token } : {}),
        caCertificate: ca.caCertificate,
        clientCertificates: ca.clientCertificates,
        secrets,
    },
    { providers: [engine] },
);

// The edge: HAProxy on :80/:443, a container on Linux, natively on the Mac on a Mac runtime.
const edgeTls = model.edge === "native" ? new EdgeTls("edge-tls", { stackName: stack }) : undefined;
const edge = new Edge("edge", { model, stack, networkNames: host.networkNames, caddy: host.caddy, ...(edgeTls ? { edgeTls } : {}) }, { providers: [engine] });

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
/** The Docker containers this stack runs, by name → id. */
export const containers = pulumi.all([host.containers, edge.containerId]).apply(([c, haproxy]) => ({ ...c, haproxy }));
/** Where the edge runs: a container (Linux) or natively on the Mac under launchd. */
export const edgePlacement = model.edge;
