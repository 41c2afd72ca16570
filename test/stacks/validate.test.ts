// Bad stack config is refused before anything is registered, with every problem listed and
// each naming its config key. Each row runs the whole program under mocks.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { EXAMPLE, EXAMPLE_SECRET_NAMES, ROOT, clone, runProgram } from "../harness";
import { ConfigError, validate } from "../../stacks/validate";
import { rawConfigOf } from "../../stacks/stackFile";

type Cfg = Record<string, any>;
interface Case {
    name: string;
    change: (c: Cfg) => void;
    /** Every problem must be reported: each of these keys must appear, with the text if given. */
    expect: [key: string, text?: RegExp][];
}

const svc = (c: Cfg) => c["homelab:services"] as Record<string, any>;
const dock = (c: Cfg, patch: Record<string, unknown>) => (c["homelab:docker"] = { ...c["homelab:docker"], ...patch });
const acme = (c: Cfg, patch: Record<string, unknown>) => (c["homelab:acme"] = { ...c["homelab:acme"], ...patch });

const CASES: Case[] = [
    { name: "missing domain", change: (c) => delete c["homelab:domain"], expect: [["homelab:domain", /required/]] },
    {
        name: "domain not a DNS name",
        change: (c) => (c["homelab:domain"] = "example..dev"),
        expect: [["homelab:domain", /DNS name/]],
    },
    {
        name: "domain with uppercase and underscore",
        change: (c) => (c["homelab:domain"] = "My_Home.dev"),
        expect: [["homelab:domain"]],
    },
    {
        name: "an all-digit zone id left unquoted (YAML makes it a number)",
        change: (c) => (c["homelab:zoneId"] = Number("11112222333344445555666677778888")),
        expect: [["homelab:zoneId", /in quotes/]],
    },
    {
        name: "a short all-digit zone id",
        change: (c) => (c["homelab:zoneId"] = 1111222233334444),
        expect: [["homelab:zoneId", /32-character/]],
    },
    {
        name: "zone id not hex",
        change: (c) => (c["homelab:zoneId"] = "not-a-zone"),
        expect: [["homelab:zoneId", /32-character/]],
    },
    {
        name: "missing account id",
        change: (c) => delete c["homelab:accountId"],
        expect: [["homelab:accountId", /required/]],
    },
    {
        name: "bootstrap token missing",
        change: (c) => (c["cloudflare:apiToken"] = ""),
        expect: [["cloudflare:apiToken", /pulumi config set --secret cloudflare:apiToken/]],
    },
    {
        name: "tailnet IPv4 outside 100.64.0.0/10",
        change: (c) => (c["homelab:tailnet"] = { ipv4: "192.168.1.10" }),
        expect: [["homelab:tailnet.ipv4", /100\.64\.0\.0\/10/]],
    },
    {
        name: "tailnet IPv6 outside fd7a:115c:a1e0::/48",
        change: (c) => (c["homelab:tailnet"] = { ipv4: "100.101.102.103", ipv6: "fd00::1" }),
        expect: [["homelab:tailnet.ipv6", /fd7a:115c:a1e0::\/48/]],
    },
    {
        name: "tailnet key misspelt",
        change: (c) => (c["homelab:tailnet"] = { ipv4: "100.101.102.103", ip6: "fd7a:115c:a1e0::1" }),
        expect: [["homelab:tailnet.ip6", /not a known setting/]],
    },
    {
        name: "unknown top-level key",
        change: (c) => (c["homelab:trustedNetwork"] = ["192.168.1.0/24"]),
        expect: [["homelab:trustedNetwork", /not a known setting/]],
    },
    {
        name: "trusted network not a CIDR",
        change: (c) => (c["homelab:trustedNetworks"] = ["192.168.1.0/33"]),
        expect: [["homelab:trustedNetworks[0]", /not a CIDR/]],
    },
    {
        name: "trusted network is public address space",
        change: (c) => (c["homelab:trustedNetworks"] = ["8.8.8.0/24"]),
        expect: [["homelab:trustedNetworks[0]", /not private address space/]],
    },
    {
        name: "trusted network is everything",
        change: (c) => (c["homelab:trustedNetworks"] = ["0.0.0.0/0"]),
        expect: [["homelab:trustedNetworks[0]", /not private/]],
    },
    {
        name: "trusted network overlaps Docker Desktop's VM network",
        change: (c) => (c["homelab:trustedNetworks"] = ["192.168.0.0/16"]),
        expect: [["homelab:trustedNetworks[0]", /192\.168\.65\.0\/24/]],
    },
    {
        name: "trusted network overlaps the stack's Docker network",
        change: (c) => (c["homelab:trustedNetworks"] = ["172.30.0.128/25"]),
        expect: [["homelab:trustedNetworks[0]", /stack's Docker network|default address pool/]],
    },
    {
        name: "trusted network overlaps the stack's own subnet elsewhere",
        change: (c) => {
            c["homelab:docker"] = { ...c["homelab:docker"], subnet: "10.77.0.0/24" };
            c["homelab:trustedNetworks"] = ["10.77.0.0/16"];
        },
        expect: [["homelab:trustedNetworks[0]", /stack's Docker network 10\.77\.0\.0\/24/]],
    },
    {
        name: "trusted network overlaps Docker's default bridge",
        change: (c) => (c["homelab:trustedNetworks"] = ["172.16.0.0/12"]),
        expect: [["homelab:trustedNetworks[0]", /default bridge|Docker network/]],
    },
    {
        name: "an untrusted source outside every trusted network (untrusted already)",
        change: (c) => (c["homelab:untrustedSources"] = ["10.9.9.1"]),
        expect: [["homelab:untrustedSources[0]", /untrusted already/]],
    },
    {
        name: "an untrusted source that is not an address",
        change: (c) => (c["homelab:untrustedSources"] = ["router.lan"]),
        expect: [["homelab:untrustedSources[0]", /not an IP address/]],
    },
    {
        name: "an untrusted source with host bits",
        change: (c) => (c["homelab:untrustedSources"] = ["192.168.1.1/30"]),
        expect: [["homelab:untrustedSources[0]", /host bits/]],
    },
    {
        name: "trusted network with host bits",
        change: (c) => (c["homelab:trustedNetworks"] = ["192.168.1.7/24"]),
        expect: [["homelab:trustedNetworks[0]", /did you mean 192\.168\.1\.0\/24/]],
    },
    {
        name: "docker subnet overlaps Docker Desktop's VM network",
        change: (c) => (c["homelab:docker"] = { ...c["homelab:docker"], subnet: "192.168.64.0/23" }),
        expect: [["homelab:docker.subnet", /192\.168\.65\.0\/24/]],
    },
    {
        name: "unknown runtime",
        change: (c) => (c["homelab:docker"] = { ...c["homelab:docker"], runtime: "podman" }),
        expect: [["homelab:docker.runtime", /docker-desktop, orbstack, colima, linux/]],
    },
    {
        name: "relative data dir",
        change: (c) => (c["homelab:docker"] = { ...c["homelab:docker"], dataDir: "selfhost" }),
        expect: [["homelab:docker.dataDir", /absolute/]],
    },
    {
        name: "docker host not unix or ssh",
        change: (c) => (c["homelab:docker"] = { ...c["homelab:docker"], host: "tcp://0.0.0.0:2375" }),
        expect: [["homelab:docker.host"]],
    },
    {
        name: "two services on one hostname",
        change: (c) => (svc(c)["media"] = { image: "jellyfin/jellyfin:10.10.7", port: 8096, hostname: "jellyfin" }),
        expect: [["homelab:services.media", /jellyfin\.home\.example\.dev is already used by service jellyfin/]],
    },
    {
        name: "public name collides with the private apex",
        change: (c) => (svc(c)["home"] = { image: "nginx:1.29.3", port: 80, expose: ["public"] }),
        expect: [["homelab:services.home", /home\.example\.dev is already used/]],
    },
    {
        name: "two apex services",
        change: (c) => (svc(c)["gatus"].apex = true),
        expect: [["homelab:services", /only one service may be the apex.*dashboard, gatus/]],
    },
    {
        name: "port out of range",
        change: (c) => (svc(c)["jellyfin"].port = 70000),
        expect: [["homelab:services.jellyfin.port", /1-65535/]],
    },
    {
        name: "port as a string",
        change: (c) => (svc(c)["jellyfin"].port = "8096"),
        expect: [["homelab:services.jellyfin.port", /number/]],
    },
    {
        name: "managed service without port",
        change: (c) => delete svc(c)["sonarr"].port,
        expect: [["homelab:services.sonarr.port", /required/]],
    },
    {
        name: "upstream without a port",
        change: (c) => (svc(c)["llm"].upstream = "immich-server"),
        expect: [["homelab:services.llm.upstream", /host:port/]],
    },
    {
        name: "upstream with a bad port",
        change: (c) => (svc(c)["llm"].upstream = "host.docker.internal:99999"),
        expect: [["homelab:services.llm.upstream"]],
    },
    {
        name: "both image and upstream",
        change: (c) => (svc(c)["llm"].image = "ghcr.io/immich-app/immich-server:v2.2.3"),
        expect: [["homelab:services.llm", /either image \+ port .* or upstream/]],
    },
    {
        name: "neither image nor upstream",
        change: (c) => (svc(c)["ghost"] = { port: 2368 }),
        expect: [["homelab:services.ghost", /needs image \+ port/]],
    },
    {
        name: "unpinned image",
        change: (c) => (svc(c)["jellyfin"].image = "jellyfin/jellyfin"),
        expect: [["homelab:services.jellyfin.image", /not pinned/]],
    },
    {
        name: "image on latest",
        change: (c) => (svc(c)["jellyfin"].image = "jellyfin/jellyfin:latest"),
        expect: [["homelab:services.jellyfin.image", /latest/]],
    },
    {
        name: "service name not a DNS label",
        change: (c) =>
            (svc(c)["Home_Assistant"] = { image: "ghcr.io/home-assistant/home-assistant:2025.10.4", port: 8123 }),
        expect: [["homelab:services.Home_Assistant", /DNS label/]],
    },
    {
        name: "service takes an infrastructure container's name",
        change: (c) => (svc(c)["caddy"] = { image: "nginx:1.29.3", port: 80 }),
        expect: [["homelab:services.caddy", /stack's own containers/]],
    },
    {
        name: "unknown plane",
        change: (c) => (svc(c)["cloud"].expose = ["private", "wan"]),
        expect: [["homelab:services.cloud.expose[1]", /private, mtls, public/]],
    },
    {
        name: "an external service with no plane",
        change: (c) => (svc(c)["llm"].expose = []),
        expect: [["homelab:services.llm.expose", /internal\) is for containers this stack runs/]],
    },
    {
        name: "mtls and public together",
        change: (c) => (svc(c)["cloud"].expose = ["mtls", "public"]),
        expect: [["homelab:services.cloud.expose", /bypass the client certificate/]],
    },
    {
        name: "access on a non-public service",
        change: (c) => (svc(c)["cloud"].access = { emails: ["me@example.dev"] }),
        expect: [["homelab:services.cloud.access", /public plane/]],
    },
    {
        name: "access with a bad email",
        change: (c) => (svc(c)["blog"].access = { emails: ["not-an-email"] }),
        expect: [["homelab:services.blog.access.emails[0]", /email/]],
    },
    {
        name: "empty access",
        change: (c) => (svc(c)["blog"].access = {}),
        expect: [["homelab:services.blog.access", /at least one/]],
    },
    {
        name: "mtls without wan.publicIp",
        change: (c) => delete c["homelab:wan"],
        expect: [["homelab:wan.publicIp", /service cloud exposes mtls/]],
    },
    {
        name: "wan.publicIp is private",
        change: (c) => (c["homelab:wan"] = { publicIp: "192.168.1.1" }),
        expect: [["homelab:wan.publicIp", /public address/]],
    },
    {
        name: "secretEnv naming a secret that is not set",
        change: (c) => (svc(c)["vault"].secretEnv = { ADMIN_TOKEN: "nope" }),
        expect: [["homelab:services.vault.secretEnv.ADMIN_TOKEN", /homelab:secrets\.nope/]],
    },
    {
        name: "bad volume",
        change: (c) => (svc(c)["jellyfin"].volumes = ["media"]),
        expect: [["homelab:services.jellyfin.volumes[0]", /host\/path:\/container\/path/]],
    },
    {
        name: "env value not a string",
        change: (c) => (svc(c)["sonarr"].env = { PUID: 501 }),
        expect: [["homelab:services.sonarr.env.PUID", /string/]],
    },
    {
        name: "unknown service setting",
        change: (c) => (svc(c)["jellyfin"].ports = [8096]),
        expect: [["homelab:services.jellyfin.ports", /not a known setting/]],
    },
    {
        name: "port on an external service",
        change: (c) => (svc(c)["llm"].port = 2283),
        expect: [["homelab:services.llm.port", /managed services/]],
    },
    {
        name: "duplicate users",
        change: (c) => c["homelab:users"].push({ name: "dave" }),
        expect: [["homelab:users[3].name", /listed twice/]],
    },
    {
        name: "user name unsafe as a file name",
        change: (c) => (c["homelab:users"][0].name = "../etc/passwd"),
        expect: [["homelab:users[0].name", /file name/]],
    },
    {
        name: "user name with spaces and capitals",
        change: (c) => (c["homelab:users"][0].name = "Dave Smith"),
        expect: [["homelab:users[0].name"]],
    },
    {
        name: "validityDays 0",
        change: (c) => (c["homelab:users"][1].validityDays = 0),
        expect: [["homelab:users[1].validityDays", /1-825/]],
    },
    {
        name: "validityDays 826",
        change: (c) => (c["homelab:users"][1].validityDays = 826),
        expect: [["homelab:users[1].validityDays", /1-825/]],
    },
    {
        name: "acme email invalid",
        change: (c) => (c["homelab:acme"] = { email: "admin" }),
        expect: [["homelab:acme.email", /e-mail/]],
    },
    {
        name: "propagation timeout not a duration",
        change: (c) => (c["homelab:acme"] = { email: "a@example.dev", propagationTimeout: "5 minutes" }),
        expect: [["homelab:acme.propagationTimeout", /duration/]],
    },
    {
        name: "token expiry not RFC 3339",
        change: (c) => (c["homelab:dnsToken"] = { expiresOn: "next year" }),
        expect: [["homelab:dnsToken.expiresOn", /RFC 3339/]],
    },

    // --- Values checked against the grammar and meaning of where they land (issue: hardening).
    // Caddyfile tokens: placeholders would pull the DNS-01 token into a value sent elsewhere.
    {
        name: "acme email with a runtime placeholder (leaks the DNS-01 token to the ACME server)",
        change: (c) => acme(c, { email: "{env.CLOUDFLARE_API_TOKEN}@example.dev" }),
        expect: [["homelab:acme.email"]],
    },
    {
        name: "acme email with an adapt-time placeholder",
        change: (c) => acme(c, { email: "a{$CLOUDFLARE_API_TOKEN}@example.dev" }),
        expect: [["homelab:acme.email"]],
    },
    {
        name: "acme email with a space and a comment",
        change: (c) => acme(c, { email: "me #x@example.dev" }),
        expect: [["homelab:acme.email"]],
    },
    {
        name: "acme directory with a placeholder in its path",
        change: (c) => acme(c, { ca: "https://acme.evil.example/{env.CLOUDFLARE_API_TOKEN}" }),
        expect: [["homelab:acme.ca", /https/]],
    },
    {
        name: "acme directory with credentials",
        change: (c) => acme(c, { ca: "https://user:pw@acme.example.org/directory" }),
        expect: [["homelab:acme.ca"]],
    },
    {
        name: "acme directory over plain http",
        change: (c) => acme(c, { ca: "http://acme.example.org/directory" }),
        expect: [["homelab:acme.ca"]],
    },
    // Go durations.
    {
        name: "propagation timeout that overflows a Go duration",
        change: (c) => acme(c, { propagationTimeout: "9999999999999h" }),
        expect: [["homelab:acme.propagationTimeout", /not a duration/]],
    },
    {
        name: "propagation timeout of zero",
        change: (c) => acme(c, { propagationTimeout: "0s" }),
        expect: [["homelab:acme.propagationTimeout", /between 10s and 1h/]],
    },
    {
        name: "propagation timeout of a day",
        change: (c) => acme(c, { propagationTimeout: "1d" }),
        expect: [["homelab:acme.propagationTimeout", /between/]],
    },
    {
        name: "healthcheck interval in days (Docker takes Go durations)",
        change: (c) => (svc(c)["vault"].healthcheck = { test: ["CMD", "true"], interval: "1d" }),
        expect: [["homelab:services.vault.healthcheck.interval", /not a duration/]],
    },
    {
        name: "healthcheck timeout below a second",
        change: (c) => (svc(c)["vault"].healthcheck = { test: ["CMD", "true"], timeout: "500ms" }),
        expect: [["homelab:services.vault.healthcheck.timeout", /between 1s/]],
    },
    {
        name: "healthcheck test without CMD",
        change: (c) => (svc(c)["vault"].healthcheck = { test: ["curl", "-f", "http://localhost/"] }),
        expect: [["homelab:services.vault.healthcheck.test", /CMD/]],
    },
    // Resolvers.
    {
        name: "resolver that is the unspecified address",
        change: (c) => acme(c, { resolvers: ["0.0.0.0"] }),
        expect: [["homelab:acme.resolvers[0]", /unspecified/]],
    },
    {
        name: "resolver that is loopback, IPv4-mapped",
        change: (c) => acme(c, { resolvers: ["::ffff:127.0.0.1"] }),
        expect: [["homelab:acme.resolvers[0]", /loopback/]],
    },
    {
        name: "resolver with an IPv6 zone id",
        change: (c) => acme(c, { resolvers: ["fe80::1%en0"] }),
        expect: [["homelab:acme.resolvers[0]", /zone/]],
    },
    {
        name: "resolver listed twice",
        change: (c) => acme(c, { resolvers: ["1.1.1.1", "1.1.1.1"] }),
        expect: [["homelab:acme.resolvers[1]", /twice/]],
    },
    // DNS limits.
    {
        name: "domain longer than 253 characters",
        change: (c) =>
            (c["homelab:domain"] =
                `${"a".repeat(60)}.${"b".repeat(60)}.${"c".repeat(60)}.${"d".repeat(60)}.${"e".repeat(10)}.dev`),
        expect: [["homelab:domain", /253/]],
    },
    {
        name: "domain label longer than 63 characters",
        change: (c) => (c["homelab:domain"] = `${"a".repeat(64)}.dev`),
        expect: [["homelab:domain", /63/]],
    },
    {
        name: "domain of one label",
        change: (c) => (c["homelab:domain"] = "localhost"),
        expect: [["homelab:domain", /two labels/]],
    },
    {
        name: "subdomain that makes the wildcard name too long",
        change: (c) => {
            c["homelab:domain"] = `${"a".repeat(62)}.${"b".repeat(62)}.${"c".repeat(62)}.dev`;
            c["homelab:private"] = { subdomain: `${"h".repeat(60)}.y` };
        },
        expect: [["homelab:private.subdomain", /253/]],
    },
    {
        name: "service name that makes its private name too long",
        change: (c) => {
            c["homelab:domain"] = `${"a".repeat(62)}.${"b".repeat(62)}.${"c".repeat(62)}.dev`;
            c["homelab:private"] = { subdomain: "h" };
            svc(c)["x".repeat(60)] = { image: "nginx:1.29.3", port: 80 };
        },
        expect: [["homelab:services." + "x".repeat(60), /253/]],
    },
    // Addresses.
    {
        name: "tailnet IPv6 with a zone id",
        change: (c) => (c["homelab:tailnet"] = { ipv4: "100.101.102.103", ipv6: "fd7a:115c:a1e0::1234%utun3" }),
        expect: [["homelab:tailnet.ipv6", /zone/]],
    },
    {
        name: "tailnet IPv4 that is the range's network address",
        change: (c) => (c["homelab:tailnet"] = { ipv4: "100.64.0.0" }),
        expect: [["homelab:tailnet.ipv4", /network or broadcast/]],
    },
    {
        name: "wan address that is unspecified",
        change: (c) => (c["homelab:wan"] = { publicIp: "0.0.0.0" }),
        expect: [["homelab:wan.publicIp", /public address/]],
    },
    {
        name: "wan address in reserved space",
        change: (c) => (c["homelab:wan"] = { publicIp: "240.0.0.1" }),
        expect: [["homelab:wan.publicIp", /reserved/]],
    },
    {
        name: "wan address in CGNAT space",
        change: (c) => (c["homelab:wan"] = { publicIp: "100.70.0.1" }),
        expect: [["homelab:wan.publicIp", /CGNAT/]],
    },
    {
        name: "the removed wan.proxyProtocol",
        change: (c) => (c["homelab:wan"] = { publicIp: "203.0.113.7", proxyProtocol: true }),
        expect: [["homelab:wan.proxyProtocol", /was removed.*natively on the Mac/]],
    },
    // Where the edge listens.
    {
        name: "listen address that binds everywhere (IPv4)",
        change: (c) => dock(c, { listenAddresses: ["0.0.0.0"] }),
        expect: [["homelab:docker.listenAddresses[0]", /every address/]],
    },
    {
        name: "a tailnet IPv6 address with the Linux edge, on an engine not said to keep IPv6 clients' addresses",
        change: (c) => dock(c, { runtime: "linux", listenAddresses: ["192.168.1.20"] }),
        expect: [["homelab:tailnet.ipv6", /docker\.ip6tables: true/]],
    },
    {
        name: "an IPv6 listen address with the Linux edge, without ip6tables",
        change: (c) => {
            c["homelab:trustedNetworks"] = ["192.168.1.0/24", "fd12::/64"];
            c["homelab:tailnet"] = { ipv4: "100.101.102.103" };
            dock(c, { runtime: "linux", listenAddresses: ["fd12::20"] });
        },
        expect: [["homelab:docker.listenAddresses[0]", /Docker Engine 27/]],
    },
    {
        name: "a trusted network inside the edge network's IPv6 range",
        change: (c) => (c["homelab:trustedNetworks"] = ["192.168.1.0/24", "fd68:6c62:ac1e::/48"]),
        expect: [["homelab:trustedNetworks[1]", /edge network takes its IPv6 addresses/]],
    },
    {
        name: "ip6tables not a boolean",
        change: (c) => dock(c, { ip6tables: "yes" }),
        expect: [["homelab:docker.ip6tables", /true or false/]],
    },
    {
        name: "ip6tables on a Mac runtime (the native edge sees IPv6 clients already)",
        change: (c) => dock(c, { ip6tables: true }),
        expect: [["homelab:docker.ip6tables", /Linux edge only/]],
    },
    {
        name: "listen address that binds everywhere (IPv6)",
        change: (c) => dock(c, { listenAddresses: ["::"] }),
        expect: [["homelab:docker.listenAddresses[0]", /every address/]],
    },
    {
        name: "listen address that is the WAN address",
        change: (c) => dock(c, { listenAddresses: ["203.0.113.7"] }),
        expect: [["homelab:docker.listenAddresses[0]", /public address/]],
    },
    {
        name: "listen address listed twice",
        change: (c) => dock(c, { listenAddresses: ["192.168.1.20", "192.168.1.20"] }),
        expect: [["homelab:docker.listenAddresses[1]", /twice/]],
    },
    {
        name: "listen address outside every trusted network",
        change: (c) => dock(c, { listenAddresses: ["10.9.9.9"] }),
        expect: [["homelab:docker.listenAddresses[0]", /trustedNetworks/]],
    },
    {
        name: "listen address that is loopback",
        change: (c) => dock(c, { listenAddresses: ["127.0.0.1"] }),
        expect: [["homelab:docker.listenAddresses[0]", /loopback/]],
    },
    {
        name: "listen address that is the tailnet address",
        change: (c) => dock(c, { listenAddresses: ["100.101.102.103"] }),
        expect: [["homelab:docker.listenAddresses[0]", /tailnet address/]],
    },
    // The Docker side.
    {
        name: "docker host over plain tcp",
        change: (c) => dock(c, { host: "tcp://192.168.1.20:2375" }),
        expect: [["homelab:docker.host", /no authentication/]],
    },
    {
        name: "docker host ssh URL with a path",
        change: (c) => dock(c, { host: "ssh://me@mac/extra" }),
        expect: [["homelab:docker.host", /no path/]],
    },
    {
        name: "docker host ssh URL whose host is an ssh option",
        change: (c) => dock(c, { host: "ssh://me@-oProxyCommand=touch" }),
        expect: [["homelab:docker.host"]],
    },
    {
        name: "docker socket path with a colon",
        change: (c) => dock(c, { host: "unix:///var/run/docker.sock:x" }),
        expect: [["homelab:docker.host"]],
    },
    {
        name: "data dir with a colon (breaks -v src:dst)",
        change: (c) => dock(c, { dataDir: "/Users/me/self:host" }),
        expect: [["homelab:docker.dataDir", /:/]],
    },
    {
        name: "data dir with .. in it",
        change: (c) => dock(c, { dataDir: "/Users/me/../../etc" }),
        expect: [["homelab:docker.dataDir", /normalised/]],
    },
    {
        name: "data dir that is /",
        change: (c) => dock(c, { dataDir: "/" }),
        expect: [["homelab:docker.dataDir", /not be \//]],
    },
    {
        name: "data dir with a quote",
        change: (c) => dock(c, { dataDir: "/Users/me/it's" }),
        expect: [["homelab:docker.dataDir"]],
    },
    {
        name: "subnet smaller than a /24",
        change: (c) => dock(c, { subnet: "172.30.0.0/25" }),
        expect: [["homelab:docker.subnet", /\/24 or larger/]],
    },
    {
        name: "subnet in CGNAT space",
        change: (c) => dock(c, { subnet: "100.100.0.0/24" }),
        expect: [["homelab:docker.subnet", /RFC 1918/]],
    },
    {
        name: "trusted network overlapping Colima's VM network on colima",
        change: (c) => {
            dock(c, { runtime: "colima" });
            c["homelab:trustedNetworks"] = ["192.168.5.0/24"];
        },
        expect: [["homelab:trustedNetworks[0]", /colima's VM network/]],
    },
    {
        name: "trusted network in Docker's default address pool",
        change: (c) => (c["homelab:trustedNetworks"] = ["172.18.0.0/16"]),
        expect: [["homelab:trustedNetworks[0]", /default address pool/]],
    },
    // Upstreams that would point the proxy at itself.
    {
        name: "upstream at localhost (Caddy's own admin API)",
        change: (c) => (svc(c)["llm"].upstream = "localhost:2019"),
        expect: [["homelab:services.llm.upstream", /admin API/]],
    },
    {
        name: "upstream at 127.0.0.1",
        change: (c) => (svc(c)["llm"].upstream = "127.0.0.1:2019"),
        expect: [["homelab:services.llm.upstream", /loopback/]],
    },
    {
        name: "upstream at [::1]",
        change: (c) => (svc(c)["llm"].upstream = "[::1]:2019"),
        expect: [["homelab:services.llm.upstream", /loopback/]],
    },
    {
        name: "upstream at an IPv4-mapped loopback",
        change: (c) => (svc(c)["llm"].upstream = "[::ffff:127.0.0.1]:2019"),
        expect: [["homelab:services.llm.upstream", /loopback/]],
    },
    {
        name: "upstream at the stack's own Caddy",
        change: (c) => (svc(c)["llm"].upstream = "caddy:8443"),
        expect: [["homelab:services.llm.upstream", /stack's own containers/]],
    },
    {
        name: "upstream at the link-local metadata address",
        change: (c) => (svc(c)["llm"].upstream = "169.254.169.254:80"),
        expect: [["homelab:services.llm.upstream", /link-local/]],
    },
    {
        name: "upstream at the unspecified address",
        change: (c) => (svc(c)["llm"].upstream = "0.0.0.0:80"),
        expect: [["homelab:services.llm.upstream", /unspecified/]],
    },
    // IPv4-mapped IPv6 forms are dialled as the IPv4 address inside them.
    {
        name: "upstream at the metadata address, IPv4-mapped",
        change: (c) => (svc(c)["llm"].upstream = "http://[::ffff:169.254.169.254]:80"),
        expect: [["homelab:services.llm.upstream", /link-local/]],
    },
    {
        name: "upstream at the unspecified address, IPv4-mapped (the proxy's own loopback)",
        change: (c) => (svc(c)["llm"].upstream = "[::ffff:0.0.0.0]:2019"),
        expect: [["homelab:services.llm.upstream", /unspecified.*own loopback/]],
    },
    {
        name: "forward auth at the unspecified address, IPv4-mapped",
        change: (c) => (svc(c)["llm"].forwardAuth = { upstream: "[::ffff:0.0.0.0]:2019" }),
        expect: [["homelab:services.llm.forwardAuth.upstream", /unspecified/]],
    },
    // Mounts.
    {
        name: "volume that mounts the Docker socket",
        change: (c) => (svc(c)["gatus"].volumes = ["/var/run/docker.sock:/var/run/docker.sock:ro"]),
        expect: [["homelab:services.gatus.volumes[0]", /container engine/]],
    },
    {
        name: "volume that mounts the stack's data dir (Caddy's keys)",
        change: (c) => (svc(c)["gatus"].volumes = ["/Users/me/selfhost:/data"]),
        expect: [["homelab:services.gatus.volumes[0]", /Caddy's certificates/]],
    },
    {
        name: "volume that mounts the edge's key directory",
        change: (c) => (svc(c)["gatus"].volumes = ["/Users/me/selfhost/edge:/e:ro"]),
        expect: [["homelab:services.gatus.volumes[0]", /edge's key/]],
    },
    {
        name: "volume of the host's whole filesystem",
        change: (c) => (svc(c)["gatus"].volumes = ["/:/rootfs:ro"]),
        expect: [["homelab:services.gatus.volumes[0]", /host's \//]],
    },
    {
        name: "volume of /proc read-only (other containers' secrets in their environments)",
        change: (c) => (svc(c)["gatus"].volumes = ["/proc:/host/proc:ro"]),
        expect: [["homelab:services.gatus.volumes[0]", /\/proc/]],
    },
    {
        name: "volume of one process's root under /proc",
        change: (c) => (svc(c)["gatus"].volumes = ["/proc/1/root:/r"]),
        expect: [["homelab:services.gatus.volumes[0]", /\/proc/]],
    },
    {
        name: "volume of the whole /etc",
        change: (c) => (svc(c)["gatus"].volumes = ["/etc/:/host-etc:ro"]),
        expect: [["homelab:services.gatus.volumes[0]", /\/etc/]],
    },
    {
        name: "volume of /var (holds the engine's socket and state)",
        change: (c) => (svc(c)["gatus"].volumes = ["/var:/v"]),
        expect: [["homelab:services.gatus.volumes[0]", /container engine|container's files/]],
    },
    {
        name: "volume of the engine's volumes",
        change: (c) => (svc(c)["gatus"].volumes = ["/var/lib/docker/volumes:/v"]),
        expect: [["homelab:services.gatus.volumes[0]", /every container's files/]],
    },
    {
        name: "volume of a rootless engine's socket folder",
        change: (c) => (svc(c)["gatus"].volumes = ["/run/user/1000:/xdg"]),
        expect: [["homelab:services.gatus.volumes[0]", /container engine/]],
    },
    {
        name: "volume of Docker Desktop's socket folder on the Mac",
        change: (c) => (svc(c)["gatus"].volumes = ["/Users/me/.docker/run:/d"]),
        expect: [["homelab:services.gatus.volumes[0]", /container engine/]],
    },
    {
        name: "volume of the socket docker.host names",
        change: (c) => {
            dock(c, { host: "unix:///opt/engine/engine.sock" });
            svc(c)["gatus"].volumes = ["/opt/engine:/e"];
        },
        expect: [["homelab:services.gatus.volumes[0]", /\/opt\/engine\/engine\.sock/]],
    },
    {
        name: "volume of the data dir's keys in other letter case (a Mac's file system ignores case)",
        change: (c) => (svc(c)["gatus"].volumes = ["/users/ME/SelfHost/Caddy:/c:ro"]),
        expect: [["homelab:services.gatus.volumes[0]", /Caddy's certificates/]],
    },
    {
        name: "volume of the data dir through the Mac's data volume path",
        change: (c) => (svc(c)["gatus"].volumes = ["/System/Volumes/Data/Users/me/selfhost/edge:/e"]),
        expect: [["homelab:services.gatus.volumes[0]", /edge's key/]],
    },
    {
        name: "volume of the engine's socket through /private on the Mac",
        change: (c) => (svc(c)["gatus"].volumes = ["/private/var/run/docker.sock:/s"]),
        expect: [["homelab:services.gatus.volumes[0]", /container engine/]],
    },
    {
        name: "volume of a whole home folder",
        change: (c) => (svc(c)["gatus"].volumes = ["/Users/me:/home"]),
        expect: [["homelab:services.gatus.volumes[0]", /home folder/]],
    },
    {
        name: "volume of SSH keys",
        change: (c) => (svc(c)["gatus"].volumes = ["/Users/me/.ssh:/keys:ro"]),
        expect: [["homelab:services.gatus.volumes[0]", /SSH keys/]],
    },
    {
        name: "volume of containerd's socket folder",
        change: (c) => (svc(c)["gatus"].volumes = ["/run/containerd:/c"]),
        expect: [["homelab:services.gatus.volumes[0]", /container engine/]],
    },
    {
        name: "volume of the rootless engine's socket through /var/run",
        change: (c) => (svc(c)["gatus"].volumes = ["/var/run/user/1000/docker.sock:/d.sock"]),
        expect: [["homelab:services.gatus.volumes[0]", /container engine/]],
    },
    {
        name: "volume of Podman's socket",
        change: (c) => (svc(c)["gatus"].volumes = ["/run/podman/podman.sock:/p.sock"]),
        expect: [["homelab:services.gatus.volumes[0]", /container engine/]],
    },
    {
        name: "volume of cron jobs, writable",
        change: (c) => (svc(c)["gatus"].volumes = ["/etc/cron.d:/cron"]),
        expect: [["homelab:services.gatus.volumes[0]", /read-only \(:ro\)/]],
    },
    {
        name: "volume of the host's programs, writable",
        change: (c) => (svc(c)["gatus"].volumes = ["/usr/local/bin:/bin2"]),
        expect: [["homelab:services.gatus.volumes[0]", /read-only \(:ro\)/]],
    },
    {
        name: "volume of cgroups, writable",
        change: (c) => (svc(c)["gatus"].volumes = ["/sys/fs/cgroup:/cg"]),
        expect: [["homelab:services.gatus.volumes[0]", /kernel's control surface/]],
    },
    {
        name: "volume of the SSH host keys, even read-only",
        change: (c) => (svc(c)["gatus"].volumes = ["/etc/ssh:/keys:ro"]),
        expect: [["homelab:services.gatus.volumes[0]", /SSH host keys/]],
    },
    {
        name: "volume of the password hashes, even read-only",
        change: (c) => (svc(c)["gatus"].volumes = ["/etc/shadow:/s:ro"]),
        expect: [["homelab:services.gatus.volumes[0]", /password hashes/]],
    },
    {
        name: "volume of the whole /usr",
        change: (c) => (svc(c)["gatus"].volumes = ["/usr:/u:ro"]),
        expect: [["homelab:services.gatus.volumes[0]", /\/usr/]],
    },
    {
        name: "volume of the Mac's boot volume alias",
        change: (c) => (svc(c)["gatus"].volumes = ["/Volumes/Macintosh HD/Users/me/.ssh:/k:ro"]),
        expect: [["homelab:services.gatus.volumes[0]", /SSH keys/]],
    },
    {
        name: "volume of /private on the Mac",
        change: (c) => (svc(c)["gatus"].volumes = ["/private:/p:ro"]),
        expect: [["homelab:services.gatus.volumes[0]", /Mac's \/etc/]],
    },
    {
        name: "volume with a compatibility letter (ſ folds to s on a Mac)",
        change: (c) => (svc(c)["gatus"].volumes = ["/Users/me/.ſsh:/k:ro"]),
        expect: [["homelab:services.gatus.volumes[0]", /SSH keys/]],
    },
    {
        name: "volume with an unknown mode",
        change: (c) => (svc(c)["gatus"].volumes = ["/Users/me/selfhost/gatus:/config:z"]),
        expect: [["homelab:services.gatus.volumes[0]", /neither ro nor rw/]],
    },
    {
        name: "volume over the container's root",
        change: (c) => (svc(c)["gatus"].volumes = ["/Users/me/selfhost/gatus:/"]),
        expect: [["homelab:services.gatus.volumes[0]", /container's \//]],
    },
    {
        name: "volume host path with ..",
        change: (c) => (svc(c)["gatus"].volumes = ["/Users/me/selfhost/gatus/../caddy:/config"]),
        expect: [["homelab:services.gatus.volumes[0]", /normalised/]],
    },
    // Environment.
    {
        name: "env name with a hyphen",
        change: (c) => (svc(c)["sonarr"].env = { "BAD-NAME": "1" }),
        expect: [["homelab:services.sonarr.env.BAD-NAME", /variable name/]],
    },
    {
        name: "env value with a NUL",
        change: (c) => (svc(c)["sonarr"].env = { TZ: "Europe/London\u0000x" }),
        expect: [["homelab:services.sonarr.env.TZ", /NUL/]],
    },
    // Dates and token limits.
    {
        name: "token expiry in the past",
        change: (c) => (c["homelab:dnsToken"] = { expiresOn: "2020-01-01T00:00:00Z" }),
        expect: [["homelab:dnsToken.expiresOn", /in the past/]],
    },
    {
        name: "token expiry on a day that does not exist",
        change: (c) => (c["homelab:dnsToken"] = { expiresOn: "2030-02-30T00:00:00Z" }),
        expect: [["homelab:dnsToken.expiresOn", /exists/]],
    },
    {
        name: "token limited to a private network (Cloudflare never sees it)",
        change: (c) => (c["homelab:dnsToken"] = { allowedIps: ["192.168.1.0/24"] }),
        expect: [["homelab:dnsToken.allowedIps[0]", /not public/]],
    },
    {
        name: "token limited to every address",
        change: (c) => (c["homelab:dnsToken"] = { allowedIps: ["0.0.0.0/0"] }),
        expect: [["homelab:dnsToken.allowedIps[0]", /every address/]],
    },

    // --- The service table's breadth: internal services, https upstreams, ports, dependencies, auth.
    {
        name: "an internal service with a hostname",
        change: (c) => (svc(c)["immich-redis"].hostname = "cache"),
        expect: [["homelab:services.immich-redis.hostname", /internal/]],
    },
    {
        name: "an internal service as the apex",
        change: (c) => (svc(c)["immich-redis"].apex = true),
        expect: [["homelab:services.immich-redis.apex", /internal/]],
    },
    {
        name: "an internal service with Access",
        change: (c) => (svc(c)["immich-redis"].access = { emails: ["me@example.dev"] }),
        expect: [["homelab:services.immich-redis.access", /internal/]],
    },
    {
        name: "an internal service needed by a public and a private service (a bridge between the segments)",
        change: (c) => {
            svc(c)["shared-db"] = { image: "postgres:16.10", port: 5432, expose: [] };
            svc(c)["blog"].dependsOn = ["shared-db"];
            svc(c)["vault"].dependsOn = ["shared-db"];
        },
        expect: [["homelab:services.shared-db", /both public and private services \(through blog, vault\)/]],
    },
    {
        name: "a public service whose upstream is a private container (cloudflared cannot reach it)",
        change: (c) => (svc(c)["wiki"] = { upstream: "jellyfin:8096", expose: ["public"] }),
        expect: [["homelab:services.wiki.upstream", /"jellyfin" is a container of this stack on the private network/]],
    },
    {
        name: "a public service whose upstream is an internal container",
        change: (c) => (svc(c)["dbadmin"] = { upstream: "immich-postgres:5432", expose: ["public"] }),
        expect: [
            [
                "homelab:services.dbadmin.upstream",
                /"immich-postgres" is a container of this stack on the private network/,
            ],
        ],
    },
    {
        name: "a public service that serves a container behind Access again, without Access",
        change: (c) => (svc(c)["blog-mirror"] = { upstream: "blog:2368", expose: ["public"] }),
        expect: [["homelab:services.blog-mirror.upstream", /"blog" is behind Cloudflare Access.*without Access/]],
    },
    {
        name: "a public service that serves a container behind Access again, with another list",
        change: (c) =>
            (svc(c)["blog-mirror"] = {
                upstream: "blog:2368",
                expose: ["public"],
                access: { emails: ["someone-else@example.dev"] },
            }),
        expect: [["homelab:services.blog-mirror.upstream", /another access list/]],
    },
    {
        name: "the same bridge through another internal service",
        change: (c) => {
            svc(c)["cache"] = { image: "valkey/valkey:8.1.4", port: 6379, expose: [] };
            svc(c)["shared-db"] = { image: "postgres:16.10", port: 5432, expose: [], dependsOn: ["cache"] };
            svc(c)["blog"].dependsOn = ["shared-db"];
            svc(c)["vault"].dependsOn = ["cache"];
        },
        expect: [["homelab:services.cache", /both public and private/]],
    },
    {
        name: "an internal service behind forward auth",
        change: (c) => (svc(c)["immich-redis"].forwardAuth = { upstream: "auth:9091" }),
        expect: [["homelab:services.immich-redis.forwardAuth", /internal/]],
    },
    {
        name: "an upstream with another scheme",
        change: (c) => (svc(c)["pve"].upstream = "ftp://192.168.1.10:21"),
        expect: [["homelab:services.pve.upstream", /https:\/\/host:port/]],
    },
    {
        name: "an upstream URL with a path",
        change: (c) => (svc(c)["pve"].upstream = "https://192.168.1.10:8006/ui"),
        expect: [["homelab:services.pve.upstream"]],
    },
    {
        name: "upstreamTls on a plain-HTTP upstream",
        change: (c) => (svc(c)["llm"].upstreamTls = { insecureSkipVerify: true }),
        expect: [["homelab:services.llm.upstreamTls", /https:\/\/ upstreams/]],
    },
    {
        name: "upstreamTls that says nothing",
        change: (c) => (svc(c)["pve"].upstreamTls = {}),
        expect: [["homelab:services.pve.upstreamTls", /says nothing/]],
    },
    {
        name: "upstreamTls that skips verification and names a CA",
        change: (c) => (svc(c)["pve"].upstreamTls = { insecureSkipVerify: true, ca: "x" }),
        expect: [["homelab:services.pve.upstreamTls", /verifies nothing/]],
    },
    {
        name: "upstreamTls with a CA that is not a certificate",
        change: (c) => (svc(c)["pve"].upstreamTls = { ca: "hello" }),
        expect: [["homelab:services.pve.upstreamTls.ca", /PEM certificate/]],
    },
    {
        name: "upstreamTls with a private key in the CA",
        change: (c) =>
            (svc(c)["pve"].upstreamTls = {
                ca: "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n",
            }),
        expect: [["homelab:services.pve.upstreamTls.ca", /private key/]],
    },
    {
        name: "upstreamTls with a CA whose serial number is negative (Node reads it; Caddy and cloudflared refuse the pool)",
        change: (c) =>
            (svc(c)["pve"].upstreamTls = {
                serverName: "pve.lan",
                ca: fs.readFileSync(path.join(ROOT, "test/fixtures/negative-serial-ca.pem"), "utf8"),
            }),
        expect: [["homelab:services.pve.upstreamTls.ca", /negative serial number/]],
    },
    {
        name: "upstreamTls on a managed service",
        change: (c) => (svc(c)["jellyfin"].upstreamTls = { insecureSkipVerify: true }),
        expect: [["homelab:services.jellyfin.upstreamTls", /services with an upstream/]],
    },
    {
        name: "upstreamTls server name that is not a DNS name",
        change: (c) => (svc(c)["pve"].upstreamTls = { serverName: "pve lan" }),
        expect: [["homelab:services.pve.upstreamTls.serverName"]],
    },
    {
        name: "forward auth on a public-only service",
        change: (c) => (svc(c)["blog"].forwardAuth = { upstream: "auth:9091" }),
        expect: [["homelab:services.blog.forwardAuth", /Cloudflare Access/]],
    },
    {
        name: "forward auth with a placeholder in its uri",
        change: (c) => (svc(c)["qbittorrent"].forwardAuth.uri = "/api/{env.CLOUDFLARE_API_TOKEN}"),
        expect: [["homelab:services.qbittorrent.forwardAuth.uri"]],
    },
    {
        name: "forward auth uri without a leading slash",
        change: (c) => (svc(c)["qbittorrent"].forwardAuth.uri = "api/verify"),
        expect: [["homelab:services.qbittorrent.forwardAuth.uri", /starting with \//]],
    },
    {
        name: "forward auth to the proxy's own loopback",
        change: (c) => (svc(c)["qbittorrent"].forwardAuth.upstream = "localhost:2019"),
        expect: [["homelab:services.qbittorrent.forwardAuth.upstream", /admin API/]],
    },
    {
        name: "forward auth on a service also exposed publicly (the tunnel bypasses Caddy)",
        change: (c) => {
            svc(c)["qbittorrent"].expose = ["private", "public"];
        },
        expect: [["homelab:services.qbittorrent.forwardAuth", /tunnel without Caddy/]],
    },
    {
        name: "forward auth copying a header that opens a Caddyfile comment",
        change: (c) => (svc(c)["qbittorrent"].forwardAuth.copyHeaders = ["#Remote-User"]),
        expect: [["homelab:services.qbittorrent.forwardAuth.copyHeaders[0]", /comment/]],
    },
    {
        name: "forward auth copying a header in backticks (a Caddyfile quote)",
        change: (c) => (svc(c)["qbittorrent"].forwardAuth.copyHeaders = ["`Remote-User`"]),
        expect: [["homelab:services.qbittorrent.forwardAuth.copyHeaders[0]", /header name/]],
    },
    {
        name: "forward auth copying a header with a space",
        change: (c) => (svc(c)["qbittorrent"].forwardAuth.copyHeaders = ["Remote User"]),
        expect: [["homelab:services.qbittorrent.forwardAuth.copyHeaders[0]", /header name/]],
    },
    {
        name: "publish :443",
        change: (c) => (svc(c)["qbittorrent"].publish = ["443:8080"]),
        expect: [["homelab:services.qbittorrent.publish[0]", /belongs to the edge/]],
    },
    {
        name: "publish :80",
        change: (c) => (svc(c)["qbittorrent"].publish = ["80:8080"]),
        expect: [["homelab:services.qbittorrent.publish[0]", /belongs to the edge/]],
    },
    {
        name: "publish the relay's port on a Mac runtime",
        change: (c) => (svc(c)["qbittorrent"].publish = ["9443:9443"]),
        expect: [["homelab:services.qbittorrent.publish[0]", /belongs to the edge/]],
    },
    {
        name: "publish on the unspecified address explicitly",
        change: (c) => (svc(c)["qbittorrent"].publish = ["0.0.0.0:6881:6881"]),
        expect: [["homelab:services.qbittorrent.publish[0]", /leave the address out/]],
    },
    {
        name: "publish on an address that is not the host's",
        change: (c) => (svc(c)["qbittorrent"].publish = ["203.0.113.7:6881:6881"]),
        expect: [["homelab:services.qbittorrent.publish[0]", /not one of the host's addresses/]],
    },
    {
        name: "publish without a container port",
        change: (c) => (svc(c)["qbittorrent"].publish = ["6881"]),
        expect: [["homelab:services.qbittorrent.publish[0]", /HOST_PORT:CONTAINER_PORT/]],
    },
    {
        name: "publish with an unknown protocol",
        change: (c) => (svc(c)["qbittorrent"].publish = ["6881:6881/sctp"]),
        expect: [["homelab:services.qbittorrent.publish[0]"]],
    },
    {
        name: "two services publishing the same port",
        change: (c) => (svc(c)["jellyfin"].publish = ["6881:6881"]),
        expect: [["homelab:services.qbittorrent.publish[0]", /already published by service jellyfin/]],
    },
    {
        name: "dependsOn a service that does not exist",
        change: (c) => (svc(c)["photos"].dependsOn = ["immich-db"]),
        expect: [["homelab:services.photos.dependsOn", /"immich-db" is not a service/]],
    },
    {
        name: "dependsOn itself",
        change: (c) => (svc(c)["photos"].dependsOn = ["photos"]),
        expect: [["homelab:services.photos.dependsOn", /itself/]],
    },
    {
        name: "dependsOn an external service",
        change: (c) => (svc(c)["photos"].dependsOn = ["llm"]),
        expect: [["homelab:services.photos.dependsOn", /nothing to start first/]],
    },
    {
        name: "a dependency cycle",
        change: (c) => (svc(c)["immich-postgres"].dependsOn = ["photos"]),
        expect: [["homelab:services.immich-postgres.dependsOn", /cycle: immich-postgres → photos → immich-postgres/]],
    },
    {
        name: "a user that is not user[:group]",
        change: (c) => (svc(c)["gatus"].user = "root; id"),
        expect: [["homelab:services.gatus.user", /user\[:group\]/]],
    },
    {
        name: "a memory limit that is not a size",
        change: (c) => (svc(c)["gatus"].memory = "lots"),
        expect: [["homelab:services.gatus.memory", /size/]],
    },
    {
        name: "a memory limit below Docker's minimum",
        change: (c) => (svc(c)["gatus"].memory = "1m"),
        expect: [["homelab:services.gatus.memory", /out of range/]],
    },
    {
        name: "a shm size that is not a size",
        change: (c) => (svc(c)["immich-postgres"].shmSize = "-1"),
        expect: [["homelab:services.immich-postgres.shmSize"]],
    },
    {
        name: "a device outside /dev",
        change: (c) => (svc(c)["jellyfin"].devices = ["/etc/shadow"]),
        expect: [["homelab:services.jellyfin.devices[0]", /\/dev\//]],
    },
    {
        name: "every capability",
        change: (c) => (svc(c)["qbittorrent"].capAdd = ["ALL"]),
        expect: [["homelab:services.qbittorrent.capAdd[0]", /every capability/]],
    },
    {
        name: "a capability that mounts file systems",
        change: (c) => (svc(c)["qbittorrent"].capAdd = ["SYS_ADMIN"]),
        expect: [["homelab:services.qbittorrent.capAdd[0]", /mount file systems/]],
    },
    ...[
        ["DAC_READ_SEARCH", /any file on the host/],
        ["cap_bpf", /host's kernel/],
        ["PERFMON", /kernel/],
        ["SYSLOG", /kernel's log/],
        ["AUDIT_CONTROL", /audit/],
        ["SYS_TIME", /clock/],
        ["MAC_ADMIN", /AppArmor/],
        ["MAC_OVERRIDE", /AppArmor/],
    ].map(([cap, text]): Case => ({
        name: `the capability ${String(cap)}`,
        change: (c) => (svc(c)["qbittorrent"].capAdd = ["NET_ADMIN", cap]),
        expect: [["homelab:services.qbittorrent.capAdd[1]", text as RegExp]],
    })),
    ...[
        "/dev/sda",
        "/dev/nvme0n1:/dev/disk",
        "/dev/disk/by-id/ata-WDC",
        "/dev/mem",
        "/dev/kmsg",
        "/dev/mapper/root",
        "/dev/dri/../sda",
        "/dev/ttyUSB0x",
        "/dev/bus/usb",
        "/dev/bus/usb/001",
        "/dev/zigbee",
    ].map((dev): Case => ({
        name: `the device ${dev}`,
        change: (c) => (svc(c)["jellyfin"].devices = ["/dev/dri", dev]),
        expect: [
            [
                "homelab:services.jellyfin.devices[1]",
                /not a device a service may be given|must be \/dev\/|USB disks included/,
            ],
        ],
    })),
    {
        name: "a capability that does not exist",
        change: (c) => (svc(c)["qbittorrent"].capAdd = ["NET_SUPERPOWER"]),
        expect: [["homelab:services.qbittorrent.capAdd[0]", /not a Linux capability/]],
    },
    {
        name: "a tmpfs mount with shell in its options",
        change: (c) => (svc(c)["gatus"].tmpfs = ["/run:size=64m;reboot"]),
        expect: [["homelab:services.gatus.tmpfs[0]"]],
    },
    {
        name: "a label in Docker's namespace",
        change: (c) => (svc(c)["gatus"].labels = { "com.docker.compose.project": "x" }),
        expect: [["homelab:services.gatus.labels.com.docker.compose.project", /reserves/]],
    },
    {
        name: "an unknown restart policy",
        change: (c) => (svc(c)["gatus"].restart = "sometimes"),
        expect: [["homelab:services.gatus.restart", /unless-stopped/]],
    },
    {
        name: "a stop grace period of two hours",
        change: (c) => (svc(c)["gatus"].stopGracePeriod = "2h"),
        expect: [["homelab:services.gatus.stopGracePeriod", /between 0s and 1h/]],
    },
    {
        name: "an empty entrypoint",
        change: (c) => (svc(c)["gatus"].entrypoint = []),
        expect: [["homelab:services.gatus.entrypoint", /program/]],
    },
    {
        name: "mtls on Linux with no listed address for the router's port forward",
        change: (c) => {
            dock(c, { runtime: "linux" });
            c["homelab:tailnet"] = { ipv4: "100.101.102.103" };
        },
        expect: [["homelab:docker.listenAddresses", /router forwards :443/]],
    },
    {
        name: "a dynamic address and a service at the updater's record",
        change: (c) => {
            c["homelab:wan"] = { publicIp: "dynamic" };
            delete c["homelab:dnsToken"];
            svc(c)["router"] = { upstream: "192.168.1.1:80", hostname: "homelab-wan", expose: ["mtls"] };
        },
        expect: [["homelab:services.router", /DDNS updater/]],
    },
    {
        name: "one container port on two host addresses (Docker reports them in an order that differs between versions)",
        change: (c) =>
            (svc(c)["qbittorrent"].publish = [
                "100.101.102.103:6881:6881",
                "[fd7a:115c:a1e0::1234]:6881:6881",
                "6881:6881/udp",
            ]),
        expect: [["homelab:services.qbittorrent.publish[1]", /already published on another host address/]],
    },
    {
        name: "a compose key on an external service",
        change: (c) => (svc(c)["llm"].publish = ["1234:1234"]),
        expect: [["homelab:services.llm.publish", /managed services/]],
    },
];

describe("bad stack config", () => {
    it(`has at least 100 cases`, () => assert.ok(CASES.length >= 100));

    for (const tc of CASES) {
        it(`refuses: ${tc.name}`, async () => {
            const cfg = clone(EXAMPLE);
            tc.change(cfg);
            const run = await runProgram(cfg);
            assert.ok(run.error instanceof ConfigError, `expected a ConfigError, got ${run.error}`);
            const problems = (run.error as ConfigError).problems;
            for (const [key, text] of tc.expect) {
                const hit = problems.find((p) => p.key === key && (!text || text.test(p.message)));
                assert.ok(hit, `no problem for ${key} ${text ?? ""}; got:\n${run.error?.message}`);
                assert.ok(run.error?.message.includes(key), "the thrown message names the key");
            }
            assert.deepEqual(
                run.resources.map((r) => r.type),
                [],
                "nothing may be registered",
            );
        });
    }

    it("lists every problem at once, not just the first", async () => {
        const cfg = clone(EXAMPLE);
        cfg["homelab:domain"] = "bad..domain";
        cfg["homelab:trustedNetworks"] = ["8.8.8.0/24"];
        svc(cfg)["jellyfin"].port = 0;
        cfg["homelab:users"][0].validityDays = 9999;
        const run = await runProgram(cfg);
        const keys = (run.error as ConfigError).problems.map((p) => p.key);
        for (const k of [
            "homelab:domain",
            "homelab:trustedNetworks[0]",
            "homelab:services.jellyfin.port",
            "homelab:users[0].validityDays",
        ])
            assert.ok(keys.includes(k), k);
        assert.equal(run.resources.length, 0);
    });
});

describe("secrets written in plaintext", () => {
    const cases: { key: string; command: RegExp }[] = [
        { key: "cloudflare:apiToken", command: /pulumi config set --secret cloudflare:apiToken/ },
        { key: "homelab:secrets", command: /pulumi config set --secret --path 'homelab:secrets\.<name>'/ },
    ];
    for (const tc of cases) {
        it(`refuses ${tc.key} stored without --secret, naming the key and the command that fixes it; nothing is registered`, async () => {
            const run = await runProgram(clone(EXAMPLE), { plaintext: [tc.key] });
            assert.ok(run.error instanceof ConfigError, `expected a ConfigError, got ${run.error}`);
            const hit = (run.error as ConfigError).problems.find((p) => p.key === tc.key);
            assert.ok(hit && /plaintext/.test(hit.message) && tc.command.test(hit.message), run.error.message);
            assert.ok(
                !run.error.message.includes("bootstrap-token-SECRET") &&
                    !run.error.message.includes("admin-token-SECRET"),
                "the value itself is never repeated",
            );
            assert.deepEqual(
                run.resources.map((r) => r.type),
                [],
            );
        });
    }

    it("refuses a secret stored under any other homelab key (only homelab:secrets stays secret); the value is never repeated, nothing is registered", async () => {
        const cfg = clone(EXAMPLE);
        cfg["homelab:services"]["dashboard"].env = { API_KEY: "dashboard-key-SECRET-77" };
        const run = await runProgram(cfg, { encrypted: ["homelab:services"] });
        assert.ok(run.error instanceof ConfigError, `expected a ConfigError, got ${run.error}`);
        const hit = (run.error as ConfigError).problems.find((p) => p.key === "homelab:services");
        assert.match(hit?.message ?? "", /only homelab:secrets values stay secret.*homelab:secrets\.<name>/);
        assert.ok(!run.error.message.includes("dashboard-key-SECRET-77"));
        assert.deepEqual(run.resources, []);
    });

    it("control: both stored encrypted, the same stack runs", async () => {
        const run = await runProgram(clone(EXAMPLE), { plaintext: [] });
        assert.equal(run.error, undefined, run.error?.message);
    });
});

/** Near misses that must be accepted, each beside a refused class above: the rules are not too broad. */
const ACCEPTED: { name: string; change: (c: Cfg) => void; check?: (m: ReturnType<typeof validate>) => void }[] = [
    { name: "an e-mail with + and a subdomain", change: (c) => acme(c, { email: "admin+homelab@mail.example.dev" }) },
    {
        name: "a second public name for a container behind Access, with the same access list",
        change: (c) =>
            (svc(c)["blog-mirror"] = {
                upstream: "blog:2368",
                expose: ["public"],
                access: JSON.parse(JSON.stringify(svc(c)["blog"].access)),
            }),
    },
    {
        name: "a public upstream naming a public container without Access",
        change: (c) => {
            delete svc(c)["blog"].access;
            svc(c)["blog-mirror"] = { upstream: "blog:2368", expose: ["public"] };
        },
    },
    {
        name: "Let's Encrypt staging as the ACME directory",
        change: (c) => acme(c, { ca: "https://acme-staging-v02.api.letsencrypt.org/directory" }),
    },
    { name: "a propagation timeout of 90s and of 1.5m", change: (c) => acme(c, { propagationTimeout: "1.5m" }) },
    { name: "an IPv6 resolver", change: (c) => acme(c, { resolvers: ["2606:4700:4700::1111", "1.1.1.1"] }) },
    {
        name: "a long domain that still fits",
        change: (c) => (c["homelab:domain"] = `${"a".repeat(63)}.${"b".repeat(63)}.dev`),
    },
    {
        name: "a tailnet IPv6 in capitals (stored canonical)",
        change: (c) => (c["homelab:tailnet"] = { ipv4: "100.101.102.103", ipv6: "FD7A:115C:A1E0::1234" }),
        check: (m) => assert.equal(m.tailnet.ipv6, "fd7a:115c:a1e0::1234"),
    },
    {
        name: "a documentation WAN address (the example's placeholder)",
        change: (c) => (c["homelab:wan"] = { publicIp: "198.51.100.23" }),
    },
    {
        name: "a LAN listen address inside a trusted network",
        change: (c) => dock(c, { listenAddresses: ["192.168.1.20"] }),
        check: (m) => assert.deepEqual(m.listenAddresses, ["192.168.1.20"]),
    },
    {
        name: "IPv6 on the Linux edge, on an engine that keeps IPv6 clients' addresses",
        change: (c) => {
            c["homelab:trustedNetworks"] = ["192.168.1.0/24", "fd12::/64"];
            dock(c, { runtime: "linux", ip6tables: true, listenAddresses: ["192.168.1.20", "fd12::20"] });
        },
        check: (m) =>
            assert.deepEqual(
                [m.docker.ip6tables, m.tailnet.ipv6, m.listenAddresses],
                [true, "fd7a:115c:a1e0::1234", ["192.168.1.20", "fd12::20"]],
            ),
    },
    { name: "a docker host over SSH with a port", change: (c) => dock(c, { host: "ssh://me@mac-mini.local:2222" }) },
    {
        name: "a data dir with a space (a common macOS path)",
        change: (c) => dock(c, { dataDir: "/Users/me/My Selfhost/" }),
        check: (m) => assert.equal(m.docker.dataDir, "/Users/me/My Selfhost"),
    },
    {
        name: "the router's LAN address as an untrusted source",
        change: (c) => (c["homelab:untrustedSources"] = ["192.168.1.1", "100.64.0.0/24"]),
        check: (m) => assert.deepEqual(m.untrustedSources, ["192.168.1.1/32", "100.64.0.0/24"]),
    },
    {
        name: "a further host: its tailnet and LAN addresses untrusted at the edge, after the listed ones, once",
        change: (c) => {
            c["homelab:untrustedSources"] = ["192.168.1.1", "100.101.102.110"];
            c["homelab:hosts"] = {
                nas: {
                    docker: { host: "ssh://admin@nas", dataDir: "/srv/homelab" },
                    tailnet: { ipv4: "100.101.102.110", ipv6: "fd7a:115c:a1e0::110" },
                    addresses: ["192.168.1.30", "192.168.1.30"],
                },
            };
        },
        check: (m) =>
            assert.deepEqual(m.untrustedSources, [
                "192.168.1.1/32",
                "100.101.102.110/32",
                "fd7a:115c:a1e0::110/128",
                "192.168.1.30/32",
            ]),
    },
    {
        name: "a /16 subnet",
        change: (c) => dock(c, { subnet: "10.77.0.0/16" }),
        check: (m) => assert.equal(m.addresses.edge, "10.77.192.0/18"),
    },
    {
        name: "192.168.5.0/24 trusted when the runtime is not colima",
        change: (c) => (c["homelab:trustedNetworks"] = ["192.168.5.0/24"]),
    },
    {
        name: "an upstream on the LAN and one on the host",
        change: (c) => {
            svc(c)["llm"].upstream = "192.168.1.10:8006";
            svc(c)["pve"] = { upstream: "[fd00::10]:80" };
        },
    },
    {
        name: "volumes beside the data dir's own folders",
        change: (c) => (svc(c)["gatus"].volumes = ["/Users/me/selfhost/gatus:/config:ro", "gatus-data:/data"]),
    },
    {
        name: "one file or folder below a protected system folder",
        change: (c) =>
            (svc(c)["gatus"].volumes = [
                "/etc/localtime:/etc/localtime:ro",
                "/run/user/1000/pulse:/run/pulse",
                "/dev/shm:/dev/shm",
                "/Users/me/Movies:/media:ro",
                "/sys/class/thermal:/thermal:ro",
                "/usr/share/zoneinfo:/zoneinfo:ro",
                "/opt/appdata/gatus:/config",
                "/Volumes/Media/Movies:/movies:ro",
            ]),
    },
    {
        name: "a token limited to the home's public /29",
        change: (c) => (c["homelab:dnsToken"] = { allowedIps: ["203.0.113.0/29"], expiresOn: "2031-06-30T00:00:00Z" }),
    },
    {
        name: "an https upstream verified against its own CA and name",
        change: (c) =>
            (svc(c)["pve"].upstreamTls = {
                serverName: "pve.lan",
                ca: fs.readFileSync(path.join(ROOT, "test/fixtures/appliance-ca.pem"), "utf8"),
            }),
    },
    {
        name: "a public https upstream that skips verification (cloudflared's noTLSVerify)",
        change: (c) =>
            (svc(c)["unifi"] = {
                upstream: "https://192.168.1.2:8443",
                upstreamTls: { insecureSkipVerify: true },
                expose: ["public"],
            }),
    },
    {
        name: "an internal database a public service depends on",
        change: (c) => {
            svc(c)["ghost-db"] = { image: "mysql:8.4.6", port: 3306, expose: [] };
            svc(c)["blog"].dependsOn = ["ghost-db"];
        },
    },
    {
        name: "ports published on the tailnet address and for UDP",
        change: (c) =>
            (svc(c)["qbittorrent"].publish = [
                "100.101.102.103:6881:6881",
                "6881:6881/udp",
                "[fd7a:115c:a1e0::1234]:6882:6882",
            ]),
    },
    {
        name: "forward auth over https with no copied headers",
        change: (c) =>
            (svc(c)["qbittorrent"].forwardAuth = {
                upstream: "https://auth.internal.example:9443",
                uri: "/api/verify?rd=https://auth.home.example.dev/",
            }),
    },
    {
        name: "the compose-level settings a real app needs",
        change: (c) =>
            Object.assign(svc(c)["jellyfin"], {
                user: "1000:1000",
                memory: "2g",
                shmSize: "256m",
                devices: [
                    "/dev/dri",
                    "/dev/ttyUSB0:/dev/ttyACM0:rw",
                    "/dev/dri/renderD128",
                    "/dev/serial/by-id/usb-Silicon_Labs_CP2102-if00-port0",
                    "/dev/bus/usb/001/004",
                    "/dev/net/tun",
                    "/dev/snd",
                    "/dev/video0",
                    "/dev/hidraw1",
                    "/dev/apex_0",
                    "/dev/dvb",
                    "/dev/kvm",
                    "/dev/i2c-1",
                ],
                capAdd: ["NET_ADMIN", "cap_sys_nice", "SYS_PTRACE"],
                tmpfs: ["/transcode:size=2g"],
                entrypoint: ["/init"],
                labels: { "traefik.enable": "false" },
                restart: "always",
                stopGracePeriod: "1m",
            }),
        check: (m) => {
            const j = m.services.find((x) => x.name === "jellyfin");
            assert.ok(j && j.kind === "managed");
            assert.equal(j.memoryMb, 2048);
            assert.deepEqual(j.capAdd, ["NET_ADMIN", "SYS_NICE", "SYS_PTRACE"]);
            assert.equal(j.stopGraceSeconds, 60);
        },
    },
    {
        name: "a CMD-SHELL healthcheck with sub-minute timings",
        change: (c) =>
            (svc(c)["vault"].healthcheck = {
                test: ["CMD-SHELL", "curl -fsS http://localhost/alive || exit 1"],
                interval: "15s",
                timeout: "3s",
            }),
    },
];

describe("near misses that are accepted", () => {
    const raw = rawConfigOf;
    for (const tc of ACCEPTED) {
        it(`accepts: ${tc.name}`, () => {
            const cfg = clone(EXAMPLE);
            tc.change(cfg);
            let m: ReturnType<typeof validate> | undefined;
            try {
                m = validate(raw(cfg), EXAMPLE_SECRET_NAMES);
            } catch (e) {
                assert.fail(`refused: ${(e as Error).message}`);
            }
            tc.check?.(m);
        });
    }
});

describe("good stack config", () => {
    const raw = rawConfigOf;

    it("accepts the example and fills in defaults", () => {
        const cfg = clone(EXAMPLE);
        svc(cfg)["jellyfin"].expose = undefined;
        delete svc(cfg)["jellyfin"].expose;
        const m = validate(raw(cfg), EXAMPLE_SECRET_NAMES);
        const jf = m.services.find((s) => s.name === "jellyfin");
        assert.deepEqual(jf?.expose, ["private"], "expose defaults to [private]");
        assert.equal(m.users.find((u) => u.name === "dave")?.validityDays, 365, "validityDays defaults to 365");
        assert.deepEqual(
            m.services.map((s) => s.name),
            [...m.services.map((s) => s.name)].sort(),
            "services sorted by name",
        );
    });

    it("accepts a trusted IPv6 ULA network and the tailnet range itself", () => {
        const cfg = clone(EXAMPLE);
        cfg["homelab:trustedNetworks"] = ["192.168.1.0/24", "fd12:3456:789a::/48", "100.64.0.0/10", "10.0.0.0/8"];
        const m = validate(raw(cfg), EXAMPLE_SECRET_NAMES);
        assert.deepEqual(m.trustedNetworks, ["192.168.1.0/24", "fd12:3456:789a::/48", "100.64.0.0/10", "10.0.0.0/8"]);
    });

    it("accepts mtls on every runtime with a plain port forward (on Linux, to a listed LAN address); the edge runs natively on a Mac", () => {
        for (const runtime of ["linux", "docker-desktop", "orbstack", "colima"]) {
            const cfg = clone(EXAMPLE);
            cfg["homelab:docker"] = {
                ...cfg["homelab:docker"],
                runtime,
                ...(runtime === "linux" ? { listenAddresses: ["192.168.1.20"] } : {}),
            };
            if (runtime === "linux") cfg["homelab:tailnet"] = { ipv4: cfg["homelab:tailnet"].ipv4 };
            const m = validate(raw(cfg), EXAMPLE_SECRET_NAMES);
            assert.equal(m.edge, runtime === "linux" ? "container" : "native", runtime);
        }
    });

    it("a config error is a Pulumi RunError: reported as its message, without a stack trace", () => {
        const { RunError } = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
        try {
            validate({});
            assert.fail("expected a ConfigError");
        } catch (e) {
            assert.ok(e instanceof ConfigError);
            assert.ok(RunError.isInstance(e), "RunError.isInstance");
        }
    });

    it("accepts images pinned by digest", () => {
        const cfg = clone(EXAMPLE);
        svc(cfg)["jellyfin"].image = `jellyfin/jellyfin@sha256:${"a".repeat(64)}`;
        assert.doesNotThrow(() => validate(raw(cfg), EXAMPLE_SECRET_NAMES));
    });
});
