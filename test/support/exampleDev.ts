/**
 * The stack-wide keys of a synthetic `example.dev` stack (documentation ids and addresses), shared by
 * the e2e lab and the program benchmark; each adds its own services, users and Docker settings.
 */
export const EXAMPLE_DEV_BASE: Readonly<Record<string, unknown>> = {
    "homelab:domain": "example.dev",
    "homelab:zoneId": "023e105f4ecef8ad9ca31a8372d0c353",
    "homelab:accountId": "01a7362d577a6c3019a474fd6f485823",
    "homelab:tailnet": { ipv4: "100.101.102.103" },
    "homelab:private": { subdomain: "home" },
    "homelab:wan": { publicIp: "203.0.113.7" },
    "homelab:acme": { email: "admin@example.dev" },
};
