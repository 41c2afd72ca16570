// homelab:monitoring and homelab:dashboard: the status container's config (Gatus), its names and the
// dashboard's config (Glance), checked against the schemas written down from each program's source
// (test/support/gatus-schema.ts, glance-schema.ts: neither program can be built here), and the
// edge's monitor entry as HAProxy runs it.
import { strict as assert } from "assert";
import * as path from "path";
import { parse } from "yaml";
import { ROOT } from "../harness";
import { STACKS } from "../support/goldenStacks";
import { modelFromStackFile } from "../../stacks/stackFile";
import { ALERT_TOKEN_ENV, Model } from "../../stacks/model";
import {
    CLOCK_PATH,
    MONITOR_FILES,
    clockUrl,
    monitorPlan,
    renderGatusConfig,
    renderMonitorHosts,
    warnAt,
    warningDays,
} from "../../render/gatus";
import { renderGlanceConfig } from "../../render/glance";
import { renderAll } from "../../render/all";
import { gatusProblems, parseGatusCondition } from "../support/gatus-schema";
import { glanceProblems, glanceTextProblems } from "../support/glance-schema";

const CERTS = [
    { name: "dave", notAfter: "2027-12-04T10:00:00Z", renewalDays: 30 },
    { name: "client CA", notAfter: "2036-12-04T10:00:00Z" },
];
const ENV = { [ALERT_TOKEN_ENV]: "tk_0123456789abcdefghijklmnopqrs" };

function stack(name: string): Model {
    return modelFromStackFile(path.join(ROOT, STACKS[name] as string));
}

interface GatusEndpoint {
    name: string;
    group: string;
    url: string;
    client?: { tls?: Record<string, string> };
    conditions: string[];
    alerts?: { type: string }[];
}

function endpoints(m: Model): GatusEndpoint[] {
    return (parse(renderGatusConfig(m, CERTS)) as { endpoints: GatusEndpoint[] }).endpoints;
}

describe("monitoring: the status container's config (Gatus)", () => {
    for (const name of ["lake", "twohosts"]) {
        it(`${name}: is a config Gatus loads (the schema from its source), with the token only as \${${ALERT_TOKEN_ENV}}`, () => {
            const text = renderGatusConfig(stack(name), CERTS);
            assert.deepEqual(gatusProblems(parse(text), { env: ENV }), []);
            // Gatus expands $ over the whole file, comments included: nothing but the token's reference.
            const dollars = [...text.matchAll(/\$\{?[A-Za-z_]*\}?/g)].map((x) => x[0]);
            const m = stack(name);
            assert.deepEqual(
                dollars,
                m.monitoring?.alerts?.tokenSecret ? [`\${${ALERT_TOKEN_ENV}}`] : [],
                "no other $ in the file",
            );
        });
    }

    it("the schema check can fail: a typo, a bad condition and an unset $ are each reported", () => {
        const good = parse(renderGatusConfig(stack("lake"), CERTS)) as Record<string, unknown>;
        const bad = structuredClone(good) as { endpoints: Record<string, unknown>[] };
        (bad.endpoints[0] as Record<string, unknown>)["intervall"] = "1m";
        (bad.endpoints[1] as { conditions: string[] }).conditions = ["[STATUS]==200"];
        const problems = gatusProblems(bad, { env: ENV });
        assert.equal(problems.length, 2, problems.join("\n"));
        assert.match(problems[0] as string, /^endpoints\[0\]: .*"intervall"/);
        assert.match(problems[1] as string, /^endpoints\[1\]\.conditions\[0\]: .*no operator/);
        assert.ok(
            gatusProblems(good, {}).some((p) => p.includes(ALERT_TOKEN_ENV)),
            "an unset $ is reported",
        );
    });

    it("one check per service per plane, from where that plane's clients come; mtls with the monitor's certificate", () => {
        const m = stack("lake");
        const eps = endpoints(m).filter((e) => e.group !== "certificates");
        const expected = m.services.flatMap((s) =>
            s.expose.map((p) => ({ name: `${s.name} (${p})`, url: `https://${s.hostnames[p] as string}/`, p })),
        );
        assert.deepEqual(
            eps.map((e) => [e.name, e.url]),
            expected.map((e) => [e.name, e.url]),
        );
        for (const e of eps) {
            const mtls = e.name.endsWith("(mtls)");
            assert.equal(
                e.client?.tls?.["certificate-file"],
                mtls ? `/config/${MONITOR_FILES.cert}` : undefined,
                e.name,
            );
            assert.equal(
                e.client?.tls?.["private-key-file"],
                mtls ? `/config/${MONITOR_FILES.key}` : undefined,
                e.name,
            );
            // lake's certificates come from Let's Encrypt's staging CA (acme.ca): not verifiable against the public roots.
            assert.equal((e.client as any)?.insecure, true, e.name);
            assert.ok(e.conditions.includes("[CONNECTED] == true"));
            assert.ok(e.conditions.includes("[STATUS] < 500"));
            // The served certificate: red 7 days (servedExpiryWarningDays' default) before it ends.
            assert.ok(e.conditions.includes("[CERTIFICATE_EXPIRATION] > 168h"), e.name);
            assert.deepEqual(e.alerts, [{ type: "custom" }]);
        }
    });

    it("groups checks by host: the edge host's, and each further host's by name", () => {
        const eps = endpoints(stack("twohosts"));
        const group = (n: string) => eps.find((e) => e.name === n)?.group;
        assert.equal(group("jellyfin (private)"), "host nas");
        assert.equal(group("photos (mtls)"), "host nas");
        assert.equal(group("notes (public)"), "edge host");
        assert.equal(group("status (private)"), "edge host");
    });

    it("leaves out a public name behind Cloudflare Access (it would see the login page) and says why", () => {
        const m = stack("home");
        const gated = m.services.filter((s) => s.expose.includes("public") && s.access);
        assert.ok(gated.length > 0, "the example has a gated service");
        const withMonitoring: Model = {
            ...m,
            monitoring: { service: "jellyfin", interval: "1m", expiryWarningDays: 21, servedExpiryWarningDays: 7 },
        };
        const plan = monitorPlan(withMonitoring);
        for (const s of gated) {
            assert.ok(!plan.checks.some((c) => c.service.name === s.name && c.plane === "public"), s.name);
            assert.match(plan.omitted.find((o) => o.service === s.name)?.reason ?? "", /Access/);
        }
        const urls = endpoints(withMonitoring).map((e) => e.url);
        for (const s of gated) assert.ok(!urls.includes(`https://${s.hostnames.public as string}/`));
    });

    it("a certificate's check reads Caddy's clock and turns red expiryWarningDays before it ends", () => {
        const m = stack("lake");
        const eps = endpoints(m).filter((e) => e.group === "certificates");
        assert.deepEqual(
            eps.map((e) => e.name),
            ["certificate: client CA", "certificate: dave"],
        );
        const dave = eps.find((e) => e.name === "certificate: dave") as GatusEndpoint;
        assert.equal(dave.url, `${clockUrl(m).url}`);
        assert.ok(dave.url.endsWith(CLOCK_PATH));
        // lake warns 30 days ahead; dave's certificate is renewed in its last 30, so red at halfway: 15.
        const limit = warnAt("2027-12-04T10:00:00Z", 15);
        assert.equal(limit, Date.parse("2027-11-19T10:00:00Z") / 1000);
        assert.ok(dave.conditions.includes(`[BODY] < ${limit}`));
        // As Gatus compares: the body (Unix seconds) against the limit, as integers.
        const c = parseGatusCondition(`[BODY] < ${limit}`);
        assert.ok(c);
        const holds = (now: string) => Number(Date.parse(now) / 1000) < limit;
        assert.equal(holds("2027-11-19T09:59:59Z"), true);
        assert.equal(holds("2027-11-19T10:00:00Z"), false);
        const ca = eps.find((e) => e.name === "certificate: client CA") as GatusEndpoint;
        assert.ok(ca.conditions.includes(`[BODY] < ${warnAt("2036-12-04T10:00:00Z", 30)}`), "the CA: all 30 days");
    });

    it("a short certificate warns halfway through its renewal window, in hours (a one-day one: 4 hours before its end)", () => {
        // earlyRenewalHours(1) = 8: renewed in its last 8 hours, so red in its last 4.
        assert.equal(warningDays({ name: "x", notAfter: "2027-01-02T00:00:00Z", renewalDays: 8 / 24 }, 21), 4 / 24);
        assert.equal(warnAt("2027-01-02T00:00:00Z", 4 / 24), Date.parse("2027-01-01T20:00:00Z") / 1000);
        assert.equal(warningDays({ name: "x", notAfter: "2027-01-02T00:00:00Z", renewalDays: 30 }, 21), 15);
        assert.equal(warningDays({ name: "CA", notAfter: "2027-01-02T00:00:00Z" }, 21), 21);
    });

    it("the clock is read on the status page's private name, else its mtls name with the monitor's certificate", () => {
        const m = stack("lake");
        assert.equal(clockUrl(m).plane, "private");
        const status = m.services.find((s) => s.name === "status");
        assert.ok(status);
        const mtlsOnly: Model = {
            ...m,
            services: m.services.map((s) =>
                s.name === "status" ? { ...s, expose: ["mtls"], hostnames: { mtls: s.hostnames.mtls as string } } : s,
            ),
        };
        assert.deepEqual(clockUrl(mtlsOnly), {
            url: `https://${status.hostnames.mtls as string}${CLOCK_PATH}`,
            plane: "mtls",
        });
        const clock = endpoints(mtlsOnly).find((e) => e.name === "certificate: dave");
        assert.equal(clock?.client?.tls?.["certificate-file"], `/config/${MONITOR_FILES.cert}`);
    });

    it("the status container's /etc/hosts puts every private and mtls name at the edge's address, and no public one", () => {
        const m = stack("twohosts");
        const hosts = renderMonitorHosts(m);
        const lines = hosts.split("\n").filter((l) => l && !l.startsWith("#"));
        const mapped = new Map(lines.map((l) => l.split("\t").reverse() as [string, string]));
        for (const s of m.services) {
            for (const p of ["private", "mtls"] as const)
                if (s.hostnames[p]) assert.equal(mapped.get(s.hostnames[p] as string), m.addresses.haproxy, s.name);
            if (s.hostnames.public) assert.ok(!mapped.has(s.hostnames.public), `${s.name}'s public name goes to DNS`);
        }
        assert.equal(mapped.get("localhost"), "::1");
    });

    it("is byte-identical for the same inputs, whatever order the certificates come in", () => {
        const m = stack("lake");
        assert.equal(renderGatusConfig(m, CERTS), renderGatusConfig(m, [...CERTS].reverse()));
    });
});

describe("monitoring: the dashboard's config (Glance)", () => {
    it("is a config Glance loads (the schema from its source), with nothing it would substitute", () => {
        const text = renderGlanceConfig(stack("twohosts"));
        assert.deepEqual(glanceProblems(parse(text)), []);
        assert.deepEqual(glanceTextProblems(text), []);
    });

    it("the schema check can fail: an unknown key and a link without a URL are reported", () => {
        const cfg = parse(renderGlanceConfig(stack("twohosts"))) as any;
        cfg.pages[0].colums = [];
        delete cfg.pages[0].columns[0].widgets[0].groups[0].links[0].url;
        const problems = glanceProblems(cfg);
        assert.equal(problems.length, 2, problems.join("\n"));
        assert.ok(problems.some((p) => /links\[0\]\.url: url is required/.test(p)));
        assert.ok(problems.some((p) => /unknown key "colums"/.test(p)));
    });

    it("lists every service with its URL per plane, grouped by host", () => {
        const m = stack("twohosts");
        const cfg = parse(renderGlanceConfig(m)) as {
            pages: {
                name: string;
                columns: {
                    widgets: { title: string; groups: { title: string; links: { title: string; url: string }[] }[] }[];
                }[];
            }[];
        };
        assert.equal(cfg.pages[0]?.name, "Our homelab");
        const widgets = cfg.pages[0]?.columns[0]?.widgets ?? [];
        assert.deepEqual(
            widgets.map((w) => w.title),
            ["edge host", "nas"],
        );
        const links = widgets.flatMap((w) =>
            w.groups.flatMap((g) => g.links.map((l) => `${w.title} ${l.title} ${l.url}`)),
        );
        for (const s of m.services)
            for (const p of s.expose)
                assert.ok(
                    links.includes(
                        `${s.kind === "managed" && s.host ? s.host : "edge host"} ${s.name} https://${s.hostnames[p] as string}/`,
                    ),
                    `${s.name} ${p}`,
                );
        // Internal services have no URL and are not listed.
        assert.ok(!links.some((l) => l.includes("photos-db")));
    });
});

describe("monitoring: nothing of it without the keys", () => {
    it("a stack without homelab:monitoring renders no clock, no monitor entry and no trust for the monitor's address", () => {
        const m = stack("cabin");
        const files = renderAll(m);
        assert.ok(!files["Caddyfile"]?.includes(CLOCK_PATH));
        assert.ok(!files["haproxy.cfg"]?.includes("from_monitor"));
        assert.ok(!files["Caddyfile"]?.includes(`${m.addresses.monitor}/32`));
        assert.ok(!Object.keys(files).some((f) => f.startsWith("monitoring/") || f.startsWith("dashboard/")));
    });

    it("with it, the Linux edge lets the status container's address alone skip the split, on its one :443 listener", () => {
        const m = stack("lake");
        const files = renderAll(m);
        const cfg = files["haproxy.cfg"] as string;
        const https = cfg.slice(cfg.indexOf("frontend https"), cfg.indexOf("\n\n", cfg.indexOf("frontend https")));
        const mon = m.addresses.monitor.replace(/\./g, "\\.");
        assert.match(
            https,
            new RegExp(
                `\\n    acl monitor_addr src ${mon}/32 ::ffff:${mon}/128\\n` +
                    "    acl monitor_v4_embedded src ::/96 2002::/16\\n" +
                    "    tcp-request connection track-sc0 src table per_monitor if monitor_addr !monitor_v4_embedded\\n" +
                    "    tcp-request connection reject if monitor_addr !monitor_v4_embedded \\{ sc0_conn_cur gt 64 \\}\\n" +
                    "    tcp-request connection accept if monitor_addr !monitor_v4_embedded\\n",
            ),
        );
        // Before the split: its mtls names to the certificate listener, everything else to the plain one.
        const routes = https.split("\n").filter((l) => l.includes("use_backend"));
        assert.deepEqual(routes.slice(0, 2), [
            "    use_backend caddy_mtls if monitor_addr !monitor_v4_embedded { req.ssl_sni -i files.lake.example.net photos.lake.example.net status.lake.example.net }",
            "    use_backend caddy_plain if monitor_addr !monitor_v4_embedded",
        ]);
        // No listener of its own: Docker hands the edge every published connection at its own
        // address, so one bound there would take the tailnet's :443 (found by review).
        assert.ok(!cfg.includes("frontend from_monitor"));
        assert.equal((cfg.match(/^\s*bind /gm) ?? []).length, 2, "the :80 and :443 frontends' binds only");
        const guard = (files["Caddyfile"] as string).split("\n").find((l) => l.includes("@untrusted not remote_ip"));
        assert.ok(guard?.endsWith(` ${m.addresses.monitor}/32`), guard);
    });
});

describe("monitoring: many mtls names", () => {
    it("the status container's mtls names are split over lines HAProxy takes (at most 64 words a line)", () => {
        const m = stack("lake");
        const extra = Array.from({ length: 70 }, (_, i) => ({
            ...(m.services.find((s) => s.name === "photos") as Model["services"][number]),
            name: `app${i}`,
            label: `app${i}`,
            hostnames: { mtls: `app${i}.lake.example.net` },
        }));
        const cfg = renderAll({ ...m, services: [...m.services, ...extra] })["haproxy.cfg"] as string;
        const lines = cfg.split("\n").filter((l) => l.includes("if monitor_addr !monitor_v4_embedded { req.ssl_sni"));
        assert.equal(lines.length, 3, "73 names: three lines");
        for (const l of lines) assert.ok(l.trim().split(/\s+/).length < 64, l);
        const names = lines.flatMap((l) => l.replace(/.*-i (.*) \}$/, "$1").split(" "));
        assert.equal(new Set(names).size, 73);
    });
});
