// Bad stack config is refused before anything is registered, with every problem listed and
// each naming its config key. Each row runs the whole program under mocks.
import { strict as assert } from "assert";
import { EXAMPLE, clone, runProgram } from "./harness";
import { ConfigError, validate } from "../stacks/validate";

type Cfg = Record<string, any>;
interface Case {
    name: string;
    change: (c: Cfg) => void;
    /** Every problem must be reported: each of these keys must appear, with the text if given. */
    expect: [key: string, text?: RegExp][];
}

const svc = (c: Cfg) => c["homelab:services"] as Record<string, any>;

const CASES: Case[] = [
    { name: "missing domain", change: (c) => delete c["homelab:domain"], expect: [["homelab:domain", /required/]] },
    { name: "domain not a DNS name", change: (c) => (c["homelab:domain"] = "example..dev"), expect: [["homelab:domain", /DNS name/]] },
    { name: "domain with uppercase and underscore", change: (c) => (c["homelab:domain"] = "My_Home.dev"), expect: [["homelab:domain"]] },
    { name: "zone id not hex", change: (c) => (c["homelab:zoneId"] = "not-a-zone"), expect: [["homelab:zoneId", /32-character/]] },
    { name: "missing account id", change: (c) => delete c["homelab:accountId"], expect: [["homelab:accountId", /required/]] },
    { name: "bootstrap token missing", change: (c) => (c["cloudflare:apiToken"] = ""), expect: [["cloudflare:apiToken", /pulumi config set --secret cloudflare:apiToken/]] },
    { name: "tailnet IPv4 outside 100.64.0.0/10", change: (c) => (c["homelab:tailnet"] = { ipv4: "192.168.1.10" }), expect: [["homelab:tailnet.ipv4", /100\.64\.0\.0\/10/]] },
    { name: "tailnet IPv6 outside fd7a:115c:a1e0::/48", change: (c) => (c["homelab:tailnet"] = { ipv4: "100.101.102.103", ipv6: "fd00::1" }), expect: [["homelab:tailnet.ipv6", /fd7a:115c:a1e0::\/48/]] },
    { name: "tailnet key misspelt", change: (c) => (c["homelab:tailnet"] = { ipv4: "100.101.102.103", ip6: "fd7a:115c:a1e0::1" }), expect: [["homelab:tailnet.ip6", /not a known setting/]] },
    { name: "unknown top-level key", change: (c) => (c["homelab:trustedNetwork"] = ["192.168.1.0/24"]), expect: [["homelab:trustedNetwork", /not a known setting/]] },
    { name: "trusted network not a CIDR", change: (c) => (c["homelab:trustedNetworks"] = ["192.168.1.0/33"]), expect: [["homelab:trustedNetworks[0]", /not a CIDR/]] },
    { name: "trusted network is public address space", change: (c) => (c["homelab:trustedNetworks"] = ["8.8.8.0/24"]), expect: [["homelab:trustedNetworks[0]", /not private address space/]] },
    { name: "trusted network is everything", change: (c) => (c["homelab:trustedNetworks"] = ["0.0.0.0/0"]), expect: [["homelab:trustedNetworks[0]", /not private/]] },
    { name: "trusted network overlaps Docker Desktop's VM network", change: (c) => (c["homelab:trustedNetworks"] = ["192.168.0.0/16"]), expect: [["homelab:trustedNetworks[0]", /192\.168\.65\.0\/24/]] },
    { name: "trusted network overlaps the stack's Docker network", change: (c) => (c["homelab:trustedNetworks"] = ["172.30.0.0/16"]), expect: [["homelab:trustedNetworks[0]", /stack's Docker network/]] },
    { name: "trusted network overlaps Docker's default bridge", change: (c) => (c["homelab:trustedNetworks"] = ["172.16.0.0/12"]), expect: [["homelab:trustedNetworks[0]", /default bridge|Docker network/]] },
    { name: "trusted network with host bits", change: (c) => (c["homelab:trustedNetworks"] = ["192.168.1.7/24"]), expect: [["homelab:trustedNetworks[0]", /did you mean 192\.168\.1\.0\/24/]] },
    { name: "docker subnet overlaps Docker Desktop's VM network", change: (c) => (c["homelab:docker"] = { ...c["homelab:docker"], subnet: "192.168.64.0/23" }), expect: [["homelab:docker.subnet", /192\.168\.65\.0\/24/]] },
    { name: "unknown runtime", change: (c) => (c["homelab:docker"] = { ...c["homelab:docker"], runtime: "podman" }), expect: [["homelab:docker.runtime", /docker-desktop, orbstack, colima, linux/]] },
    { name: "relative data dir", change: (c) => (c["homelab:docker"] = { ...c["homelab:docker"], dataDir: "selfhost" }), expect: [["homelab:docker.dataDir", /absolute/]] },
    { name: "docker host not unix or ssh", change: (c) => (c["homelab:docker"] = { ...c["homelab:docker"], host: "tcp://0.0.0.0:2375" }), expect: [["homelab:docker.host"]] },
    { name: "two services on one hostname", change: (c) => (svc(c)["media"] = { image: "jellyfin/jellyfin:10.10.7", port: 8096, hostname: "jellyfin" }), expect: [["homelab:services.media", /jellyfin\.home\.example\.dev is already used by service jellyfin/]] },
    { name: "public name collides with the private apex", change: (c) => (svc(c)["home"] = { image: "nginx:1.29.3", port: 80, expose: ["public"] }), expect: [["homelab:services.home", /home\.example\.dev is already used/]] },
    { name: "two apex services", change: (c) => (svc(c)["gatus"].apex = true), expect: [["homelab:services", /only one service may be the apex.*dashboard, gatus/]] },
    { name: "port out of range", change: (c) => (svc(c)["jellyfin"].port = 70000), expect: [["homelab:services.jellyfin.port", /1-65535/]] },
    { name: "port as a string", change: (c) => (svc(c)["jellyfin"].port = "8096"), expect: [["homelab:services.jellyfin.port", /number/]] },
    { name: "managed service without port", change: (c) => delete svc(c)["sonarr"].port, expect: [["homelab:services.sonarr.port", /required/]] },
    { name: "upstream without a port", change: (c) => (svc(c)["photos"].upstream = "immich-server"), expect: [["homelab:services.photos.upstream", /host:port/]] },
    { name: "upstream with a bad port", change: (c) => (svc(c)["llm"].upstream = "host.docker.internal:99999"), expect: [["homelab:services.llm.upstream"]] },
    { name: "both image and upstream", change: (c) => (svc(c)["photos"].image = "ghcr.io/immich-app/immich-server:v2.2.3"), expect: [["homelab:services.photos", /either image \+ port .* or upstream/]] },
    { name: "neither image nor upstream", change: (c) => (svc(c)["ghost"] = { port: 2368 }), expect: [["homelab:services.ghost", /needs image \+ port/]] },
    { name: "unpinned image", change: (c) => (svc(c)["jellyfin"].image = "jellyfin/jellyfin"), expect: [["homelab:services.jellyfin.image", /not pinned/]] },
    { name: "image on latest", change: (c) => (svc(c)["jellyfin"].image = "jellyfin/jellyfin:latest"), expect: [["homelab:services.jellyfin.image", /latest/]] },
    { name: "service name not a DNS label", change: (c) => (svc(c)["Home_Assistant"] = { image: "ghcr.io/home-assistant/home-assistant:2025.10.4", port: 8123 }), expect: [["homelab:services.Home_Assistant", /DNS label/]] },
    { name: "service takes an infrastructure container's name", change: (c) => (svc(c)["caddy"] = { image: "nginx:1.29.3", port: 80 }), expect: [["homelab:services.caddy", /stack's own containers/]] },
    { name: "unknown plane", change: (c) => (svc(c)["cloud"].expose = ["private", "wan"]), expect: [["homelab:services.cloud.expose[1]", /private, mtls, public/]] },
    { name: "empty expose", change: (c) => (svc(c)["cloud"].expose = []), expect: [["homelab:services.cloud.expose", /at least one plane/]] },
    { name: "mtls and public together", change: (c) => (svc(c)["cloud"].expose = ["mtls", "public"]), expect: [["homelab:services.cloud.expose", /bypass the client certificate/]] },
    { name: "access on a non-public service", change: (c) => (svc(c)["cloud"].access = { emails: ["me@example.dev"] }), expect: [["homelab:services.cloud.access", /public plane/]] },
    { name: "access with a bad email", change: (c) => (svc(c)["blog"].access = { emails: ["not-an-email"] }), expect: [["homelab:services.blog.access.emails[0]", /email/]] },
    { name: "empty access", change: (c) => (svc(c)["blog"].access = {}), expect: [["homelab:services.blog.access", /at least one/]] },
    { name: "mtls without wan.publicIp", change: (c) => delete c["homelab:wan"], expect: [["homelab:wan.publicIp", /service cloud exposes mtls/]] },
    { name: "wan.publicIp is private", change: (c) => (c["homelab:wan"] = { publicIp: "192.168.1.1", proxyProtocol: true }), expect: [["homelab:wan.publicIp", /public address/]] },
    { name: "mtls on Docker Desktop without a way to see client addresses", change: (c) => (c["homelab:wan"] = { publicIp: "203.0.113.7" }), expect: [["homelab:services.cloud.expose", /userland proxy.*homelab:wan\.proxyProtocol/]] },
    { name: "mtls on colima without proxy protocol", change: (c) => { c["homelab:wan"] = { publicIp: "203.0.113.7" }; c["homelab:docker"] = { ...c["homelab:docker"], runtime: "colima" }; }, expect: [["homelab:services.cloud.expose", /runtime colima/]] },
    { name: "secretEnv naming a secret that is not set", change: (c) => (svc(c)["vault"].secretEnv = { ADMIN_TOKEN: "nope" }), expect: [["homelab:services.vault.secretEnv.ADMIN_TOKEN", /homelab:secrets\.nope/]] },
    { name: "bad volume", change: (c) => (svc(c)["jellyfin"].volumes = ["media"]), expect: [["homelab:services.jellyfin.volumes[0]", /host\/path:\/container\/path/]] },
    { name: "env value not a string", change: (c) => (svc(c)["sonarr"].env = { PUID: 501 }), expect: [["homelab:services.sonarr.env.PUID", /string/]] },
    { name: "unknown service setting", change: (c) => (svc(c)["jellyfin"].ports = [8096]), expect: [["homelab:services.jellyfin.ports", /not a known setting/]] },
    { name: "port on an external service", change: (c) => (svc(c)["photos"].port = 2283), expect: [["homelab:services.photos.port", /managed services/]] },
    { name: "duplicate users", change: (c) => c["homelab:users"].push({ name: "dave" }), expect: [["homelab:users[3].name", /listed twice/]] },
    { name: "user name unsafe as a file name", change: (c) => (c["homelab:users"][0].name = "../etc/passwd"), expect: [["homelab:users[0].name", /file name/]] },
    { name: "user name with spaces and capitals", change: (c) => (c["homelab:users"][0].name = "Dave Smith"), expect: [["homelab:users[0].name"]] },
    { name: "validityDays 0", change: (c) => (c["homelab:users"][1].validityDays = 0), expect: [["homelab:users[1].validityDays", /1-825/]] },
    { name: "validityDays 826", change: (c) => (c["homelab:users"][1].validityDays = 826), expect: [["homelab:users[1].validityDays", /1-825/]] },
    { name: "acme email invalid", change: (c) => (c["homelab:acme"] = { email: "admin" }), expect: [["homelab:acme.email", /email/]] },
    { name: "propagation timeout not a duration", change: (c) => (c["homelab:acme"] = { email: "a@example.dev", propagationTimeout: "5 minutes" }), expect: [["homelab:acme.propagationTimeout", /duration/]] },
    { name: "token expiry not RFC 3339", change: (c) => (c["homelab:dnsToken"] = { expiresOn: "next year" }), expect: [["homelab:dnsToken.expiresOn", /RFC 3339/]] },
];

describe("bad stack config", () => {
    it(`has at least 25 cases`, () => assert.ok(CASES.length >= 25));

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
            assert.deepEqual(run.resources.map((r) => r.type), [], "nothing may be registered");
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
        for (const k of ["homelab:domain", "homelab:trustedNetworks[0]", "homelab:services.jellyfin.port", "homelab:users[0].validityDays"]) assert.ok(keys.includes(k), k);
        assert.equal(run.resources.length, 0);
    });
});

describe("good stack config", () => {
    const raw = (c: Cfg) => Object.fromEntries(Object.entries(c).filter(([k]) => k.startsWith("homelab:")).map(([k, v]) => [k.slice("homelab:".length), v]));

    it("accepts the example and fills in defaults", () => {
        const cfg = clone(EXAMPLE);
        svc(cfg)["jellyfin"].expose = undefined;
        delete svc(cfg)["jellyfin"].expose;
        const m = validate(raw(cfg), ["vaultwarden-admin-token"]);
        const jf = m.services.find((s) => s.name === "jellyfin");
        assert.deepEqual(jf?.expose, ["private"], "expose defaults to [private]");
        assert.equal(m.users.find((u) => u.name === "dave")?.validityDays, 365, "validityDays defaults to 365");
        assert.deepEqual(m.services.map((s) => s.name), [...m.services.map((s) => s.name)].sort(), "services sorted by name");
    });

    it("accepts a trusted IPv6 ULA network and the tailnet range itself", () => {
        const cfg = clone(EXAMPLE);
        cfg["homelab:trustedNetworks"] = ["192.168.1.0/24", "fd12:3456:789a::/48", "100.64.0.0/10", "10.0.0.0/8"];
        const m = validate(raw(cfg), ["vaultwarden-admin-token"]);
        assert.deepEqual(m.trustedNetworks, ["192.168.1.0/24", "fd12:3456:789a::/48", "100.64.0.0/10", "10.0.0.0/8"]);
    });

    it("accepts mtls on Linux without proxy protocol (real client addresses)", () => {
        const cfg = clone(EXAMPLE);
        cfg["homelab:wan"] = { publicIp: "203.0.113.7" };
        cfg["homelab:docker"] = { ...cfg["homelab:docker"], runtime: "linux" };
        assert.doesNotThrow(() => validate(raw(cfg), ["vaultwarden-admin-token"]));
    });

    it("accepts images pinned by digest", () => {
        const cfg = clone(EXAMPLE);
        svc(cfg)["jellyfin"].image = `jellyfin/jellyfin@sha256:${"a".repeat(64)}`;
        assert.doesNotThrow(() => validate(raw(cfg), ["vaultwarden-admin-token"]));
    });
});
