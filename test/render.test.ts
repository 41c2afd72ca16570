// The renderers: golden files for three unlike stacks, determinism, and the properties of the
// rendered configs that keep strangers out. The real binaries check the same files in
// test/binaries.test.ts.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "./harness";
import { modelFromStackFile } from "../stacks/stackFile";
import { renderAll } from "../render/all";
import { renderCaddyfile, renderCertificateSnippet } from "../render/caddyfile";
import { renderHaproxyCfg } from "../render/haproxy";
import { renderCaddyDockerfile } from "../render/dockerfile";
import { haproxyAddress } from "../render/addresses";
import { main as renderMain } from "../scripts/render";
import { Model } from "../stacks/model";

export const STACKS: Record<string, string> = {
    home: "Pulumi.home.yaml",
    cabin: "test/stacks/cabin.yaml",
    lake: "test/stacks/lake.yaml",
};
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
                    fs.mkdirSync(dir, { recursive: true });
                    fs.writeFileSync(golden, content);
                }
                assert.equal(content, fs.readFileSync(golden, "utf8"), `${golden} (UPDATE_GOLDEN=1 to accept a change)`);
            }
        });
    }

    it("docker/caddy.Dockerfile is the rendered Dockerfile", () => {
        assert.equal(fs.readFileSync(path.join(ROOT, "docker/caddy.Dockerfile"), "utf8"), renderCaddyDockerfile());
    });

    it("npm run render writes the four files for any stack file", () => {
        const out = fs.mkdtempSync(path.join(require("os").tmpdir(), "homelab-render-"));
        try {
            const write = process.stdout.write;
            (process.stdout as any).write = () => true;
            let code: number;
            try {
                code = renderMain([path.join(ROOT, STACKS["lake"] as string), out]);
            } finally {
                (process.stdout as any).write = write;
            }
            assert.equal(code, 0);
            assert.deepEqual(fs.readdirSync(out).sort(), ["Caddyfile", "caddy.Dockerfile", "haproxy.cfg", "tunnel-ingress.json"]);
        } finally {
            fs.rmSync(out, { recursive: true, force: true });
        }
    });
});

describe("renderers: determinism", () => {
    it("renders byte-identical output twice, and regardless of the order services are listed in", () => {
        const a = renderAll(model("home"));
        assert.deepEqual(renderAll(model("home")), a);
        const m = model("home");
        const shuffled: Model = { ...m, services: [...m.services].reverse(), users: [...m.users].reverse() };
        // The validator sorts; renderers must not depend on anything else.
        assert.deepEqual(renderAll({ ...shuffled, services: [...shuffled.services].sort((x, y) => x.name.localeCompare(y.name)), users: m.users }), a);
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
        assert.match(cf, /mode require_and_verify\n\t\ttrust_pool file pki\/ca\.pem\n\t\tverifier leaf file pki\/clients\.pem/);
        assert.doesNotMatch(cf, /tls_insecure_skip_verify/);
        assert.doesNotMatch(cf, /reverse_proxy [^\n]*:8443/, "never loops back into the plain listener");
        assert.doesNotMatch(cf, /127\.0\.0\.1/);
    });

    it("never puts a private-only or public service on the mTLS listener", () => {
        const cf = renderAll(model("home"))["Caddyfile"] as string;
        const mtlsPart = cf.slice(cf.indexOf("# mTLS listener"));
        for (const name of ["jellyfin", "vault", "dashboard", "blog", "ntfy", "llm", "photos"]) assert.doesNotMatch(mtlsPart, new RegExp(`\\b${name}\\b`), name);
    });

    it("routes each private service by host on the wildcard site, the apex to its service, unknown names to 404", () => {
        const cf = renderAll(model("home"))["Caddyfile"] as string;
        const wildcard = site(cf, "*.home.example.dev:8443");
        assert.match(wildcard, /@jellyfin host jellyfin\.home\.example\.dev\n\thandle @jellyfin \{\n\t\treverse_proxy jellyfin:8096 \{/);
        assert.match(wildcard, /@llm host llm\.home\.example\.dev\n\thandle @llm \{\n\t\treverse_proxy host\.docker\.internal:1234/);
        assert.match(wildcard, /@photos host photos\.home\.example\.dev\n\thandle @photos \{\n\t\treverse_proxy immich-server:2283/);
        assert.doesNotMatch(wildcard, /@blog /, "public-only services are not on the private plane");
        assert.match(wildcard, /respond "no such service" 404/);
        assert.match(site(cf, "home.example.dev:8443"), /reverse_proxy dashboard:8080/);
        assert.match(site(cf, "cloud.example.dev:8443"), /reverse_proxy cloud:80/, "trusted sources reach mtls services without a certificate");
    });

    it("references the DNS-01 token only as a runtime placeholder, with the configured resolvers and timeout", () => {
        const cf = renderAll(model("home"))["Caddyfile"] as string;
        assert.match(cf, /dns cloudflare \{env\.CLOUDFLARE_API_TOKEN\}\n\tresolvers 1\.1\.1\.1 8\.8\.8\.8\n\tpropagation_timeout 5m/);
        const lake = renderAll(model("lake"))["Caddyfile"] as string;
        assert.match(lake, /resolvers 9\.9\.9\.9\n\tpropagation_timeout 90s/);
        assert.match(lake, /acme_ca https:\/\/acme-staging-v02/);
    });

    it("accepts PROXY headers only from HAProxy's address, before TLS, on both listeners; HTTP/1.1 and HTTP/2 only", () => {
        const m = model("home");
        const cf = renderAll(m)["Caddyfile"] as string;
        assert.equal(haproxyAddress(m.docker.subnet), "172.30.0.10");
        assert.equal((cf.match(/proxy_protocol \{\n\t\t\t\ttimeout 5s\n\t\t\t\tallow 172\.30\.0\.10\/32\n\t\t\t\tfallback_policy REJECT\n\t\t\t\}\n\t\t\ttls\n/g) ?? []).length, 2);
        assert.equal((cf.match(/protocols h1 h2\n/g) ?? []).length, 2);
        assert.match(cf, /strict_sni_host on/);
        assert.match(cf, /header Strict-Transport-Security "max-age=31536000"/);
    });

    it("differs from a test render only in the certificate snippet", () => {
        const m = model("home");
        const prod = renderCaddyfile(m, { haproxyAddress: "172.30.0.10", certificates: { kind: "acme" } });
        const test = renderCaddyfile(m, { haproxyAddress: "172.30.0.10", certificates: { kind: "folder", dir: "/tmp/certs" } });
        assert.notEqual(prod, test);
        assert.equal(prod.replace(renderCertificateSnippet(m, { kind: "acme" }), ""), test.replace(renderCertificateSnippet(m, { kind: "folder", dir: "/tmp/certs" }), ""));
    });

    it("serves no mtls hostname when there are no users (nobody could present a certificate)", () => {
        const m = model("home");
        const cf = renderCaddyfile({ ...m, users: [] }, { haproxyAddress: "172.30.0.10", certificates: { kind: "acme" } });
        assert.deepEqual(mtlsSites(cf), [""]);
        assert.doesNotMatch(cf, /verifier leaf/);
    });
});

describe("haproxy.cfg", () => {
    it("only redirects on :80", () => {
        const cfg = renderAll(model("home"))["haproxy.cfg"] as string;
        const http = cfg.slice(cfg.indexOf("frontend http\n"), cfg.indexOf("\n\n", cfg.indexOf("frontend http\n")));
        assert.match(http, /mode http/);
        assert.match(http, /http-request redirect scheme https code 301/);
        assert.doesNotMatch(http, /backend/);
    });

    it("does not split when no service exposes mtls", () => {
        const cfg = renderAll(model("cabin"))["haproxy.cfg"] as string;
        assert.doesNotMatch(cfg, /acl trusted/);
        assert.doesNotMatch(cfg, /caddy_mtls/);
        assert.match(cfg, /default_backend caddy_plain/);
    });

    it("splits by source when a service exposes mtls: tailnet ranges and trusted networks (also IPv4-mapped) to plain", () => {
        const cfg = renderAll(model("lake"))["haproxy.cfg"] as string;
        assert.match(cfg, /acl trusted src 100\.64\.0\.0\/10 ::ffff:100\.64\.0\.0\/106 fd7a:115c:a1e0::\/48 10\.1\.0\.0\/16 ::ffff:10\.1\.0\.0\/112 fd42:1::\/64\n/);
        assert.match(cfg, /use_backend caddy_plain if trusted\n\s+default_backend caddy_mtls/);
        assert.match(cfg, /tcp-request content reject unless \{ req\.ssl_hello_type 1 \}/);
        assert.equal((cfg.match(/send-proxy-v2/g) ?? []).length, 2);
        assert.match(cfg, /server caddy caddy:9443 send-proxy-v2 resolvers docker init-addr none/);
    });

    it("behind a PROXY-protocol forwarder, trusts the direct path and splits the WAN port by the header's address", () => {
        const cfg = renderAll(model("home"))["haproxy.cfg"] as string;
        const direct = cfg.slice(cfg.indexOf("frontend https"), cfg.indexOf("frontend wan"));
        assert.doesNotMatch(direct, /acl trusted/);
        assert.match(cfg, /frontend wan\n\s+bind :::4443 v4v6 accept-proxy\n/);
        assert.match(cfg.slice(cfg.indexOf("frontend wan")), /acl trusted src [^\n]*192\.168\.1\.0\/24/);
    });

    it("takes test bind addresses and a fixed Caddy address without resolvers", () => {
        const cfg = renderHaproxyCfg(model("lake"), { caddyHost: "127.0.0.1", bind: { http: "127.0.0.1:18080", https: "127.0.0.1:18443" } });
        assert.match(cfg, /bind 127\.0\.0\.1:18443\n/);
        assert.doesNotMatch(cfg, /resolvers/);
    });
});
