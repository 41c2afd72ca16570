// @e2e: the outside security review's findings, each as an attack on the lab's real HAProxy and
// Caddy (test/e2e/lab.ts). Every flood and loop is bounded and stops by itself; all traffic is on
// 127.0.0.0/8.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import * as http2 from "http2";
import * as tls from "tls";
import * as net from "net";
import { EDGE_HOLD } from "../../render/reload";
import {
    CONTAINER_ON_MAC,
    EDGE_PORTS,
    HOST_LAN_ADDRESS,
    IOT_DEVICE,
    IOT_DEVICES,
    LAB_RELAY_LIMITS,
    Lab,
    MacEdge,
    SOURCES,
    applyAndRevoke,
    applyCaddy,
    applyHaproxy,
    curl,
    labReloadEnvironment,
    reloadCaddyOnHost,
    runAsync,
    startMacEdge,
} from "./lab";
import { clientHello, flood, holdOpen, load, proxyV1, proxyV2, rawHttps, sustainedFlood, webSocket } from "./clients";
import { CADDY_HOLD, EDGE_LIMITS, RELAY_LIMITS } from "../../render/haproxy";
import { CADDY_TIMING } from "../../render/caddyfile";
import { CADDY_ADMIN } from "../../stacks/layout";
import { parseDuration } from "../../stacks/grammar";

const MEDIA = "media.home.example.dev";
const CLOUD = "cloud.example.dev";
const seconds = (d: string) => Number((parseDuration(d) as bigint) / 1_000_000n) / 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Loopback addresses standing in for many WAN clients. */
const wanSources = (n: number) =>
    Array.from({ length: n }, (_, i) => `127.0.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`);

/** The sites and users most attacks run against: dave and mom current, the wiki served. */
/** Runs EDGE_HOLD through the lab's docker stand-in (both HAProxies that connect to Caddy). */
function hold(
    lab: Lab,
    mode: "hold" | "release",
    overrides: Record<string, string> = {},
): Promise<{ status: number | null; stdout: string; stderr: string }> {
    const env = { ...process.env, ...labReloadEnvironment(lab, overrides) };
    return runAsync(
        "docker",
        ["exec", "-e", `MODE=${mode}`, "-e", `HOLD_MAX=${env["HOLD_MAX"]}`, "haproxy", "sh", "-c", EDGE_HOLD],
        env,
    );
}

const STANDARD_SITES = { users: ["dave", "mom"], withWiki: true };

/**
 * The sustained flood at the relay (docs/security.md quotes it): a container opens `rate` silent
 * connections a second to each relay port for `seconds`, against `slots` a port.
 */
export const RELAY_FLOOD = { slots: 512, rate: 200, seconds: 12 } as const;

/** The lab with the standard sites applied (a test before may have changed them). */
function standardLab(getLab: () => Lab): Lab {
    const lab = getLab();
    const r = applyCaddy(lab, STANDARD_SITES);
    assert.equal(r.status, 0, r.stderr);
    return lab;
}

export function hardeningTests(getLab: () => Lab): void {
    describe("hardening: who may hand Caddy a PROXY header", () => {
        let lab: Lab;
        before(() => (lab = standardLab(getLab)));
        const caddy = (port: number, from: string, header?: Buffer, cert?: string) =>
            rawHttps({
                from,
                host: lab.model.addresses.caddy,
                port,
                servername: port === 8443 ? MEDIA : CLOUD,
                ca: lab.serverCa,
                ...(header ? { header } : {}),
                ...(cert ? { cert: lab.certs[cert] as { cert: string; key: string } } : {}),
            });

        it("control: from HAProxy's fixed address, a PROXY header naming a trusted source is believed", async () => {
            const r = await caddy(
                8443,
                lab.model.addresses.haproxy,
                proxyV2(SOURCES.tailnet, lab.model.addresses.caddy),
            );
            assert.equal(r.status, 200, r.error);
            assert.match(r.body, /"service":"media"/);
        });

        it("Caddy's own guard refuses a listed untrusted source inside a trusted network, even in a header from HAProxy", async () => {
            const hits = lab.echoes["media"]!.hits.length;
            const r = await caddy(
                8443,
                lab.model.addresses.haproxy,
                proxyV2(SOURCES.router, lab.model.addresses.caddy),
            );
            assert.notEqual(r.status, 200, `served: ${r.body.slice(0, 80)}`);
            assert.equal(lab.echoes["media"]!.hits.length, hits);
        });

        const forged: [string, (to: string) => Buffer][] = [
            ["PROXY v1, IPv4 tailnet source", (to) => proxyV1(SOURCES.tailnet, to)],
            ["PROXY v2, IPv4 tailnet source", (to) => proxyV2(SOURCES.tailnet, to)],
            [
                "PROXY v2, IPv6 tailnet source (fd7a:115c:a1e0::5)",
                () => proxyV2("fd7a:115c:a1e0::5", "fd7a:115c:a1e0::1"),
            ],
            ["PROXY v1, IPv6 tailnet source", () => proxyV1("fd7a:115c:a1e0::5", "fd7a:115c:a1e0::1")],
        ];
        for (const from of [
            ["the WAN", SOURCES.wan],
            ["another container", "127.0.0.77"],
            ["Caddy's own network gateway", "127.0.0.193"],
        ] as const) {
            for (const [label, header] of forged) {
                it(`from ${from[0]} (${from[1]}): a forged ${label} reaches nothing on the plain listener`, async () => {
                    const hits = lab.echoes["media"]!.hits.length;
                    const r = await caddy(8443, from[1], header(lab.model.addresses.caddy));
                    assert.notEqual(r.status, 200, `served: ${r.body.slice(0, 80)}`);
                    assert.equal(lab.echoes["media"]!.hits.length, hits);
                });
            }
            it(`from ${from[0]} (${from[1]}): no header at all reaches nothing on the plain listener (its own address is not trusted)`, async () => {
                const hits = lab.echoes["media"]!.hits.length;
                const r = await caddy(8443, from[1]);
                assert.notEqual(r.status, 200, `served: ${r.body.slice(0, 80)}`);
                assert.equal(lab.echoes["media"]!.hits.length, hits);
            });
        }

        it("Caddy's admin API refuses a request proxied to it (its Host is a site's name), should an upstream name resolve to loopback", async () => {
            const [host, port] = CADDY_ADMIN.split(":") as [string, string];
            const ask = (hostHeader: string) =>
                new Promise<number>((resolve) => {
                    const req = http.get(
                        {
                            host: "127.0.0.1",
                            port: Number(port),
                            path: "/config/",
                            headers: { Host: hostHeader },
                            timeout: 3000,
                        },
                        (res) => {
                            res.resume();
                            resolve(res.statusCode ?? 0);
                        },
                    );
                    req.on("error", () => resolve(0));
                });
            assert.equal(await ask(`${host}:${port}`), 200, "control: the admin API answers its own name");
            assert.equal(await ask(MEDIA), 403);
        });

        it("the mtls listener still demands a certificate from anyone who reaches it directly", async () => {
            assert.notEqual((await caddy(9443, SOURCES.wan)).status, 200);
            assert.notEqual(
                (await caddy(9443, SOURCES.wan, proxyV2(SOURCES.tailnet, lab.model.addresses.caddy))).status,
                200,
            );
        });

        it("Caddy listens only on its edge address: nothing answers on :8443 or :9443 at addresses it does not own", async () => {
            for (const host of ["127.0.0.196", "127.0.0.2"]) {
                for (const port of [8443, 9443]) {
                    const r = await rawHttps({
                        from: SOURCES.wan,
                        host,
                        port,
                        servername: port === 8443 ? MEDIA : CLOUD,
                        ca: lab.serverCa,
                        timeoutMs: 2000,
                    });
                    assert.match(r.error ?? "", /ECONNREFUSED/, `${host}:${port}`);
                }
            }
        });
    });

    describe("hardening: the edge host's own address is not a trusted client", () => {
        let lab: Lab;
        before(() => (lab = standardLab(getLab)));
        for (const mode of ["container", "native"] as const) {
            const edge = (to: string, cert?: string) =>
                rawHttps({
                    from: SOURCES.lan,
                    host: to,
                    port: EDGE_PORTS[mode].https,
                    servername: MEDIA,
                    ca: lab.serverCa,
                    ...(cert ? { cert: lab.certs[cert] as { cert: string; key: string } } : {}),
                    timeoutMs: 3000,
                });
            it(`(${mode} edge) control: the LAN address reaching the edge's other address is trusted`, async () => {
                assert.equal((await edge("127.0.0.1")).status, 200);
            });
            it(`(${mode} edge) a process on the edge host that picks the host's listed address as its source reaches no private site`, async () => {
                const hits = lab.echoes["media"]!.hits.length;
                const r = await rawHttps({
                    from: HOST_LAN_ADDRESS,
                    host: "127.0.0.1",
                    port: EDGE_PORTS[mode].https,
                    servername: MEDIA,
                    ca: lab.serverCa,
                    timeoutMs: 3000,
                });
                assert.notEqual(r.status, 200, `served: ${r.body.slice(0, 80)}`);
                assert.equal(lab.echoes["media"]!.hits.length, hits);
            });
            it(`(${mode} edge) a connection from the edge's own LAN address to itself reaches no private site, even with a certificate`, async () => {
                const hits = lab.echoes["media"]!.hits.length;
                for (const cert of [undefined, "dave"]) {
                    const r = await edge(SOURCES.lan, cert);
                    assert.notEqual(r.status, 200, `served (${cert ?? "no certificate"}): ${r.body.slice(0, 80)}`);
                }
                assert.equal(lab.echoes["media"]!.hits.length, hits);
            });
        }
    });

    describe("hardening: one source cannot starve the others", function () {
        this.timeout(60_000);
        let lab: Lab;
        before(() => (lab = getLab()));

        for (const mode of ["container", "native"] as const) {
            it(`(${mode} edge) one WAN address gets at most ${EDGE_LIMITS.perSource} concurrent connections`, async () => {
                // A source of its own: the per-source counters remember earlier tests for a while.
                const f = await flood({
                    sources: [mode === "container" ? "127.0.0.41" : "127.0.0.42"],
                    perSource: 100,
                    port: EDGE_PORTS[mode].https,
                    maxMs: 20_000,
                });
                try {
                    await sleep(500);
                    assert.ok(f.alive() <= EDGE_LIMITS.perSource, `alive ${f.alive()} of ${f.opened}`);
                    assert.ok(
                        f.alive() >= EDGE_LIMITS.perSource - 2,
                        `alive ${f.alive()}: the first ${EDGE_LIMITS.perSource} are served`,
                    );
                    assert.equal((await curl(lab, "tailnet", MEDIA, { edge: mode })).status, 200);
                } finally {
                    f.stop();
                }
            });

            it(`(${mode} edge) one trusted LAN device (a compromised IoT box) gets at most ${EDGE_LIMITS.trustedPerSource} connections of 4,200 it opens; the tailnet, the LAN and a certificate holder on the WAN are served meanwhile`, async () => {
                const hello = await clientHello(MEDIA);
                const f = await flood({
                    sources: [IOT_DEVICE],
                    perSource: 4200,
                    port: EDGE_PORTS[mode].https,
                    send: hello,
                    maxMs: 30_000,
                });
                try {
                    await sleep(800);
                    const alive = f.alive();
                    assert.ok(alive <= EDGE_LIMITS.trustedPerSource, `the device holds ${alive} of ${f.opened}`);
                    assert.ok(
                        alive >= EDGE_LIMITS.trustedPerSource - 8,
                        `the device holds ${alive}: its first ${EDGE_LIMITS.trustedPerSource} are accepted (it is trusted)`,
                    );
                    for (const source of ["tailnet", "lan"] as const) {
                        const r = await curl(lab, source, MEDIA, { edge: mode, maxTime: 5 });
                        assert.equal(r.status, 200, `${source}: ${r.verbose.split("\n").slice(-2).join(" | ")}`);
                    }
                    const family = await curl(lab, "wan", CLOUD, { edge: mode, cert: "dave", maxTime: 5 });
                    assert.equal(
                        family.status,
                        200,
                        `a family member on the WAN: ${family.verbose.split("\n").slice(-2).join(" | ")}`,
                    );
                } finally {
                    f.stop();
                }
                await sleep(500);
            });

            it(`(${mode} edge) 16 trusted LAN addresses opening 256 connections each hold at most ${EDGE_LIMITS.lanTotal} together: the tailnet is served`, async () => {
                const hello = await clientHello(MEDIA);
                const f = await flood({
                    sources: IOT_DEVICES,
                    perSource: EDGE_LIMITS.trustedPerSource,
                    port: EDGE_PORTS[mode].https,
                    send: hello,
                    maxMs: 30_000,
                });
                try {
                    await sleep(800);
                    const alive = f.alive();
                    assert.ok(alive <= EDGE_LIMITS.lanTotal + 8, `the LAN addresses hold ${alive} of ${f.opened}`);
                    const r = await curl(lab, "tailnet", MEDIA, { edge: mode, maxTime: 5 });
                    assert.equal(r.status, 200, `tailnet: ${r.verbose.split("\n").slice(-2).join(" | ")}`);
                } finally {
                    f.stop();
                }
                await sleep(500);
            });

            it(`(${mode} edge) a flood of ${150 * 30} stalled handshakes from 150 WAN addresses leaves the tailnet and LAN served`, async () => {
                const hello = await clientHello(CLOUD);
                const f = await flood({
                    sources: wanSources(150),
                    perSource: 30,
                    port: EDGE_PORTS[mode].https,
                    send: hello,
                    maxMs: 30_000,
                });
                try {
                    await sleep(800);
                    const alive = f.alive();
                    assert.ok(
                        alive <= EDGE_LIMITS.untrustedTotal + 8,
                        `untrusted connections held: ${alive} of ${f.opened}`,
                    );
                    for (const source of ["tailnet", "lan"] as const) {
                        const r = await curl(lab, source, MEDIA, { edge: mode, maxTime: 5 });
                        assert.equal(r.status, 200, `${source}: ${r.verbose.split("\n").slice(-2).join(" | ")}`);
                    }
                } finally {
                    f.stop();
                }
                await sleep(500);
            });
        }
    });

    describe("hardening: no container can fill the Mac's relay", function () {
        this.timeout(60_000);
        let lab: Lab;
        before(() => (lab = getLab()));

        // Every container reaches the relay's published ports through host.docker.internal, from the
        // same address as the native edge: per-source limits cannot tell them apart. Two things bound
        // what a container holds: the relay's slots, and how long a connection that has not proved it
        // is the edge may keep one (client-hs). Each test runs a native edge and a relay of its own
        // (startMacEdge), rendered with the slots and the hold it is about.
        const hs = seconds(RELAY_LIMITS.handshakeTimeout) * 1000;
        /** What the relay waited before client-hs: timeout client. */
        const OLD_HOLD = EDGE_LIMITS.clientTimeout;
        const withMacEdge = async (
            limits: { perFrontend: number; maxconn: number; handshakeTimeout: string },
            run: (edge: MacEdge) => Promise<void>,
        ) => {
            const edge = await startMacEdge(lab, limits);
            try {
                await run(edge);
            } finally {
                await edge.stop();
            }
        };
        /** The tailnet (the relay's plain port) and a certificate holder on the WAN (its mtls port), through that native edge. */
        const served = async (edge: MacEdge, maxTime: number) => {
            const [tailnet, family] = await Promise.all([
                curl(lab, "tailnet", MEDIA, { ports: edge.edge, maxTime }),
                curl(lab, "wan", CLOUD, { ports: edge.edge, cert: "dave", maxTime }),
            ]);
            const why = (r: { verbose: string }) => r.verbose.split("\n").slice(-2).join(" | ");
            return {
                statuses: [tailnet.status, family.status],
                why: `tailnet: ${why(tailnet)}; WAN with a certificate: ${why(family)}`,
            };
        };

        // Capacity, the hold set aside (held 30 s: opening 5,000 takes this machine seconds, and they
        // must all still be there): the lab's slots (LAB_RELAY_LIMITS) take more than the old limit
        // of 4,096 at once.
        const CAPACITY_HOLD = "30s";
        for (const which of ["plain", "mtls"] as const) {
            it(`capacity: 5,000 silent connections at once to the relay's ${which} port all get a slot (held ${CAPACITY_HOLD} here), and the tailnet and a certificate holder are served through the native edge`, async () => {
                await withMacEdge({ ...LAB_RELAY_LIMITS, handshakeTimeout: CAPACITY_HOLD }, async (edge) => {
                    const port = edge.relay[which];
                    const f = await flood({ sources: [CONTAINER_ON_MAC], perSource: 5000, port, maxMs: 30_000 });
                    try {
                        await sleep(800);
                        assert.ok(
                            f.alive() >= 4100,
                            `the relay accepted ${f.alive()} of ${f.opened} (more than the old limit of 4,096; production's is ${RELAY_LIMITS.perFrontend} per port)`,
                        );
                        const r = await served(edge, 5);
                        assert.deepEqual(r.statuses, [200, 200], r.why);
                    } finally {
                        f.stop();
                    }
                });
                await sleep(500);
            });
        }

        // Slots alone do not bound a container that keeps opening connections: holding every slot
        // takes slots / hold new connections a second (production: 20,480 a second to each port).
        // Here the relay has 512 slots a port and a container opens 200 a second to each port for
        // 12 s: held for client-hs (1 s) that is about 200 slots; held 10 s, every slot from the third
        // second on. The same flood in both tests; only the hold differs.
        const SLOTS = { perFrontend: RELAY_FLOOD.slots, maxconn: 2 * RELAY_FLOOD.slots };
        const { rate: RATE, seconds: FLOOD_SECONDS } = RELAY_FLOOD;
        const sustained = (edge: MacEdge) =>
            sustainedFlood({
                from: CONTAINER_ON_MAC,
                ports: [edge.relay.plain, edge.relay.mtls],
                rate: RATE,
                seconds: FLOOD_SECONDS,
                maxMs: 40_000,
            });

        it(`a container opening ${RATE} silent connections a second to each relay port for ${FLOOD_SECONDS} s holds about ${RATE} of ${SLOTS.perFrontend} slots, each closed after client-hs (${RELAY_LIMITS.handshakeTimeout}): the tailnet and a certificate holder are served during and after`, async () => {
            await withMacEdge({ ...SLOTS, handshakeTimeout: RELAY_LIMITS.handshakeTimeout }, async (edge) => {
                const f = sustained(edge);
                try {
                    const start = Date.now();
                    for (const at of [4000, 8000]) {
                        await sleep(at - (Date.now() - start));
                        const r = await served(edge, 3);
                        assert.deepEqual(r.statuses, [200, 200], `${at / 1000} s into the flood: ${r.why}`);
                    }
                    await f.finished;
                    // The last connections are closed by the relay within client-hs; some margin for this
                    // busy event loop to see it.
                    const until = Date.now() + hs + 3000;
                    while (Date.now() < until && f.stats().closedByServer.length < f.stats().connected)
                        await sleep(100);
                    const st = f.stats();
                    assert.equal(st.opened, 2 * RATE * FLOOD_SECONDS);
                    assert.equal(st.failed, 0, "the relay accepted every connection");
                    for (const port of [edge.relay.plain, edge.relay.mtls])
                        assert.ok(
                            f.peak(port) <= RATE * (hs / 1000 + 0.5),
                            `:${port}: ${f.peak(port)} held at once at most (${SLOTS.perFrontend} slots)`,
                        );
                    const lived = [...st.closedByServer].sort((a, b) => a - b);
                    assert.equal(
                        lived.length,
                        st.connected,
                        `the relay closed ${lived.length} of ${st.connected} itself`,
                    );
                    // Measured here, from the connect to the close this side sees: a busy event loop sees
                    // either late, so the bounds are on the bulk, and the last is far below the old 10 s.
                    const at = (q: number) => lived[Math.min(lived.length - 1, Math.floor(lived.length * q))] as number;
                    assert.ok(
                        at(0.01) >= hs - 300 &&
                            at(0.5) >= hs - 100 &&
                            at(0.5) <= hs + 300 &&
                            at(0.99) <= hs + 1000 &&
                            (lived.at(-1) as number) <= hs + 3000,
                        `closed after ${lived[0]} ms (first), ${at(0.01)} (1%), ${at(0.5)} (median), ${at(0.99)} (99%), ${lived.at(-1)} ms (last)`,
                    );
                    const after = await served(edge, 3);
                    assert.deepEqual(after.statuses, [200, 200], `after the flood: ${after.why}`);
                } finally {
                    f.stop();
                }
            });
        });

        it(`control: held ${OLD_HOLD} before authenticating (timeout client, as before client-hs), the same flood holds all ${SLOTS.perFrontend} slots and neither the tailnet nor a certificate holder is served (why the handshake limit)`, async () => {
            await withMacEdge({ ...SLOTS, handshakeTimeout: OLD_HOLD }, async (edge) => {
                const f = sustained(edge);
                try {
                    await sleep(4000);
                    for (const port of [edge.relay.plain, edge.relay.mtls])
                        assert.ok(
                            f.open(port) >= SLOTS.perFrontend,
                            `:${port}: the flood holds ${f.open(port)} (${SLOTS.perFrontend} slots)`,
                        );
                    // Done before the first flood connection's 10 s are up.
                    const r = await served(edge, 3);
                    assert.ok(
                        r.statuses.every((s) => s !== 200),
                        `4 s into the flood: ${r.statuses.join(" / ")}: ${r.why}`,
                    );
                    await f.finished;
                    const lived = f.stats().closedByServer;
                    const old = seconds(OLD_HOLD) * 1000;
                    assert.ok(
                        lived.length > 0 && Math.min(...lived) >= old - 500,
                        `the relay closed ${lived.length} by ${FLOOD_SECONDS} s, the first after ${Math.min(...lived)} ms`,
                    );
                } finally {
                    f.stop();
                }
            });
        });
    });

    describe("hardening: short timeouts before the handshake", function () {
        this.timeout(60_000);
        const hello = seconds(EDGE_LIMITS.helloTimeout) * 1000;

        it(`:443 closes a connection that sends nothing within ${EDGE_LIMITS.helloTimeout}`, async () => {
            const r = await holdOpen({ from: "127.0.0.51", port: EDGE_PORTS.container.https, maxMs: 20_000 });
            assert.ok(
                r.closedAfterMs !== undefined && r.closedAfterMs >= hello - 500 && r.closedAfterMs <= hello + 2000,
                `closed after ${r.closedAfterMs} ms`,
            );
        });

        it(`:80 closes a connection that sends no request within ${EDGE_LIMITS.helloTimeout}`, async () => {
            const r = await holdOpen({ from: "127.0.0.52", port: EDGE_PORTS.container.http, maxMs: 20_000 });
            assert.ok(
                r.closedAfterMs !== undefined && r.closedAfterMs <= hello + 2000,
                `closed after ${r.closedAfterMs} ms`,
            );
        });

        it(`a ClientHello and then silence is closed within Caddy's ${CADDY_TIMING.readHeader} handshake limit`, async () => {
            const r = await holdOpen({
                from: "127.0.0.53",
                port: EDGE_PORTS.container.https,
                send: await clientHello(CLOUD),
                maxMs: 40_000,
            });
            const limit = seconds(CADDY_TIMING.readHeader) * 1000;
            assert.ok(
                r.closedAfterMs !== undefined && r.closedAfterMs <= limit + 3000,
                `closed after ${r.closedAfterMs} ms`,
            );
        });
    });

    describe("hardening: reloads", function () {
        this.timeout(120_000);
        let lab: Lab;
        before(() => (lab = standardLab(getLab)));

        it("the apply that removes a user ends that user's running download at once (Caddy restarts in place)", async () => {
            const stream = curl(lab, "wan", CLOUD, { cert: "mom", path: "/long", maxTime: 70 });
            await sleep(1000);
            const reloadAt = Date.now();
            const r = await applyAndRevoke(lab, { users: ["dave"], withWiki: true });
            assert.equal(r.status, 0, r.stderr);
            assert.equal(r.stdout.trim(), "revoked", "the script saw mom's certificate leave the allowlist");
            const s = await stream;
            const endedAfter = Date.now() - reloadAt;
            assert.ok(endedAfter <= 5000, `the stream ended ${endedAfter} ms after the apply`);
            assert.doesNotMatch(s.body, /done/, "the download did not run to its end");
            assert.notEqual(
                (await curl(lab, "wan", CLOUD, { cert: "mom" })).status,
                200,
                "mom's new requests are refused",
            );
            assert.equal(
                (await curl(lab, "wan", CLOUD, { cert: "dave" })).status,
                200,
                "dave is served after the restart",
            );
            const restore = await applyAndRevoke(lab, { users: ["dave", "mom"], withWiki: true });
            assert.equal(restore.status, 0, restore.stderr);
            assert.equal(restore.stdout.trim(), "", "adding a user revokes nothing");
        });

        it("without the restart, a reload alone would not end the removed user's download (why the restart is needed)", async () => {
            const stream = curl(lab, "wan", CLOUD, { cert: "mom", path: "/long", maxTime: 70 });
            await sleep(1000);
            const r = applyCaddy(lab, { users: ["dave"], withWiki: true });
            assert.equal(r.status, 0, r.stderr);
            await sleep(seconds(CADDY_TIMING.gracePeriod) * 1000 + 3000);
            assert.equal(lab.echoes["cloud"]!.hits.filter((h) => h.url === "/long").length >= 1, true);
            // Still streaming past the grace period: Caddy's grace period does not end running requests.
            const more = await Promise.race([stream.then(() => "ended"), sleep(100).then(() => "running")]);
            assert.equal(more, "running", "the old config's request kept running past the grace period");
            await lab.restartCaddy();
            await stream;
            const restore = await applyAndRevoke(lab, { users: ["dave", "mom"], withWiki: true });
            assert.equal(restore.status, 0, restore.stderr);
        });

        it("a WebSocket on the plain listener survives a Caddy reload that changes other sites, and an HAProxy reload", async () => {
            const ws = await webSocket({
                from: SOURCES.tailnet,
                port: EDGE_PORTS.container.https,
                servername: MEDIA,
                ca: lab.serverCa,
            });
            try {
                await sleep(600);
                assert.ok(ws.frames() >= 2, "frames flow before the reload");
                const caddy = applyCaddy(lab, { users: ["dave", "mom"], withWiki: false });
                assert.equal(caddy.status, 0, caddy.stderr);
                const haproxy = applyHaproxy(lab, caddy.model);
                assert.equal(haproxy.status, 0, haproxy.stderr);
                const at = ws.frames();
                await sleep(2000);
                assert.equal(ws.closed(), false, "the WebSocket is still open");
                assert.ok(ws.frames() >= at + 5, `frames kept coming (${at} → ${ws.frames()})`);
            } finally {
                ws.close();
                applyCaddy(lab, STANDARD_SITES);
            }
        });

        it("a WebSocket on the mtls listener survives an unrelated reload too", async () => {
            const ws = await webSocket({
                from: SOURCES.wan,
                port: EDGE_PORTS.container.https,
                servername: CLOUD,
                ca: lab.serverCa,
                cert: lab.certs["dave"] as { cert: string; key: string },
            });
            try {
                await sleep(600);
                const r = applyCaddy(lab, { users: ["dave", "mom"], withWiki: false });
                assert.equal(r.status, 0, r.stderr);
                const at = ws.frames();
                await sleep(2000);
                assert.equal(ws.closed(), false);
                assert.ok(ws.frames() >= at + 5, `frames kept coming (${at} → ${ws.frames()})`);
            } finally {
                ws.close();
                applyCaddy(lab, STANDARD_SITES);
            }
        });

        it("applying identical files reloads nothing (Caddy's config unchanged, HAProxy not signalled)", async () => {
            const first = applyCaddy(lab, STANDARD_SITES);
            assert.equal(first.status, 0, first.stderr);
            const logged = lab.logs.caddy.length;
            const again = applyCaddy(lab, STANDARD_SITES);
            assert.equal(again.status, 0, again.stderr);
            await sleep(200);
            assert.match(
                lab.logs.caddy.slice(logged).join(""),
                /config is unchanged/,
                "Caddy saw the same config and kept it",
            );
            const h1 = applyHaproxy(lab, first.model);
            assert.equal(h1.status, 0, h1.stderr);
            const h2 = applyHaproxy(lab, first.model);
            assert.equal(h2.stdout.trim(), "unchanged");
        });

        it("HAProxy reloads and Caddy reloads (applied as the host applies them) fail no request, under ~100 new TLS connections a second", async () => {
            // Without the hold, Go's net/http closes without a response a connection whose first
            // request it reads after its server began shutting down (server.go: `if
            // c.server.shuttingDown() { return }` after readRequest), so a connection Caddy's old
            // config accepted just before a reload got an empty reply (4 of 2,000 to 11 of 1,500
            // here). CADDY_RELOAD_ON_HOST now holds new connections at both HAProxies that connect
            // to Caddy while it reloads: clients wait a moment instead.
            const dave = lab.certs["dave"] as { cert: string; key: string };
            const targets = [
                { from: SOURCES.tailnet, port: EDGE_PORTS.container.https, servername: MEDIA },
                {
                    from: wanSources(40).map((a) => a.replace("127.0.1.", "127.0.2.")),
                    port: EDGE_PORTS.container.https,
                    servername: CLOUD,
                    cert: dave,
                },
                { from: SOURCES.lan, port: EDGE_PORTS.native.https, servername: MEDIA },
                {
                    from: wanSources(40).map((a) => a.replace("127.0.1.", "127.0.3.")),
                    port: EDGE_PORTS.native.https,
                    servername: CLOUD,
                    cert: dave,
                },
            ];
            const haproxyOnly = load({ rate: 100, seconds: 8, targets, ca: lab.serverCa });
            for (let i = 0; i < 10; i++) {
                await sleep(700);
                for (const h of Object.values(lab.haproxies)) h.proc.kill("SIGUSR2");
            }
            const h = await haproxyOnly;
            console.log(
                `      HAProxy reloads under load: ${h.ok} of ${h.sent} ok; failures ${JSON.stringify(h.failures)}`,
            );
            assert.equal(h.ok, h.sent, JSON.stringify(h.failures));

            const caddyReloads = 8;
            const both = load({ rate: 100, seconds: 20, targets, ca: lab.serverCa });
            for (let i = 0; i < caddyReloads; i++) {
                await sleep(300);
                const c = await reloadCaddyOnHost(lab, { users: ["dave", "mom"], withWiki: i % 2 === 0 });
                assert.equal(c.status, 0, c.stderr);
                assert.doesNotMatch(c.stderr, /homelab:/, "the hold was taken and released without a word");
                for (const x of Object.values(lab.haproxies)) x.proc.kill("SIGUSR2");
            }
            const r = await both;
            console.log(
                `      Caddy (held) and HAProxy reloads under load: ${r.ok} of ${r.sent} ok; failures ${JSON.stringify(r.failures)}`,
            );
            assert.equal(r.ok, r.sent, JSON.stringify(r.failures));
            applyCaddy(lab, STANDARD_SITES);
        });

        for (const mode of ["container", "native"] as const) {
            it(`(${mode} edge) a connection that arrives during a hold waits, and is served once the hold is released`, async () => {
                const held = await hold(lab, "hold");
                assert.equal(held.status, 0, held.stderr);
                const started = Date.now();
                const pending = curl(lab, "tailnet", MEDIA, { edge: mode });
                await sleep(1500);
                const released = await hold(lab, "release", { TOKEN: held.stdout });
                assert.equal(released.status, 0, released.stderr);
                const res = await pending;
                assert.equal(res.status, 200, "served after the release, not refused");
                assert.ok(Date.now() - started >= 1400, "it waited for the release");
            });
        }

        it("a hold the host never releases (a crashed run) ends by itself after its limit", async () => {
            const held = await hold(lab, "hold", { HOLD_MAX: "2" });
            assert.equal(held.status, 0, held.stderr);
            const started = Date.now();
            const res = await curl(lab, "tailnet", MEDIA, {});
            assert.equal(res.status, 200);
            const waited = Date.now() - started;
            assert.ok(waited >= 1500 && waited < 6000, `released by the watchdog after ${waited} ms`);
            await sleep(1200); // the relay's watchdog too
        });

        it("a release HAProxy does not confirm fails loudly, and the watchdog still releases", async () => {
            const held = await hold(lab, "hold", { HOLD_MAX: "2" });
            assert.equal(held.status, 0, held.stderr);
            const lost = await hold(lab, "release", { TOKEN: held.stdout, LAB_ADMIN_CONTAINER: "127.0.0.1:18998" });
            assert.notEqual(lost.status, 0);
            assert.match(lost.stderr, /admin socket at 127\.0\.0\.1:18998 did not answer/);
            const started = Date.now();
            assert.equal((await curl(lab, "tailnet", MEDIA, {})).status, 200);
            const waited = Date.now() - started;
            assert.ok(waited >= 1000 && waited < 6000, `released by the watchdog after ${waited} ms`);
            await sleep(1200); // the watchdogs end once HAProxy confirms
        });

        it("an interrupted reload (SIGTERM while it settles) still releases the hold", async () => {
            let child: import("child_process").ChildProcess | undefined;
            const run = reloadCaddyOnHost(lab, STANDARD_SITES, { SETTLE: "20" }, (p) => (child = p));
            await sleep(1500); // held, settling
            const killed = Date.now();
            child?.kill("SIGTERM");
            const r = await run;
            assert.equal(r.status, 143, r.stderr);
            assert.ok(Date.now() - killed < 3000, "it stopped at once, not after its settle time");
            const started = Date.now();
            for (const mode of ["container", "native"] as const) {
                assert.equal((await curl(lab, "tailnet", MEDIA, { edge: mode })).status, 200);
            }
            assert.ok(Date.now() - started < 1000, "released at once, not by the watchdog");
            await sleep(1200);
        });

        it("an interrupted reload still releases a hold it was taking when interrupted (a slow docker exec)", async () => {
            let child: import("child_process").ChildProcess | undefined;
            const run = reloadCaddyOnHost(lab, STANDARD_SITES, { LAB_SLOW_HOLD: "2" }, (p) => (child = p));
            await sleep(800); // held, and the hold's docker command still running
            child?.kill("SIGTERM");
            const r = await run;
            assert.equal(r.status, 143, r.stderr);
            const started = Date.now();
            for (const mode of ["container", "native"] as const) {
                assert.equal((await curl(lab, "tailnet", MEDIA, { edge: mode })).status, 200);
            }
            assert.ok(Date.now() - started < 1000, "released at once, not by the watchdog");
            const state = ["container", "relay"].filter((role) =>
                fs.existsSync(path.join(lab.dir, "hold", role, CADDY_HOLD.stateFile)),
            );
            assert.deepEqual(state, [], "the watchdogs were retired");
            await sleep(1200);
        });

        it("a hold HAProxy refuses half-way is undone: nothing stays held, and the reload says why and goes ahead", async () => {
            const bad = {
                LAB_HOLD_RELAY: "set maxconn frontend from_edge_plain 0\nset maxconn frontend no_such_frontend 0\n",
            };
            const r = await reloadCaddyOnHost(lab, STANDARD_SITES, bad);
            assert.equal(r.status, 0, r.stderr);
            assert.match(r.stderr, /HAProxy refused 'set maxconn frontend no_such_frontend 0': No such frontend/);
            assert.match(r.stderr, /could not hold new connections at haproxy: reloading Caddy without/);
            const started = Date.now();
            for (const mode of ["container", "native"] as const) {
                assert.equal((await curl(lab, "tailnet", MEDIA, { edge: mode })).status, 200);
            }
            assert.ok(Date.now() - started < 1000, "nothing held");
            await sleep(1200); // both watchdogs see their release and end
        });

        it("configs past Linux's 128 KiB limit for one variable apply: 250 users' certificates and 1,000 services", async () => {
            const many = Array.from({ length: 250 }, () => "dave");
            const users = applyCaddy(lab, { users: ["dave", "mom"], withWiki: true, allow: [...many, "mom"] });
            assert.equal(users.status, 0, users.stderr);
            assert.ok(
                fs.statSync(path.join(lab.etc, "pki/clients.pem")).size > 128 * 1024,
                "clients.pem is over 128 KiB",
            );
            assert.equal((await curl(lab, "wan", CLOUD, { cert: "mom" })).status, 200);
            const services = applyCaddy(lab, {
                users: ["dave", "mom"],
                withWiki: true,
                transform: (m) => ({
                    ...m,
                    services: [
                        ...m.services,
                        ...Array.from({ length: 1000 }, (_, i) => ({
                            ...(m.services.find((s) => s.name === "media") as (typeof m.services)[number]),
                            name: `svc${i}`,
                            label: `svc${i}`,
                            hostnames: { private: `svc${i}.home.example.dev` },
                        })),
                    ],
                }),
            });
            assert.equal(services.status, 0, services.stderr);
            assert.ok(fs.statSync(path.join(lab.etc, "Caddyfile")).size > 128 * 1024, "the Caddyfile is over 128 KiB");
            const r = await curl(lab, "tailnet", "svc999.home.example.dev");
            assert.equal(r.status, 200, r.verbose.slice(-300));
            const restore = applyCaddy(lab, STANDARD_SITES);
            assert.equal(restore.status, 0, restore.stderr);
        });
    });

    describe("hardening: attacks the third review did not try", function () {
        this.timeout(90_000);
        let lab: Lab;
        before(() => (lab = getLab()));

        for (const mode of ["container", "native"] as const) {
            it(`(${mode} edge) a flood from 150 WAN addresses during a reload's hold: after the release the tailnet is served, and the flood holds no more than the untrusted share`, async () => {
                const held = await hold(lab, "hold");
                assert.equal(held.status, 0, held.stderr);
                let released = false;
                try {
                    const hello = await clientHello(CLOUD);
                    // While held, the kernel queues what arrives; the tailnet's request waits among them.
                    const f = await flood({
                        sources: wanSources(150),
                        perSource: 20,
                        port: EDGE_PORTS[mode].https,
                        send: hello,
                        maxMs: 40_000,
                    });
                    try {
                        const pending = curl(lab, "tailnet", MEDIA, { edge: mode, maxTime: 20 });
                        await sleep(1000);
                        const r = await hold(lab, "release", { TOKEN: held.stdout });
                        released = true;
                        assert.equal(r.status, 0, r.stderr);
                        const res = await pending;
                        assert.equal(
                            res.status,
                            200,
                            `tailnet after the release: ${res.verbose.split("\n").slice(-2).join(" | ")}`,
                        );
                        await sleep(800);
                        assert.ok(
                            f.alive() <= EDGE_LIMITS.untrustedTotal + 8,
                            `the flood holds ${f.alive()} of ${f.opened}`,
                        );
                    } finally {
                        f.stop();
                    }
                } finally {
                    if (!released) await hold(lab, "release", { TOKEN: held.stdout });
                }
                await sleep(500);
            });
        }

        it("HTTP/2 rapid reset (20,000 streams opened and cancelled at once, CVE-2023-44487) through the edge: Caddy stays up and the tailnet is served meanwhile", async () => {
            const session = http2.connect(`https://${MEDIA}:${EDGE_PORTS.container.https}`, {
                // From the LAN's address: a TCP socket bound there, with TLS on top.
                createConnection: () =>
                    tls.connect({
                        socket: net.connect({
                            host: "127.0.0.1",
                            port: EDGE_PORTS.container.https,
                            localAddress: SOURCES.lan,
                        }),
                        servername: MEDIA,
                        ca: fs.readFileSync(lab.serverCa),
                        ALPNProtocols: ["h2"],
                    }),
            });
            session.on("error", () => undefined);
            let sent = 0;
            const started = Date.now();
            try {
                await new Promise<void>((resolve, reject) => {
                    session.once("connect", () => resolve());
                    session.once("error", reject);
                });
                for (; sent < 20_000 && !session.closed && !session.destroyed; sent++) {
                    const req = session.request({ ":path": "/", ":authority": MEDIA });
                    req.on("error", () => undefined);
                    req.close(http2.constants.NGHTTP2_CANCEL);
                    if (sent % 500 === 0) await new Promise((r) => setImmediate(r));
                }
                const r = await curl(lab, "tailnet", MEDIA, { maxTime: 10 });
                assert.equal(
                    r.status,
                    200,
                    `tailnet during the attack: ${r.verbose.split("\n").slice(-2).join(" | ")}`,
                );
                assert.ok(
                    sent >= 1000,
                    `the attack ran: ${sent} streams opened and cancelled before the connection ${session.closed || session.destroyed ? "was closed" : "ended"}`,
                );
            } finally {
                session.destroy();
            }
            const after = await curl(lab, "lan", MEDIA, { maxTime: 10 });
            assert.equal(after.status, 200, "the attacker's own address is served again afterwards");
            assert.ok(Date.now() - started < 60_000);
        });

        it("a removed user's TLS session cannot be resumed after the revoking apply (Caddy issues no ticket on the client-certificate listener; were it to, the resumption is refused)", async () => {
            const dir = fs.mkdtempSync(path.join(lab.dir, "resume-"));
            const sess = path.join(dir, "mom.sess");
            const c = lab.certs["mom"] as { cert: string; key: string };
            const sClient = (extra: string[]) =>
                runAsync(
                    "openssl",
                    [
                        "s_client",
                        "-connect",
                        `127.0.0.1:${EDGE_PORTS.container.https}`,
                        "-servername",
                        CLOUD,
                        "-CAfile",
                        lab.serverCa,
                        "-cert",
                        c.cert,
                        "-key",
                        c.key,
                        "-bind",
                        `${SOURCES.wan}:0`,
                        "-ign_eof",
                        ...extra,
                    ],
                    process.env,
                    `GET /.well-known/homelab/whoami HTTP/1.1\r\nHost: ${CLOUD}\r\nConnection: close\r\n\r\n`,
                );
            try {
                const first = await sClient(["-sess_out", sess]);
                assert.match(
                    first.stdout,
                    /listener=mtls/,
                    `mom is served before the apply:\n${first.stdout.slice(-400)}${first.stderr.slice(-400)}`,
                );
                const ticket =
                    /New Session Ticket/.test(first.stdout) && fs.existsSync(sess) && fs.statSync(sess).size > 0;
                const revoked = await applyAndRevoke(lab, { users: ["dave"], withWiki: true });
                assert.equal(revoked.status, 0, revoked.stderr);
                if (!ticket) {
                    // Nothing to resume: every connection is a full handshake, which checks the certificate.
                    const again = await sClient([]);
                    assert.doesNotMatch(
                        again.stdout,
                        /listener=mtls/,
                        "a full handshake with the removed certificate is refused",
                    );
                    return;
                }
                const again = await sClient(["-sess_in", sess]);
                assert.doesNotMatch(
                    again.stdout,
                    /listener=mtls/,
                    `the removed user got through by resuming:\n${again.stdout.slice(-600)}`,
                );
            } finally {
                applyCaddy(lab, STANDARD_SITES);
                fs.rmSync(dir, { recursive: true, force: true });
            }
        });
    });

    describe("hardening: nothing says which software serves", () => {
        let lab: Lab;
        before(() => (lab = getLab()));
        const cases: [string, () => Promise<{ status: number; verbose: string }>, number][] = [
            ["a served page", () => curl(lab, "tailnet", MEDIA), 200],
            ["no such service (404)", () => curl(lab, "tailnet", "nothing.home.example.dev"), 404],
            [
                "a TLS name and Host that differ on the mtls listener (421)",
                () => curl(lab, "wan", "wiki.example.dev", { cert: "dave", sni: CLOUD }),
                421,
            ],
            ["the :80 redirect", () => curl(lab, "wan", MEDIA, { http: true }), 301],
        ];
        for (const [label, run, status] of cases) {
            it(`no Server header on ${label}`, async () => {
                const r = await run();
                assert.equal(r.status, status);
                assert.doesNotMatch(r.verbose, /^< server:/im);
            });
        }
    });
}
