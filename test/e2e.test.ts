// @e2e: the access model on real HAProxy and Caddy processes (test/e2e/lab.ts). Each source ×
// client certificate × hostname is a test; the matrix and its results are written to
// docs/security.md. Run with `npm run test:e2e`.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { execFileSync } from "child_process";
import {
    CADDY_APPLY,
    EdgeMode,
    HAPROXY_WRITE,
    HOSTS,
    Lab,
    SOURCES,
    Source,
    TRUSTED_SOURCES,
    clientsPem,
    curl,
    e2eConfig,
    e2eModel,
    renderLab,
    runScript,
    startLab,
} from "./e2e/lab";
import { RELAY_FLOOD, hardeningTests } from "./e2e/hardening";
import { macEdgeTests } from "./e2e/macEdge";
import { v6SourceTests } from "./e2e/v6sources";
import { breadthTests } from "./e2e/breadth";
import { gatewayTests } from "./e2e/gateway";
import { monitorTests } from "./e2e/monitor";
import { renderCaddyfile, renderCertificateSnippet } from "../render/caddyfile";
import { packFiles } from "../render/reload";
import { caddyBinary, haproxy3Binary } from "./support/binaries";
import versions from "../render/versions.json";
import { CADDY_HOLD, EDGE_LIMITS, RELAY_LIMITS } from "../render/haproxy";
import { CADDY_TIMING } from "../render/caddyfile";
import { parseDuration } from "../stacks/grammar";

const ROOT = path.resolve(__dirname, "..");
const CERTS = ["none", "dave", "otherca", "expired", "sam", "serverauth"] as const;
type Cert = (typeof CERTS)[number];
const CERT_LABEL: Record<Cert, string> = {
    none: "no certificate",
    dave: "valid, current user",
    otherca: "signed by another CA",
    expired: "expired (stack CA)",
    sam: "removed user (stack CA)",
    serverauth: "serverAuth-only EKU (stack CA)",
};
const HOST_KINDS = ["private", "mtls", "unknown"] as const;
type HostKind = (typeof HOST_KINDS)[number];
const SOURCE_LABEL: Record<Source, string> = {
    lan: "trusted LAN",
    tailnet: "tailnet",
    wan: "WAN",
    router: "router (in the trusted LAN, listed untrusted)",
};
const EDGE_LABEL: Record<EdgeMode, string> = {
    container: "Linux: edge in a container",
    native: "Mac: native edge → relay",
};
const MODES: EdgeMode[] = ["container", "native"];

/** What the access model promises. */
function expected(source: Source, cert: Cert, host: HostKind): string {
    if (host === "unknown") return "no service";
    if (TRUSTED_SOURCES.includes(source)) return host === "private" ? "media" : "cloud";
    if (host === "private") return "no service";
    return cert === "dave" ? "cloud" : "no service";
}

interface Row {
    mode: EdgeMode;
    source: Source;
    cert: Cert;
    host: HostKind;
    expected: string;
    actual: string;
    certRequested: boolean;
    pass: boolean;
}

describe("@e2e access model on real HAProxy and Caddy", function () {
    this.timeout(120_000);
    let lab: Lab;
    const rows: Row[] = [];

    before(async function () {
        this.timeout(20 * 60_000); // the first run may build Caddy
        caddyBinary();
        lab = await startLab();
    });
    // Every other test's outcome goes into docs/security.md too, by section.
    const proofs: { section: string; title: string; state: string }[] = [];
    afterEach(function () {
        const t = this.currentTest;
        if (!t || t.parent?.title.startsWith("source × client certificate")) return;
        proofs.push({ section: t.parent?.title ?? "", title: t.title, state: t.state ?? "skipped" });
    });
    after(async () => {
        if (lab) await lab.stop();
        if (rows.length === MODES.length * CERTS.length * HOST_KINDS.length * Object.keys(SOURCES).length)
            writeSecurityDoc(rows, proofs);
    });

    it("runs the production Caddyfile but for the certificate source", () => {
        const prod = renderCaddyfile(lab.model, { certificates: { kind: "acme" } });
        const acme = renderCertificateSnippet(lab.model, { kind: "acme" });
        const snippetStart = lab.caddyfile.indexOf("(certificate) {");
        const snippetEnd = lab.caddyfile.indexOf("}\n", snippetStart) + 2;
        assert.ok(prod.includes(acme));
        assert.equal(lab.caddyfile.slice(0, snippetStart) + lab.caddyfile.slice(snippetEnd), prod.replace(acme, ""));
    });

    for (const mode of MODES)
        describe(`source × client certificate × hostname (${EDGE_LABEL[mode]})`, () => {
            for (const source of Object.keys(SOURCES) as Source[]) {
                for (const cert of CERTS) {
                    for (const host of HOST_KINDS) {
                        const want = expected(source, cert, host);
                        it(`${SOURCE_LABEL[source]}, ${CERT_LABEL[cert]}, ${host} host → ${want}`, async () => {
                            const before = Object.fromEntries(
                                Object.entries(lab.echoes).map(([k, e]) => [k, e.hits.length]),
                            );
                            const r = await curl(lab, source, HOSTS[host], {
                                edge: mode,
                                ...(cert === "none" ? {} : { cert }),
                            });
                            let actual = "no service";
                            if (r.exit === 0 && r.status === 200) {
                                try {
                                    actual = JSON.parse(r.body).service;
                                } catch {
                                    actual = `HTTP 200 (${r.body.slice(0, 40)})`;
                                }
                            }
                            const reached = Object.entries(lab.echoes)
                                .filter(([k, e]) => e.hits.length !== before[k])
                                .map(([k]) => k);
                            const certRequested = /Request CERT/.test(r.verbose);
                            const pass =
                                actual === want &&
                                (want === "no service" ? reached.length === 0 : reached.join() === want) &&
                                (!TRUSTED_SOURCES.includes(source) || !certRequested);
                            rows.push({ mode, source, cert, host, expected: want, actual, certRequested, pass });
                            assert.equal(
                                actual,
                                want,
                                `curl exit ${r.exit}, HTTP ${r.status}: ${r.verbose.split("\n").slice(-4).join(" | ")}`,
                            );
                            assert.deepEqual(
                                reached,
                                want === "no service" ? [] : [want],
                                "which upstream saw the request",
                            );
                            if (TRUSTED_SOURCES.includes(source))
                                assert.equal(certRequested, false, "trusted sources are never asked for a certificate");
                            else if (host === "mtls")
                                assert.equal(certRequested, true, "everyone else is always asked for one");
                        });
                    }
                }
            }
        });

    describe("the edges", () => {
        it(":80 only redirects to HTTPS, and never reaches a service", async () => {
            const hits = lab.echoes["media"]!.hits.length;
            for (const source of Object.keys(SOURCES) as Source[]) {
                const r = await curl(lab, source, HOSTS.private, { http: true, path: "/some/path?q=1" });
                assert.equal(r.status, 301);
                assert.match(
                    r.verbose,
                    new RegExp(`[Ll]ocation: https://${HOSTS.private.replace(/\./g, "\\.")}/some/path\\?q=1`),
                );
            }
            assert.equal(lab.echoes["media"]!.hits.length, hits);
        });

        it("the upstream sees the real client address in X-Forwarded-For, and a client-supplied one is not trusted", async () => {
            const lan = await curl(lab, "lan", HOSTS.private, { headers: ["X-Forwarded-For: 6.6.6.6"] });
            assert.equal(JSON.parse(lan.body).xff, SOURCES.lan);
            const wan = await curl(lab, "wan", HOSTS.mtls, {
                cert: "dave",
                headers: ["X-Forwarded-For: 6.6.6.6", "X-Real-IP: 6.6.6.6"],
            });
            assert.equal(JSON.parse(wan.body).xff, SOURCES.wan);
        });

        for (const mode of MODES)
            it(`whoami reports the listener and the client's real address (${EDGE_LABEL[mode]})`, async () => {
                const lan = await curl(lab, "lan", HOSTS.apex, { edge: mode, path: "/.well-known/homelab/whoami" });
                assert.match(lan.body, new RegExp(`^listener=plain client=${SOURCES.lan.replace(/\./g, "\\.")} `));
                const tail = await curl(lab, "tailnet", HOSTS.mtls, {
                    edge: mode,
                    path: "/.well-known/homelab/whoami",
                });
                assert.match(tail.body, new RegExp(`^listener=plain client=${SOURCES.tailnet.replace(/\./g, "\\.")} `));
                const wan = await curl(lab, "wan", HOSTS.mtls, {
                    edge: mode,
                    cert: "dave",
                    path: "/.well-known/homelab/whoami",
                });
                assert.equal(wan.body, `listener=mtls client=${SOURCES.wan} tls_client=CN=dave`);
            });
    });

    describe("reload in place", () => {
        it("a bad Caddyfile fails with Caddy's own message and the old config keeps serving", async () => {
            const before = fs.readFileSync(path.join(lab.etc, "Caddyfile"), "utf8");
            const r = runScript(
                CADDY_APPLY,
                { ETC: lab.etc, CADDY: caddyBinary() },
                packFiles({
                    Caddyfile: before.replace("reverse_proxy", "reverse_proxyy"),
                    "ca.pem": lab.caPem,
                    "clients.pem": fs.readFileSync(path.join(lab.etc, "pki/clients.pem"), "utf8"),
                }),
            );
            assert.notEqual(r.status, 0);
            assert.match(r.stderr, /reverse_proxyy/, "Caddy's message names the problem");
            assert.equal(fs.readFileSync(path.join(lab.etc, "Caddyfile"), "utf8"), before, "files rolled back");
            assert.equal((await curl(lab, "lan", HOSTS.private)).status, 200);
        });

        it("a bad haproxy.cfg is refused by haproxy -c and never reaches the running HAProxy", () => {
            const dir = path.join(lab.dir, "haproxy");
            const before = fs.readFileSync(path.join(dir, "haproxy.cfg"), "utf8");
            const r = runScript(
                HAPROXY_WRITE,
                { DIR: dir, HAPROXY: haproxy3Binary() },
                packFiles({ "haproxy.cfg": before.replace("mode tcp", "mode tcpp") }),
            );
            assert.notEqual(r.status, 0);
            assert.match(r.stderr, /tcpp/);
            assert.equal(fs.readFileSync(path.join(dir, "haproxy.cfg"), "utf8"), before);
        });

        it("changing services and users reloads both without dropping a stream; the removed user is refused at once", async () => {
            const ports = Object.fromEntries(Object.entries(lab.echoes).map(([k, e]) => [k, e.port])) as {
                media: number;
                cloud: number;
                dash: number;
                wiki: number;
            };
            // Before: mom gets in; wiki does not exist; 127.0.0.5 is a stranger.
            assert.equal((await curl(lab, "wan", HOSTS.mtls, { cert: "mom" })).status, 200);
            assert.notEqual((await curl(lab, "lan", "wiki.home.example.dev")).status, 200);

            const stream = curl(lab, "lan", HOSTS.private, { path: "/stream", maxTime: 20 });
            await new Promise((r) => setTimeout(r, 500)); // the stream is flowing

            const next = e2eModel(e2eConfig(ports, { users: ["dave"], withWiki: true }));
            const { caddyfile, haproxyCfg } = renderLab(
                { ...next, trustedNetworks: [...next.trustedNetworks, "127.0.0.5/32"] },
                lab.caddyfile.match(/load (\S+)/)?.[1] as string,
            );
            const caddyResult = runScript(
                CADDY_APPLY,
                { ETC: lab.etc, CADDY: caddyBinary() },
                packFiles({
                    Caddyfile: caddyfile,
                    "ca.pem": lab.caPem,
                    "clients.pem": clientsPem(lab.certs, ["dave"]),
                }),
            );
            assert.equal(caddyResult.status, 0, caddyResult.stderr);
            const dir = path.join(lab.dir, "haproxy");
            const haproxyResult = runScript(
                HAPROXY_WRITE,
                { DIR: dir, HAPROXY: haproxy3Binary() },
                packFiles({ "haproxy.cfg": haproxyCfg }),
            );
            assert.equal(haproxyResult.status, 0, haproxyResult.stderr);
            assert.equal(haproxyResult.stdout.trim(), "changed");
            lab.haproxy.kill("SIGUSR2"); // the master reloads softly
            await new Promise((r) => setTimeout(r, 300));

            // Right after the reload: mom is out, dave is in, the new service answers on both planes.
            const mom = await curl(lab, "wan", HOSTS.mtls, { cert: "mom" });
            assert.notEqual(mom.status, 200, "the removed user's certificate fails right after the reload");
            assert.equal((await curl(lab, "wan", HOSTS.mtls, { cert: "dave" })).status, 200);
            assert.equal(JSON.parse((await curl(lab, "lan", "wiki.home.example.dev")).body).service, "wiki");
            assert.equal(
                JSON.parse((await curl(lab, "wan", "wiki.example.dev", { cert: "dave" })).body).service,
                "wiki",
            );

            const s = await stream;
            assert.equal(s.exit, 0, s.verbose.split("\n").slice(-3).join(" | "));
            assert.equal(
                s.body,
                Array.from({ length: 10 }, (_, i) => `chunk ${i}\n`).join("") + "done\n",
                "the stream started before the reload completed",
            );
            assert.equal(lab.caddy.exitCode, null, "Caddy kept running (no restart)");
            assert.equal(lab.haproxy.exitCode, null, "HAProxy's master kept running");
        });
    });

    hardeningTests(() => lab);
    v6SourceTests(() => lab);
    breadthTests(() => lab);
    gatewayTests(() => lab);
    monitorTests(() => lab);
    macEdgeTests(() => lab);
});

/** New connections a second that hold every slot of one relay port, for a hold of `hold`. */
function relayRate(hold: string): string {
    const ms = Number((parseDuration(hold) as bigint) / 1_000_000n);
    return Math.round((RELAY_LIMITS.perFrontend * 1000) / ms).toLocaleString("en-US");
}

function writeSecurityDoc(rows: Row[], proofs: { section: string; title: string; state: string }[]): void {
    const haproxyVersion = execFileSync(haproxy3Binary(), ["-v"], { encoding: "utf8" })
        .split("\n")[0]
        ?.replace(/ - https.*$/, "")
        .replace(/ \d{4}\/\d{2}\/\d{2}$/, "");
    const lines = [
        "# Security matrix",
        "",
        "Generated by the end-to-end suite (`npm run test:e2e`, test/e2e.test.ts); do not edit by hand.",
        "",
        `Real processes on loopback: HAProxy (${haproxyVersion}) with the rendered configs, and Caddy v${versions.caddy}`,
        `(+ caddy-dns/cloudflare ${versions.caddyDnsCloudflare}) with the rendered Caddyfile; only the Caddyfile's certificate source`,
        "differs from production. Both edge shapes run in front of the same Caddy: the Linux edge (HAProxy",
        "as the container would run it) and the Mac edge (HAProxy as the native launchd job would run it,",
        "forwarding to the relay HAProxy with the edge's secret in each PROXY header). Client certificates come from the program's own",
        `CA code path. Sources: trusted LAN ${SOURCES.lan} and tailnet ${SOURCES.tailnet} (both trusted networks here, standing`,
        `in for the LAN and the tailnet ranges), WAN ${SOURCES.wan}, and a router ${SOURCES.router} inside a trusted network but listed in`,
        `homelab:untrustedSources (one that hands forwarded connections over from its own address). Hosts: private-only \`${HOSTS.private}\`, mtls`,
        `\`${HOSTS.mtls}\`, unknown \`${HOSTS.unknown}\`.`,
        "",
        '"no service" means no upstream saw the request (the TLS handshake was refused, or Caddy aborted).',
        '"cert asked" is whether the server sent a TLS CertificateRequest.',
        "",
        "| edge | source | client certificate | host | expected | actual | cert asked | result |",
        "|---|---|---|---|---|---|---|---|",
        ...rows.map(
            (r) =>
                `| ${EDGE_LABEL[r.mode]} | ${SOURCE_LABEL[r.source]} | ${CERT_LABEL[r.cert]} | ${r.host} | ${r.expected} | ${r.actual} | ${r.certRequested ? "yes" : "no"} | ${r.pass ? "pass" : "**FAIL**"} |`,
        ),
        "",
        `${rows.filter((r) => r.pass).length} of ${rows.length} cases as expected.`,
        "",
        "## The edge's limits",
        "",
        "From render/haproxy.ts and render/caddyfile.ts (the values the suite runs with):",
        "",
        "| limit | value |",
        "|---|---|",
        `| connections the edge accepts (HAProxy maxconn) | ${EDGE_LIMITS.maxconn} |`,
        `| concurrent connections from untrusted sources, all together | ${EDGE_LIMITS.untrustedTotal} (the rest is kept for the tailnet and trusted networks) |`,
        `| concurrent connections from one untrusted source (IPv4 address, IPv6 /64) | ${EDGE_LIMITS.perSource} |`,
        `| new connections from one untrusted source per 10 s | ${EDGE_LIMITS.perSourceRate10s} |`,
        `| concurrent connections from one trusted source (a tailnet device by its address; a LAN device by its address, IPv6 by its /64) | ${EDGE_LIMITS.trustedPerSource} |`,
        `| concurrent connections from the trusted networks (not the tailnet), all together | ${EDGE_LIMITS.lanTotal} (the tailnet always has the rest) |`,
        `| the Mac relay: connections per port / all together (every container reaches it) | ${RELAY_LIMITS.perFrontend} / ${RELAY_LIMITS.maxconn} |`,
        `| the Mac relay: time a connection keeps its slot before it proves it is the edge (a whole PROXY header carrying the edge's secret) | ${RELAY_LIMITS.handshakeTimeout} (timeout client-hs) |`,
        `| time to send a TLS ClientHello on :443 / a request on :80 | ${EDGE_LIMITS.helloTimeout} |`,
        `| inactivity before the connection is established end to end | ${EDGE_LIMITS.clientTimeout} |`,
        `| Caddy: TLS handshake and request headers | ${CADDY_TIMING.readHeader} |`,
        `| inactivity of an established stream (download, WebSocket) | ${EDGE_LIMITS.tunnelTimeout} |`,
        `| old HAProxy workers after a soft reload | at most ${EDGE_LIMITS.hardStopAfter} |`,
        `| WebSockets after a Caddy reload: plain / mtls listener | ${CADDY_TIMING.streamCloseDelay.plain} / ${CADDY_TIMING.streamCloseDelay.mtls} |`,
        "| a removed user's open connections | end at once: the apply that revokes a certificate restarts Caddy in place |",
        `| new connections during a Caddy reload | held at HAProxy (settle ${CADDY_HOLD.settleSeconds} s + the reload), then served; a hold ends by itself after ${CADDY_HOLD.maxSeconds} s |`,
        "",
        `What the limits cost a legitimate heavy client: one device may hold ${EDGE_LIMITS.trustedPerSource} connections at once. A browser`,
        "opens about six per site (one with HTTP/2); a TV or streaming box a handful; a photo backup (Immich, Nextcloud)",
        "a few dozen uploads in parallel at most. A device behind a router that rewrites sources (every LAN device",
        "arriving as the router) shares one allowance: list the router in homelab:untrustedSources and give the",
        "devices a certificate, or avoid the rewrite. Untrusted sources: 32 at once and 100 new per 10 s per address",
        "or /64, which a family member's phone on mobile data never reaches.",
        "",
        "The Mac relay: every container reaches its ports (host.docker.internal), from the same address as the",
        "native edge, so no per-source limit can tell them apart. Two things bound what a container holds there.",
        "Slots: the relay takes more connections than the Mac's forwarder can hold open to one port from its",
        `ephemeral ports (16,384), plus the edge's own (${RELAY_LIMITS.perFrontend.toLocaleString("en-US")} a port). Time: a connection that has not proved it is the`,
        `edge keeps its slot for ${RELAY_LIMITS.handshakeTimeout} at most (HAProxy's timeout client-hs, counted from the accept; before, it kept it`,
        `for the ${EDGE_LIMITS.clientTimeout} of timeout client). So to hold every slot of a port a container must open ${relayRate(RELAY_LIMITS.handshakeTimeout)} connections a`,
        `second to it, without pause (slots / hold; ${relayRate(EDGE_LIMITS.clientTimeout)} a second before). The edge's own handshake with the relay, two`,
        "processes on one Mac, takes milliseconds. This suite runs the relay smaller (its machine allows a process",
        `20,000 open files): 5,000 silent connections at once all get a slot; with ${RELAY_FLOOD.slots} slots a port, a container`,
        `opening ${RELAY_FLOOD.rate} a second to each port for ${RELAY_FLOOD.seconds} s holds about ${RELAY_FLOOD.rate} (each closed after client-hs) and the tailnet`,
        `and a certificate holder are served throughout, while the same flood against the old ${EDGE_LIMITS.clientTimeout} hold takes`,
        "every slot and neither is served.",
        "",
        "Not covered, and not verifiable here: Docker Desktop's own port forwarder may cap connections below the",
        "relay's (docker/for-mac issues report vpnkit's --max-connections, about 2,000; not checked), which a",
        "container could fill through host.docker.internal before the relay sees a connection. The fix, publishing",
        "the relay on a loopback alias such as 127.0.0.2, which host.docker.internal does not reach, needs root on",
        "the Mac once and is not done.",
        "",
        "IPv6 sources that embed an IPv4 address (::a.b.c.d, 2002::/16) are never trusted. Only HAProxy (the",
        "Linux edge, or the relay on a Mac) and Caddy are on the edge network, and with homelab:monitoring the",
        "status container; Caddy binds its TLS listeners to its address there only, believes a PROXY header",
        "only from HAProxy's fixed address, and its plain listener refuses any request whose client is not a",
        "trusted source.",
        "",
        "## The status container",
        "",
        "With homelab:monitoring the status container (Gatus) checks every private and mtls name through the",
        'edge, so the edge lets it in: it is the one exception to "no container is a trusted source", and it',
        "is bounded so:",
        "",
        "- It is on the edge network alone, at a fixed address in the part Docker never assigns, with no",
        "  capabilities (no raw sockets: it cannot answer for another address there), as a user of its own,",
        "  with a read-only root. It shares no network with any service: it reaches them through the edge",
        "  and Caddy only, and only Caddy and HAProxy reach its page.",
        "- On Linux the edge's :443 frontend lets that one address skip the split (to the plain listener, or",
        "  by TLS name to the certificate listener); on a Mac the relay has an entry for it on the relay's",
        "  own address, which takes that one source. Caddy's plain listener trusts that one address.",
        "- It holds a client certificate of its own (not a person's), on the leaf allowlist while",
        "  homelab:monitoring is set; its key is a 0600 file of its user's, written from a secret input,",
        "  in a folder no service may mount. It may not be on the public plane.",
        "",
        "So a compromised status container reaches what a tailnet device reaches (the private names through",
        "Caddy) and, with its certificate, what a family member reaches from the WAN (the mtls names, until",
        "homelab:monitoring is removed or the certificate ends: 90 days, renewed by pulumi up); not Caddy's",
        "listeners with a forged PROXY header (only HAProxy's address is believed), not another host's",
        "gateway (only Caddy's certificate passes), not a service directly. It makes requests out to the",
        "internet (public checks through Cloudflare) and to the alert channel.",
        "",
        "## Everything else the suite proves",
        "",
        ...[...new Set(proofs.map((p) => p.section))].flatMap((section) => [
            `### ${section}`,
            "",
            ...proofs
                .filter((p) => p.section === section)
                .map((p) => `- ${p.state === "passed" ? "pass" : `**${p.state.toUpperCase()}**`}: ${p.title}`),
            "",
        ]),
    ];
    fs.mkdirSync(path.join(ROOT, "docs"), { recursive: true });
    fs.writeFileSync(path.join(ROOT, "docs/security.md"), lines.join("\n"));
}
