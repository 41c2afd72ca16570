// @e2e: the status page's checks on loopback (homelab:monitoring). A real HAProxy runs the Linux
// edge's production config (its :443 on the wildcard address, as in the edge container, where the
// status container's address skips the split), and another the Mac relay's with its entry for the
// status container, both in front of the lab's real Caddy with the monitoring Caddyfile. The
// checks of the rendered Gatus config run from the status container's address with a stand-in for
// Gatus (test/support/gatusStandIn.ts: Gatus cannot be built here): a private service and an mtls
// one with the monitor's certificate are up, a stopped service is down, a certificate near its
// end is red; no other source is let in the same way.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as http from "http";
import { ChildProcess, spawn } from "child_process";
import { LAB_RELAY_LIMITS, Lab, SOURCES, applyAndRevoke, issueWithCa } from "./lab";
import { CLIENT_EXT } from "../support/openssl";
import { haproxy3Binary } from "../support/binaries";
import { renderEdgeCfg, renderRelayCfg } from "../../render/haproxy";
import { MONITOR_FILES, renderGatusConfig, renderMonitorHosts } from "../../render/gatus";
import { CheckResult, runChecks } from "../support/gatusStandIn";
import { Model } from "../../stacks/model";

/** The edge's :443 in this test: the main frontend on every address, the monitor entry on HAProxy's own. */
const PORT = { http: 18180, https: 18643 } as const;
/** The Mac shape's relay in this test: its two ports, and its monitor entry on HAProxy's own address. */
const RELAY_PORTS = { plain: 8473, mtls: 9473, monitor: 18644 } as const;

function waitListening(host: string, port: number): Promise<void> {
    const until = Date.now() + 10_000;
    return new Promise((resolve, reject) => {
        const attempt = () => {
            const s = require("net").connect({ host, port }, () => (s.destroy(), resolve()));
            s.on("error", () =>
                Date.now() > until ? reject(new Error(`${host}:${port} not listening`)) : setTimeout(attempt, 100),
            );
        };
        attempt();
    });
}

export function monitorTests(getLab: () => Lab): void {
    describe("monitoring: the status page's checks through the edge's monitor entry (a stand-in for Gatus)", () => {
        let lab: Lab;
        let model: Model;
        let edge: ChildProcess;
        let relay: ChildProcess;
        let dir: string;
        let hostsFile: string;
        const logs: string[] = [];
        // The lab's server certificate lives two days, so the warning here is one day ahead.
        const soon = new Date(Date.now() + 12 * 3600_000).toISOString();
        const later = new Date(Date.now() + 400 * 86400_000).toISOString();

        const check = async (from: string, text?: string): Promise<Map<string, CheckResult>> => {
            const results = await runChecks(text ?? renderGatusConfig(model, certificates()), {
                hostsFile,
                configDir: dir,
                localAddress: from,
                port: PORT.https,
                ca: lab.serverCa,
            });
            return new Map(results.map((r) => [r.name, r]));
        };
        const certificates = () => [
            { name: "dave", notAfter: later },
            { name: "mom", notAfter: soon },
        ];
        const apply = (allow: string[]) =>
            applyAndRevoke(lab, {
                users: ["dave", "mom"],
                allow,
                withWiki: true,
                extraConfig: { "homelab:monitoring": { expiryWarningDays: 1, servedExpiryWarningDays: 1 } },
            });

        before(async () => {
            lab = getLab();
            dir = path.join(lab.dir, "monitor");
            fs.mkdirSync(dir);
            // The monitor's certificate from the stack's CA (the program issues it the same way: pki tests).
            const cert = issueWithCa(dir, "monitor", lab.caPem, lab.caKey, CLIENT_EXT);
            fs.copyFileSync(cert.cert, path.join(dir, MONITOR_FILES.cert));
            fs.copyFileSync(cert.key, path.join(dir, MONITOR_FILES.key));
            lab.certs["monitor"] = cert;
            const r = await apply(["dave", "mom", "monitor"]);
            assert.equal(r.status, 0, r.stderr);
            model = r.model;
            assert.ok(model.monitoring, "the lab's stack has a status page");
            hostsFile = renderMonitorHosts(model);
            const a = model.addresses;
            const cfg = renderEdgeCfg(model, {
                bind: { http: `127.0.0.1:${PORT.http}`, https: `:::${PORT.https} v4v6` },
                upstream: { kind: "caddy", host: a.caddy, sourceAddress: a.haproxy },
                tailnetRanges: [`${SOURCES.tailnet}/32`],
                monitorSource: a.monitor,
            });
            const hdir = path.join(dir, "edge");
            fs.mkdirSync(hdir);
            fs.writeFileSync(path.join(hdir, "haproxy.cfg"), cfg);
            edge = spawn(haproxy3Binary(), ["-W", "-db", "-C", hdir, "-f", "haproxy.cfg"], {
                stdio: ["ignore", "pipe", "pipe"],
            });
            edge.stdout?.on("data", (d) => logs.push(String(d)));
            edge.stderr?.on("data", (d) => logs.push(String(d)));
            await waitListening(a.haproxy, PORT.https);
            // The Mac shape: the relay container's config with the same entry (the native edge has none).
            const rdir = path.join(dir, "relay");
            fs.mkdirSync(rdir);
            fs.writeFileSync(
                path.join(rdir, "haproxy.cfg"),
                renderRelayCfg(model, {
                    bind: { plain: `127.0.0.1:${RELAY_PORTS.plain}`, mtls: `127.0.0.1:${RELAY_PORTS.mtls}` },
                    caddyHost: a.caddy,
                    sourceAddress: a.haproxy,
                    // The lab's smaller limits: production's need more open files than this machine allows a process.
                    limits: LAB_RELAY_LIMITS,
                    monitor: { bind: `${a.haproxy}:${RELAY_PORTS.monitor}`, source: a.monitor },
                }),
            );
            fs.writeFileSync(path.join(rdir, "edge-secret.sha256"), `${"0".repeat(64)}\n`);
            relay = spawn(haproxy3Binary(), ["-W", "-db", "-C", rdir, "-f", "haproxy.cfg"], {
                stdio: ["ignore", "pipe", "pipe"],
            });
            relay.stdout?.on("data", (d) => logs.push(String(d)));
            relay.stderr?.on("data", (d) => logs.push(String(d)));
            await waitListening(a.haproxy, RELAY_PORTS.monitor).catch((e) => {
                throw new Error(`${String(e)}\n${logs.join("")}`);
            });
        });

        after(async () => {
            edge?.kill("SIGTERM");
            relay?.kill("SIGTERM");
            delete lab.certs["monitor"];
            await applyAndRevoke(lab, { users: ["dave", "mom"], withWiki: true });
        });

        it("from the status container's address: the private service is up, the mtls one with the monitor's certificate", async () => {
            const r = await check(model.addresses.monitor);
            for (const name of ["media (private)", "cloud (private)", "cloud (mtls)", "wiki (mtls)"])
                assert.equal(r.get(name)?.success, true, `${name}: ${JSON.stringify(r.get(name))}\n${logs.join("")}`);
        });

        it("the Mac shape: the relay's monitor entry lets the status container in the same way, and nobody else", async () => {
            const viaRelay = async (from: string) =>
                new Map(
                    (
                        await runChecks(renderGatusConfig(model, certificates()), {
                            hostsFile,
                            configDir: dir,
                            localAddress: from,
                            port: RELAY_PORTS.monitor,
                            ca: lab.serverCa,
                        })
                    ).map((r) => [r.name, r]),
                );
            const r = await viaRelay(model.addresses.monitor);
            for (const name of ["media (private)", "cloud (mtls)"])
                assert.equal(r.get(name)?.success, true, `${name}: ${JSON.stringify(r.get(name))}\n${logs.join("")}`);
            for (const [name, res] of await viaRelay(SOURCES.tailnet)) assert.equal(res.success, false, name);
        });

        it("a certificate near its end is red; one far from it is green (Caddy's clock)", async () => {
            const r = await check(model.addresses.monitor);
            assert.equal(r.get("certificate: dave")?.success, true, JSON.stringify(r.get("certificate: dave")));
            assert.equal(r.get("certificate: mom")?.success, false, JSON.stringify(r.get("certificate: mom")));
            assert.deepEqual(r.get("certificate: mom")?.conditions[0], ["[STATUS] == 200", true], "Caddy answered");
        });

        it("a served certificate inside the warning is red: the lab's two-day certificate with a three-day warning", async () => {
            const warned: Model = {
                ...model,
                monitoring: { ...(model.monitoring as NonNullable<Model["monitoring"]>), servedExpiryWarningDays: 3 },
            };
            const r = await check(model.addresses.monitor, renderGatusConfig(warned, certificates()));
            const media = r.get("media (private)");
            assert.equal(media?.success, false);
            assert.deepEqual(
                media?.conditions.map(([c, ok]) => `${c}: ${ok}`),
                ["[CONNECTED] == true: true", "[STATUS] < 500: true", "[CERTIFICATE_EXPIRATION] > 72h: false"],
            );
        });

        it("a stopped service is reported down, and up again once it is back", async () => {
            const echo = lab.echoes["media"] as { server: http.Server; port: number };
            const closed = new Promise<void>((resolve) => echo.server.close(() => resolve()));
            echo.server.closeAllConnections();
            await closed;
            try {
                const r = await check(model.addresses.monitor);
                const media = r.get("media (private)");
                assert.equal(media?.success, false, JSON.stringify(media));
                assert.ok(
                    media?.conditions.some(([c, ok]) => c === "[STATUS] < 500" && !ok),
                    `Caddy answers 502 for it: ${JSON.stringify(media)}`,
                );
                assert.equal(r.get("cloud (private)")?.success, true, "the others stay up");
            } finally {
                await new Promise<void>((resolve) => echo.server.listen(echo.port, "127.0.0.1", () => resolve()));
            }
            assert.equal((await check(model.addresses.monitor)).get("media (private)")?.success, true);
        });

        it("the monitor's certificate off the allowlist: its mtls checks fail, its private ones do not", async () => {
            assert.equal((await apply(["dave", "mom"])).status, 0);
            try {
                const r = await check(model.addresses.monitor);
                assert.equal(r.get("cloud (mtls)")?.success, false, JSON.stringify(r.get("cloud (mtls)")));
                assert.equal(r.get("cloud (private)")?.success, true);
            } finally {
                assert.equal((await apply(["dave", "mom", "monitor"])).status, 0);
            }
        });

        it("the Linux edge: only the status container's address skips the split; a WAN source gets no private name", async () => {
            const r = await check(SOURCES.wan);
            for (const name of ["media (private)", "cloud (private)", "wiki (private)"])
                assert.equal(r.get(name)?.success, false, `${name} from the WAN: ${JSON.stringify(r.get(name))}`);
            // The monitor's certificate is a client certificate like a person's: from the WAN it opens mtls names only.
            assert.equal(r.get("cloud (mtls)")?.success, true);
        });

        it("the Linux edge: the status container holds at most 64 connections (it may not fill the edge); a tailnet device is served meanwhile", async () => {
            const net = require("net") as typeof import("net");
            const socks: import("net").Socket[] = [];
            const open = new Set<import("net").Socket>();
            try {
                await Promise.all(
                    Array.from(
                        { length: 100 },
                        () =>
                            new Promise<void>((resolve) => {
                                const s = net.connect({
                                    host: model.addresses.haproxy,
                                    port: PORT.https,
                                    localAddress: model.addresses.monitor,
                                });
                                socks.push(s);
                                s.on("connect", () => (open.add(s), resolve()));
                                s.on("close", () => (open.delete(s), resolve()));
                                s.on("error", () => resolve());
                            }),
                    ),
                );
                await new Promise((r) => setTimeout(r, 1000));
                assert.ok(open.size <= 64 && open.size >= 56, `${open.size} of 100 silent connections kept`);
                assert.equal((await check(SOURCES.tailnet)).get("media (private)")?.success, true);
            } finally {
                for (const s of socks) s.destroy();
            }
        });

        it("the Linux edge: a tailnet device connecting to HAProxy's own address (where Docker hands it every published connection) is served", async () => {
            // Review finding: a listener bound there took the tailnet's :443. The status container now
            // enters by the main frontend, which alone listens on the port.
            const r = await check(SOURCES.tailnet);
            assert.equal(r.get("media (private)")?.success, true, JSON.stringify(r.get("media (private)")));
            assert.equal(r.get("cloud (private)")?.success, true);
        });
    });
}
