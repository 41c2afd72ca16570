// The renderers: golden files for three unlike stacks, determinism, and the properties of the
// rendered configs that keep strangers out. The real binaries check the same files in
// test/render/binaries.test.ts.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../harness";
import { STACKS } from "../support/goldenStacks";
import { modelFromStackFile } from "../../stacks/stackFile";
import { renderAll } from "../../render/all";
import {
    CADDY_HOLD,
    HELD_FRONTENDS,
    HELD_LIMIT,
    RELAY_LIMITS,
    holdCommands,
    renderEdgeCfg,
    srcAcl,
} from "../../render/haproxy";
import { EDGE_HOLD, caddyReloadEnvironment } from "../../render/reload";
import { renderCaddyfile, renderCertificateSnippet } from "../../render/caddyfile";
import { renderCaddyDockerfile } from "../../render/dockerfile";
import { main as renderMain } from "../../scripts/render";
import { Model } from "../../stacks/model";

const model = (stack: string): Model => modelFromStackFile(path.join(ROOT, STACKS[stack] as string));

/** The sites on the mTLS listener (:9443), by address. */
function mtlsSites(caddyfile: string): string[] {
    return [...caddyfile.matchAll(/^https:\/\/([^\s]*):9443 \{/gm)].map((m) => m[1] as string);
}
/** The block of one site. */
function site(caddyfile: string, address: string): string {
    const start = caddyfile.indexOf(`https://${address} {`);
    assert.ok(start >= 0, `site ${address}`);
    return caddyfile.slice(start, caddyfile.indexOf("\n}\n", start) + 3);
}

describe("renderers: golden files", () => {
    for (const stack of Object.keys(STACKS)) {
        it(`${stack}: renders exactly the golden files`, () => {
            const files = renderAll(model(stack));
            const dir = path.join(ROOT, "test/golden", stack);
            for (const [name, content] of Object.entries(files)) {
                const golden = path.join(dir, name);
                if (process.env["UPDATE_GOLDEN"]) {
                    fs.mkdirSync(path.dirname(golden), { recursive: true });
                    fs.writeFileSync(golden, content);
                }
                assert.equal(
                    content,
                    fs.readFileSync(golden, "utf8"),
                    `${golden} (UPDATE_GOLDEN=1 to accept a change)`,
                );
            }
        });
    }

    it("docker/caddy.Dockerfile is the rendered Dockerfile", () => {
        assert.equal(fs.readFileSync(path.join(ROOT, "docker/caddy.Dockerfile"), "utf8"), renderCaddyDockerfile());
    });

    it("npm run render writes the stack's files, the edge's included: haproxy.cfg on Linux, plus the native edge and its launchd job on a Mac runtime", () => {
        const render = (stack: string): string[] => {
            const out = fs.mkdtempSync(path.join(require("os").tmpdir(), "homelab-render-"));
            try {
                const write = process.stdout.write;
                (process.stdout as any).write = () => true;
                let code: number;
                try {
                    code = renderMain([path.join(ROOT, STACKS[stack] as string), out]);
                } finally {
                    (process.stdout as any).write = write;
                }
                assert.equal(code, 0);
                return (fs.readdirSync(out, { recursive: true }) as string[])
                    .filter((f) => fs.statSync(path.join(out, f)).isFile())
                    .sort();
            } finally {
                fs.rmSync(out, { recursive: true, force: true });
            }
        };
        assert.deepEqual(render("lake"), [
            "Caddyfile",
            "caddy.Dockerfile",
            "haproxy.cfg",
            "monitoring/config.yaml",
            "monitoring/hosts",
            "tunnel-ingress.json",
        ]);
        assert.deepEqual(render("home"), [
            "Caddyfile",
            "caddy.Dockerfile",
            "edge.haproxy.cfg",
            "edge.plist",
            "haproxy.cfg",
            "tunnel-ingress.json",
        ]);
        assert.deepEqual(render("twohosts"), [
            "Caddyfile",
            "caddy.Dockerfile",
            "dashboard/glance.yml",
            "edge.haproxy.cfg",
            "edge.plist",
            "haproxy.cfg",
            "hosts/nas/gateway.haproxy.cfg",
            "hosts/nas/tunnel-ingress.json",
            "monitoring/config.yaml",
            "monitoring/hosts",
            "tunnel-ingress.json",
        ]);
    });
});

describe("renderers: determinism", () => {
    it("renders byte-identical output twice, and regardless of the order services are listed in", () => {
        const a = renderAll(model("home"));
        assert.deepEqual(renderAll(model("home")), a);
        const m = model("home");
        const shuffled: Model = { ...m, services: [...m.services].reverse(), users: [...m.users].reverse() };
        // The validator sorts; renderers must not depend on anything else.
        assert.deepEqual(
            renderAll({
                ...shuffled,
                services: [...shuffled.services].sort((x, y) => x.name.localeCompare(y.name)),
                users: m.users,
            }),
            a,
        );
    });
});

describe("Caddyfile", () => {
    it("serves only mtls hostnames on the mTLS listener, plus a catch-all that requires a certificate and aborts", () => {
        for (const stack of Object.keys(STACKS)) {
            const m = model(stack);
            const cf = renderAll(m)["Caddyfile"] as string;
            const expected = m.services.filter((s) => s.expose.includes("mtls")).map((s) => s.hostnames.mtls as string);
            assert.deepEqual(mtlsSites(cf), [...expected, ""], stack);
            const catchAll = site(cf, ":9443");
            assert.match(catchAll, /import client_auth/);
            assert.match(catchAll, /\tabort\n/);
        }
    });

    it("requires and verifies a current user's certificate on every mTLS site, and proxies straight to the service", () => {
        const cf = renderAll(model("home"))["Caddyfile"] as string;
        const cloud = site(cf, "cloud.example.dev:9443");
        assert.match(cloud, /import client_auth/);
        assert.match(cloud, /reverse_proxy cloud:80 \{/);
        assert.match(
            cf,
            /mode require_and_verify\n\t\ttrust_pool file pki\/ca\.pem\n\t\tverifier leaf file pki\/clients\.pem/,
        );
        assert.doesNotMatch(site(cf, "cloud.example.dev:9443"), /tls_insecure_skip_verify/);
        assert.equal(
            (cf.match(/tls_insecure_skip_verify/g) ?? []).length,
            1,
            "only where a stack says so (the Proxmox node)",
        );
        assert.doesNotMatch(cf, /reverse_proxy [^\n]*:8443/, "never loops back into the plain listener");
        assert.doesNotMatch(cf, /127\.0\.0\.1/);
    });

    it("never puts a private-only or public service on the mTLS listener", () => {
        const cf = renderAll(model("home"))["Caddyfile"] as string;
        const mtlsPart = cf.slice(cf.indexOf("# mTLS listener"));
        for (const name of ["jellyfin", "vault", "dashboard", "blog", "ntfy", "llm", "photos"])
            assert.doesNotMatch(mtlsPart, new RegExp(`\\b${name}\\b`), name);
    });

    it("routes each private service by host on the wildcard site, the apex to its service, unknown names to 404", () => {
        const cf = renderAll(model("home"))["Caddyfile"] as string;
        const wildcard = site(cf, "*.home.example.dev:8443");
        assert.match(
            wildcard,
            /@jellyfin host jellyfin\.home\.example\.dev\n\thandle @jellyfin \{\n\t\treverse_proxy jellyfin:8096 \{/,
        );
        assert.match(
            wildcard,
            /@llm host llm\.home\.example\.dev\n\thandle @llm \{\n\t\treverse_proxy host\.docker\.internal:1234/,
        );
        assert.match(
            wildcard,
            /@photos host photos\.home\.example\.dev\n\thandle @photos \{\n\t\treverse_proxy photos:2283/,
        );
        assert.match(
            wildcard,
            /@pve host pve\.home\.example\.dev\n\thandle @pve \{\n\t\treverse_proxy https:\/\/192\.168\.1\.10:8006 \{[^}]*transport http \{\n\t\t\t\ttls_insecure_skip_verify\n/,
        );
        for (const internal of ["immich-ml", "immich-redis", "immich-postgres"])
            assert.doesNotMatch(cf, new RegExp(`@${internal} |reverse_proxy ${internal}:`), `${internal} has no route`);
        assert.doesNotMatch(wildcard, /@blog /, "public-only services are not on the private plane");
        assert.match(wildcard, /respond "no such service" 404/);
        assert.match(site(cf, "home.example.dev:8443"), /reverse_proxy dashboard:8080/);
        assert.match(
            site(cf, "cloud.example.dev:8443"),
            /reverse_proxy cloud:80/,
            "trusted sources reach mtls services without a certificate",
        );
    });

    it("references the DNS-01 token only as a runtime placeholder, with the configured resolvers and timeout", () => {
        const cf = renderAll(model("home"))["Caddyfile"] as string;
        assert.match(
            cf,
            /dns cloudflare \{env\.CLOUDFLARE_API_TOKEN\}\n\tresolvers 1\.1\.1\.1 8\.8\.8\.8\n\tpropagation_timeout 5m/,
        );
        const lake = renderAll(model("lake"))["Caddyfile"] as string;
        assert.match(lake, /resolvers 9\.9\.9\.9\n\tpropagation_timeout 90s/);
        assert.match(lake, /acme_ca https:\/\/acme-staging-v02/);
    });

    it("accepts PROXY headers only from HAProxy's fixed edge address, binds only Caddy's edge address; HTTP/1.1 and HTTP/2 only", () => {
        const m = model("home");
        const cf = renderAll(m)["Caddyfile"] as string;
        assert.equal(m.addresses.haproxy, "172.30.0.194");
        assert.equal(m.addresses.caddy, "172.30.0.195");
        assert.equal(
            (
                cf.match(
                    /proxy_protocol \{\n\t\t\t\ttimeout 5s\n\t\t\t\tallow 172\.30\.0\.194\/32\n\t\t\t\tfallback_policy REJECT\n\t\t\t\}\n\t\t\ttls\n/g,
                ) ?? []
            ).length,
            2,
        );
        assert.match(cf, /\n\tdefault_bind 172\.30\.0\.195\n/);
        assert.equal((cf.match(/protocols h1 h2\n/g) ?? []).length, 2);
        assert.equal(
            (cf.match(/timeouts \{\n\t\t\tread_header 10s\n\t\t\}/g) ?? []).length,
            2,
            "handshake and headers within 10 s on both listeners",
        );
        assert.match(cf, /strict_sni_host on/);
        assert.match(cf, /header Strict-Transport-Security "max-age=31536000"/);
    });

    it("refuses every request on the plain listener whose client address is not a trusted source", () => {
        const m = model("home");
        const cf = renderAll(m)["Caddyfile"] as string;
        assert.match(
            cf,
            /\(trusted_only\) \{\n\t@untrusted not remote_ip 100\.64\.0\.0\/10 ::ffff:100\.64\.0\.0\/106 fd7a:115c:a1e0::\/48 192\.168\.1\.0\/24 ::ffff:192\.168\.1\.0\/120\n\tabort @untrusted\n\}/,
        );
        for (const address of ["home.example.dev:8443", "*.home.example.dev:8443", "cloud.example.dev:8443"])
            assert.match(site(cf, address), /\timport trusted_only\n/, address);
        assert.doesNotMatch(
            site(cf, "cloud.example.dev:9443"),
            /trusted_only/,
            "the mtls listener serves any source with a certificate",
        );
    });

    it("ends a removed user's requests within the grace period, and keeps WebSockets across reloads (briefly on mtls)", () => {
        const cf = renderAll(model("home"))["Caddyfile"] as string;
        assert.match(cf, /\n\tgrace_period 10s\n/);
        assert.match(site(cf, "cloud.example.dev:8443"), /stream_close_delay 1h/);
        assert.match(site(cf, "cloud.example.dev:9443"), /stream_close_delay 2m/);
    });

    it("strips the Server header from Caddy's own error responses too", () => {
        const cf = renderAll(model("home"))["Caddyfile"] as string;
        assert.match(cf, /\thandle_errors \{\n\t\theader -Server\n/);
    });

    it("differs from a test render only in the certificate snippet", () => {
        const m = model("home");
        const prod = renderCaddyfile(m, { certificates: { kind: "acme" } });
        const test = renderCaddyfile(m, { certificates: { kind: "folder", dir: "/tmp/certs" } });
        assert.notEqual(prod, test);
        assert.equal(
            prod.replace(renderCertificateSnippet(m, { kind: "acme" }), ""),
            test.replace(renderCertificateSnippet(m, { kind: "folder", dir: "/tmp/certs" }), ""),
        );
    });

    it("serves no mtls hostname when there are no users (nobody could present a certificate)", () => {
        const m = model("home");
        const cf = renderCaddyfile({ ...m, users: [] }, { certificates: { kind: "acme" } });
        assert.deepEqual(mtlsSites(cf), [""]);
        assert.doesNotMatch(cf, /verifier leaf/);
    });

    it("re-checks every interpolated value as a Caddyfile token (defence in depth)", () => {
        const m = model("home");
        assert.throws(
            () =>
                renderCaddyfile(
                    { ...m, acme: { ...m.acme, email: "{env.CLOUDFLARE_API_TOKEN}@x.dev" } },
                    { certificates: { kind: "acme" } },
                ),
            /internal: ACME email/,
        );
        assert.throws(
            () =>
                renderCaddyfile(
                    { ...m, acme: { ...m.acme, propagationTimeout: "5m #" } },
                    { certificates: { kind: "acme" } },
                ),
            /internal/,
        );
    });
});

/** One frontend's block. */
function frontend(cfg: string, name: string): string {
    const start = cfg.indexOf(`frontend ${name}\n`);
    assert.ok(start >= 0, `frontend ${name}`);
    return cfg.slice(start, cfg.indexOf("\n\n", start));
}

describe("haproxy.cfg", () => {
    it("the HAProxy that connects to Caddy can be held: an admin socket on its own loopback, and the held frontends' limit written out", () => {
        for (const [stack, role] of [
            ["lake", "edge"],
            ["home", "relay"],
        ] as const) {
            const cfg = renderAll(model(stack))["haproxy.cfg"] as string;
            assert.match(cfg, /\n {4}stats socket ipv4@127\.0\.0\.1:9999 level admin\n/, stack);
            const { hold, release } = holdCommands(role);
            for (const fe of HELD_FRONTENDS[role]) {
                assert.match(frontend(cfg, fe), new RegExp(`\\n {4}maxconn ${HELD_LIMIT[role]}\\n`), `${stack} ${fe}`);
                assert.ok(hold.includes(`set maxconn frontend ${fe} 0\n`), `${role} holds ${fe}`);
                // Releasing puts back exactly what the config says, so a hold leaves no trace.
                assert.ok(
                    release.includes(`set maxconn frontend ${fe} ${HELD_LIMIT[role]}\n`),
                    `${role} releases ${fe}`,
                );
            }
            assert.equal(hold.trim().split("\n").length, HELD_FRONTENDS[role].length);
        }
    });

    it("the native edge on a Mac has no admin socket (it is never held; a socket there would face the Mac's other processes)", () => {
        const files = renderAll(model("home"));
        assert.doesNotMatch(files["edge.haproxy.cfg"] as string, /stats socket/);
    });

    it("refuses an admin socket anywhere but IPv4 loopback", () => {
        const m = model("lake");
        for (const admin of ["0.0.0.0:9999", "10.0.0.2:9999", "[::1]:9999", "127.0.0.1"]) {
            assert.throws(
                () =>
                    renderEdgeCfg(m, {
                        bind: { http: ":80", https: ":443" },
                        upstream: { kind: "caddy", host: "caddy" },
                        admin,
                    }),
                /IPv4 loopback/,
                admin,
            );
        }
        assert.throws(
            () =>
                renderEdgeCfg(m, {
                    bind: { http: ":80", https: ":443" },
                    upstream: { kind: "relay", host: "127.0.0.1" },
                    admin: CADDY_HOLD.admin,
                }),
            /only an edge that connects to Caddy/,
        );
    });

    it("the host-side Caddy reload holds the HAProxy container: the edge's frontend on Linux, the relay's on a Mac", () => {
        const linux = caddyReloadEnvironment("container");
        assert.equal(linux["EDGE_CONTAINER"], "haproxy");
        assert.equal(linux["EDGE_ADMIN"], CADDY_HOLD.admin);
        assert.equal(linux["HOLD_COMMANDS"], "set maxconn frontend https 0\n");
        const mac = caddyReloadEnvironment("native");
        assert.equal(
            mac["HOLD_COMMANDS"],
            "set maxconn frontend from_edge_plain 0\nset maxconn frontend from_edge_mtls 0\n",
        );
        assert.equal(mac["HOLD"], EDGE_HOLD);
        assert.ok(Number(mac["HOLD_MAX"]) > Number(mac["SETTLE"]), "a hold outlives its settle time");
    });

    it("only redirects on :80, with a short request timeout", () => {
        const cfg = renderAll(model("lake"))["haproxy.cfg"] as string;
        const http = frontend(cfg, "http");
        assert.match(http, /mode http/);
        assert.match(http, /http-request redirect scheme https code 301/);
        assert.match(http, /timeout http-request 5s/);
        assert.doesNotMatch(http, /backend/);
    });

    it("gives the client seconds before the handshake and keeps established streams for an hour", () => {
        const cfg = renderAll(model("lake"))["haproxy.cfg"] as string;
        assert.match(cfg, /timeout client 10s\n/);
        assert.match(cfg, /timeout tunnel 1h\n/);
        assert.match(
            frontend(cfg, "https"),
            /tcp-request inspect-delay 5s\n\s+tcp-request content reject unless \{ req\.ssl_hello_type 1 \}/,
        );
        assert.doesNotMatch(cfg, /timeout client 1h/);
        assert.match(cfg, /retries 3\n/);
    });

    it("limits untrusted sources per address (IPv6 per /64) and all together, on :80 and :443", () => {
        const cfg = renderAll(model("lake"))["haproxy.cfg"] as string;
        for (const fe of ["http", "https"]) {
            const f = frontend(cfg, fe);
            assert.match(
                f,
                /track-sc0 src,ipmask\(32,64\) table per_source if !trusted or v4_embedded or self_conn\n/,
                fe,
            );
            assert.match(f, /track-sc1 int\(1\) table untrusted_total if !trusted or v4_embedded or self_conn\n/, fe);
            assert.match(f, /reject if \{ sc0_conn_cur gt 32 \}/, fe);
            assert.match(f, /reject if \{ sc0_conn_rate gt 100 \}/, fe);
            assert.match(f, /reject if \{ sc1_conn_cur gt 1024 \}/, fe);
        }
        assert.match(cfg, /maxconn 4096\n/);
    });

    it("never trusts IPv6 sources that embed an IPv4 address (::a.b.c.d, 6to4)", () => {
        const cfg = renderAll(model("lake"))["haproxy.cfg"] as string;
        const https = frontend(cfg, "https");
        assert.match(https, /acl v4_embedded src ::\/96 2002::\/16\n/);
        assert.match(
            https,
            /use_backend caddy_plain if trusted !v4_embedded !self_conn\n\s+default_backend caddy_mtls/,
        );
    });

    it("counts a tailnet node by its own address (Tailscale puts a whole tailnet in one IPv6 /64), a LAN source by address or /64, and the trusted networks together", () => {
        for (const fe of ["http", "https"]) {
            const f = frontend(renderAll(model("lake"))["haproxy.cfg"] as string, fe);
            assert.match(f, /acl tailnet src 100\.64\.0\.0\/10 ::ffff:100\.64\.0\.0\/106 fd7a:115c:a1e0::\/48\n/, fe);
            assert.match(f, /track-sc2 src table per_trusted if trusted !v4_embedded !self_conn tailnet\n/, fe);
            assert.match(
                f,
                /track-sc2 src,ipmask\(32,64\) table per_trusted if trusted !v4_embedded !self_conn !tailnet\n/,
                fe,
            );
            assert.match(
                f,
                /track-sc1 int\(2\) table untrusted_total if trusted !v4_embedded !self_conn !tailnet\n\s+tcp-request connection reject if \{ sc1_conn_cur gt 1024 \}\n/,
                fe,
            );
            assert.match(f, /reject if \{ sc2_conn_cur gt 256 \}/, fe);
        }
    });

    it("never trusts a connection from the edge host's own address to itself (a local process, or a container Docker Desktop forwards)", () => {
        const split = frontend(renderAll(model("lake"))["haproxy.cfg"] as string, "https");
        assert.match(split, /set-var\(sess\.dst\) dst\n\s+acl self_conn src,strcmp\(sess\.dst\) eq 0\n/);
        // And from the host's own addresses the stack knows: its tailnet address (and listed ones).
        assert.match(
            split,
            /acl self_conn src 100\.70\.1\.2\/32 ::ffff:100\.70\.1\.2\/128 10\.1\.0\.10\/32 ::ffff:10\.1\.0\.10\/128\n/,
        );
        assert.match(
            frontend(renderAll(model("workshop"))["haproxy.cfg"] as string, "https"),
            /acl self_conn src 100\.\S+\/32 ::ffff:\S+ 10\.44\.0\.5\/32 ::ffff:10\.44\.0\.5\/128\n/,
        );
        assert.match(split, /use_backend caddy_plain if trusted !v4_embedded !self_conn\n/);
        assert.doesNotMatch(split, /reject if self_conn/);
        // Without the split every connection reaches the plain listener, whose guard trusts the
        // address: a self-connection, like every untrusted source, is refused outright (a router
        // that still forwards :443 to a listed address after the last mtls service went reaches
        // nothing).
        for (const fe of ["http", "https"])
            assert.match(
                frontend(renderAll(model("cabin"))["haproxy.cfg"] as string, fe),
                /tcp-request connection reject if !trusted or v4_embedded or self_conn\n/,
                fe,
            );
    });

    it("never trusts a listed untrusted source inside a trusted network: HAProxy sends it to the mtls listener, Caddy's guard aborts it", () => {
        const files = renderAll(model("workshop"));
        const https = frontend(files["haproxy.cfg"] as string, "https");
        assert.match(https, /acl excluded src 10\.44\.0\.1\/32 ::ffff:10\.44\.0\.1\/128\n/);
        assert.match(
            https,
            /track-sc0 src,ipmask\(32,64\) table per_source if !trusted or v4_embedded or self_conn or excluded\n/,
        );
        assert.match(https, /use_backend caddy_plain if trusted !v4_embedded !self_conn !excluded\n/);
        assert.match(
            files["Caddyfile"] as string,
            /\tabort @untrusted\n\t@excluded remote_ip 10\.44\.0\.1\/32 ::ffff:10\.44\.0\.1\/128\n\tabort @excluded\n/,
        );
        assert.doesNotMatch(renderAll(model("lake"))["haproxy.cfg"] as string, /excluded/);
    });

    it("does not split when no service exposes mtls", () => {
        const cfg = renderAll(model("cabin"))["haproxy.cfg"] as string;
        assert.doesNotMatch(cfg, /use_backend/);
        assert.doesNotMatch(cfg, /caddy_mtls/);
        assert.match(frontend(cfg, "https"), /default_backend caddy_plain/);
    });

    it("splits by source when a service exposes mtls: tailnet ranges and trusted networks (also IPv4-mapped) to plain", () => {
        const cfg = renderAll(model("lake"))["haproxy.cfg"] as string;
        assert.match(
            cfg,
            /acl trusted src 100\.64\.0\.0\/10 ::ffff:100\.64\.0\.0\/106 fd7a:115c:a1e0::\/48 10\.1\.0\.0\/16 ::ffff:10\.1\.0\.0\/112 fd42:1::\/64\n/,
        );
        assert.equal((cfg.match(/send-proxy-v2/g) ?? []).length, 2);
        assert.match(cfg, /server caddy caddy:9443 send-proxy-v2 resolvers docker resolve-prefer ipv4 init-addr none/);
    });

    it("every HAProxy the stack runs (edge, native edge, relay, a further host's gateway) runs one thread", () => {
        for (const stack of Object.keys(STACKS)) {
            const files = renderAll(model(stack));
            const configs = Object.keys(files).filter((f) => f.endsWith("haproxy.cfg"));
            assert.ok(configs.length > 0);
            for (const f of configs)
                assert.match(files[f] as string, /^global\n(?: {4}.*\n)*? {4}nbthread 1\n/m, `${stack} ${f}`);
        }
    });

    it("on a Mac runtime: the container is the relay, accepting only a PROXY header with the edge's secret, within client-hs", () => {
        const cfg = renderAll(model("home"))["haproxy.cfg"] as string;
        for (const [fe, port] of [
            ["from_edge_plain", 8443],
            ["from_edge_mtls", 9443],
        ] as const) {
            assert.match(frontend(cfg, fe), new RegExp(`bind :${port} accept-proxy\\n`));
            assert.match(
                frontend(cfg, fe),
                /tcp-request session set-var\(sess\.edge_hash\) fc_pp_tlv\(0xE0\),sha2\(256\),hex\n {4}tcp-request session reject unless \{ var\(sess\.edge_hash\) -m str -f edge-secret\.sha256 \}/,
            );
            // A sender that has not proved it is the edge (a PROXY header with the secret) keeps a slot this long at most.
            assert.match(frontend(cfg, fe), new RegExp(`\\n {4}timeout client-hs ${RELAY_LIMITS.handshakeTimeout}\\n`));
        }
        assert.match(cfg, /server caddy caddy:8443 send-proxy-v2 resolvers docker resolve-prefer ipv4 init-addr none/);
        assert.doesNotMatch(cfg, /bind :::443/, "the relay does not own :443");
    });

    it("on a Mac runtime: the native edge binds the unspecified address and sends the relay its secret in the PROXY header", () => {
        const files = renderAll(model("home"));
        const cfg = files["edge.haproxy.cfg"] as string;
        assert.match(frontend(cfg, "https"), /bind :::443 v4v6\n/);
        assert.match(
            cfg,
            /server relay 127\.0\.0\.1:8443 send-proxy-v2 set-proxy-v2-tlv-fmt\(0xE0\) %\[str\(edge\),map\(edge-secret\.map\)\]\n/,
        );
        assert.match(cfg, /server relay 127\.0\.0\.1:9443 /);
        const cabinMac = { ...model("cabin"), edge: "native" as const };
        const notSplit = renderAll(cabinMac)["edge.haproxy.cfg"] as string;
        assert.match(
            frontend(notSplit, "https"),
            /tcp-request connection reject unless \{ dst 100\.88\.7\.6 ::ffff:100\.88\.7\.6\/128 \}/,
            "when nothing is split, only the tailnet address is served",
        );
    });
});

describe("the edge's source ACLs (render/haproxy.ts srcAcl)", () => {
    it("split over lines HAProxy reads whole (64 words), and an empty list still defines the ACL", () => {
        const many = Array.from({ length: 100 }, (_, i) => `10.0.${i}.0/24`);
        const lines = srcAcl("trusted", many);
        assert.equal(lines.length, 3);
        for (const l of lines) assert.ok(l.trim().split(/\s+/).length <= 64, l);
        assert.deepEqual(
            lines.flatMap((l) => l.trim().split(/\s+/).slice(3)),
            many,
            "every source once, in order",
        );
        assert.deepEqual(srcAcl("trusted", []), ["    acl trusted src"], "the rules that name it still parse");
    });
});
