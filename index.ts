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

// 1. Config: every homelab:* key, validated at once; nothing is registered if any is wrong.
const { model, cloudflareToken } = loadConfig();
const stack = pulumi.getStack();

// 2. Components. One explicit Cloudflare provider, from the bootstrap token, for everything.
const cf = new cloudflare.Provider("cloudflare", { apiToken: cloudflareToken });

new PrivateDns("private-dns", { model, provider: cf });
const dnsToken = new DnsToken("dns01", { model, stack, provider: cf });

const publicServices = servicesOn(model, "public");
const tunnel = publicServices.length > 0 ? new Tunnel("tunnel", { model, tunnelName: tunnelName(pulumi.getProject(), stack), provider: cf }) : undefined;
for (const s of publicServices) {
    if (!s.access) continue;
    new AccessApp(`access-${s.name}`, { accountId: model.accountId, hostname: s.hostnames.public as string, serviceName: s.name, access: s.access, provider: cf });
}

// 3. Outputs.
/** Per service, per plane: the URL to open. */
export const urls = serviceUrls(model);
/** The Cloudflare Tunnel's id (absent when no service is public). */
export const tunnelId = tunnel?.tunnelId;
/** The id of the DNS-01 token (its value is secret and goes only to Caddy). */
export const dnsTokenId = dnsToken.tokenId;
