// The custom Caddy image: Caddy's builder with xcaddy adds the Cloudflare DNS module, then the
// binary moves into the plain Alpine image. Every version pinned (render/versions.json).
import versions from "./versions.json";

export function renderCaddyDockerfile(): string {
    return [
        `# Rendered by homelab from render/versions.json; do not edit (npm run render regenerates it).`,
        `FROM caddy:${versions.caddy}-builder AS builder`,
        `RUN xcaddy build v${versions.caddy} --with github.com/caddy-dns/cloudflare@${versions.caddyDnsCloudflare}`,
        ``,
        `FROM caddy:${versions.caddy}-alpine`,
        `COPY --from=builder /usr/bin/caddy /usr/bin/caddy`,
        `RUN caddy list-modules | grep -qx dns.providers.cloudflare`,
        ``,
    ].join("\n");
}
