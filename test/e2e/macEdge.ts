// @e2e: the Mac edge shape beyond the shared matrix. On a Mac the relay's ports are published on
// the Mac's 127.0.0.1, which every container can reach through host.docker.internal, and every
// such connection arrives from the same gateway address. So the relay believes nothing by
// address: only a connection carrying the edge's client certificate (the stack's edge CA, not the
// users' CA) gets through, with or without a PROXY header in front of it.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import * as tls from "tls";
import { Lab, RELAY, SOURCES } from "./lab";
import { proxyV2 } from "./clients";
import { RELAY_SERVER_NAME } from "../../stacks/layout";

/** Connects to the relay from `from`, optionally sends a PROXY header, then tries the TLS handshake. */
function relayHandshake(opts: {
    from: string;
    port: number;
    header?: Buffer;
    ca: string;
    cert?: string;
    key?: string;
}): Promise<string> {
    return new Promise((resolve) => {
        const sock = net.connect({ host: RELAY.host, port: opts.port, localAddress: opts.from }, () => {
            if (opts.header) sock.write(opts.header);
            const t = tls.connect({
                socket: sock,
                servername: RELAY_SERVER_NAME,
                ca: opts.ca,
                ...(opts.cert ? { cert: opts.cert, key: opts.key } : {}),
            });
            // TLS 1.3: a refused client certificate shows up as an alert right after the handshake.
            t.on("secureConnect", () =>
                setTimeout(() => (t.destroyed ? undefined : (t.destroy(), resolve("accepted"))), 300),
            );
            t.on("error", (e) => resolve(`refused: ${e.message}`));
            t.on("close", () => resolve("refused: closed"));
        });
        sock.on("error", (e) => resolve(`refused: ${e.message}`));
        setTimeout(() => (sock.destroy(), resolve("refused: timeout")), 5000);
    });
}

export function macEdgeTests(getLab: () => Lab): void {
    describe("the Mac edge: the relay accepts only the edge's certificate", () => {
        let lab: Lab;
        let ca: string;
        let edge: { cert: string; key: string };
        let user: { cert: string; key: string };
        before(() => {
            lab = getLab();
            ca = lab.edgeFiles["edge-ca.pem"] as string;
            const pem = lab.edgeFiles["edge-client.pem"] as string;
            edge = { cert: pem.slice(0, pem.indexOf("-----BEGIN", 10)), key: pem.slice(pem.indexOf("-----BEGIN", 10)) };
            const dave = lab.certs["dave"] as { cert: string; key: string };
            user = { cert: fs.readFileSync(dave.cert, "utf8"), key: fs.readFileSync(dave.key, "utf8") };
        });

        it("control: with the edge's client certificate the relay completes the handshake", async () => {
            assert.equal(
                await relayHandshake({
                    from: "127.0.0.1",
                    port: RELAY.plain,
                    header: proxyV2(SOURCES.tailnet, "127.0.0.1"),
                    ca,
                    ...edge,
                }),
                "accepted",
            );
        });

        const attackers: [string, string][] = [
            ["the WAN", SOURCES.wan],
            ["a container through host.docker.internal (the Mac's loopback)", "127.0.0.1"],
        ];
        for (const [who, from] of attackers) {
            for (const port of [RELAY.plain, RELAY.mtls]) {
                it(`${who}: a forged PROXY header naming the tailnet, without a certificate, is refused (:${port})`, async () => {
                    const hits = lab.echoes["media"]!.hits.length + lab.echoes["cloud"]!.hits.length;
                    assert.match(
                        await relayHandshake({ from, port, header: proxyV2(SOURCES.tailnet, "127.0.0.1"), ca }),
                        /^refused/,
                    );
                    assert.equal(lab.echoes["media"]!.hits.length + lab.echoes["cloud"]!.hits.length, hits);
                });
            }
            it(`${who}: a family member's certificate (the users' CA) does not open the relay`, async () => {
                assert.match(
                    await relayHandshake({
                        from,
                        port: RELAY.plain,
                        header: proxyV2(SOURCES.tailnet, "127.0.0.1"),
                        ca,
                        ...user,
                    }),
                    /^refused/,
                );
            });
            it(`${who}: no header and no certificate is refused`, async () => {
                assert.match(await relayHandshake({ from, port: RELAY.plain, ca }), /^refused/);
            });
        }

        it("the relay's key and the edge's key are distinct files, each readable by its owner only", () => {
            for (const [name, d] of [
                ["relay", lab.haproxies.relay.dir],
                ["native", lab.haproxies.native.dir],
            ] as const) {
                const keyFile = name === "relay" ? "relay.pem" : "edge-client.pem";
                assert.equal(fs.statSync(path.join(d, keyFile)).mode & 0o077, 0, `${name}: ${keyFile} is private`);
            }
        });
    });
}
