// @e2e: the service table's breadth on the lab's real Caddy: an internal service is reachable from
// no plane; an HTTPS appliance with a self-signed certificate is served only when the stack says
// how to trust it (insecureSkipVerify, or its CA and name); forward auth denies and allows.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as path from "path";
import { issue, sanExt, selfSigned } from "../support/openssl";
import { LAB_UPSTREAM_STANDIN, Lab, applyCaddy, curl } from "./lab";

function tlsServer(dir: string, name: string): { ca: string; key: string; cert: string } {
    const ca = selfSigned(dir, `${name}-ca`, `/CN=${name} CA`);
    const leaf = issue(dir, name, `/CN=${name}.lan`, ca, sanExt([`${name}.lan`]), 1);
    const r = (f: string) => fs.readFileSync(f, "utf8");
    return { ca: r(ca.cert), key: r(leaf.key), cert: r(leaf.cert) };
}

export function breadthTests(getLab: () => Lab): void {
    describe("the service table: internal services, HTTPS appliances, forward auth", () => {
        let lab: Lab;
        let appliance: https.Server;
        let auth: http.Server;
        let ports: { appliance: number; auth: number };
        let pki: { ca: string; key: string; cert: string };
        let otherCa: string;
        const seen: { remoteUser?: string | string[] }[] = [];

        before(async () => {
            lab = getLab();
            const dir = path.join(lab.dir, "breadth");
            fs.mkdirSync(dir);
            pki = tlsServer(dir, "pve");
            otherCa = tlsServer(dir, "other").ca;
            appliance = https.createServer({ key: pki.key, cert: pki.cert }, (req, res) =>
                res.end(JSON.stringify({ service: "appliance", remoteUser: req.headers["remote-user"] ?? null })),
            );
            // An auth server: "alice" with the right header, 401 otherwise.
            auth = http.createServer((req, res) => {
                if (req.headers["x-let-me-in"] === "yes") {
                    res.writeHead(200, { "Remote-User": "alice" });
                    res.end();
                } else {
                    res.writeHead(401);
                    res.end("who are you?");
                }
            });
            await new Promise<void>((r) => appliance.listen(0, "127.0.0.1", r));
            await new Promise<void>((r) => auth.listen(0, "127.0.0.1", r));
            ports = {
                appliance: (appliance.address() as { port: number }).port,
                auth: (auth.address() as { port: number }).port,
            };
            lab.echoes["media"]!.server.on("request", (req) => seen.push({ remoteUser: req.headers["remote-user"] }));
            const up = `https://${LAB_UPSTREAM_STANDIN}:${ports.appliance}`;
            const r = applyCaddy(lab, {
                users: ["dave", "mom"],
                withWiki: true,
                extraServices: {
                    db: { image: "postgres:17.6", port: 5432, expose: [] },
                    "pve-default": { upstream: up },
                    "pve-skip": {
                        upstream: up,
                        upstreamTls: { insecureSkipVerify: true },
                        expose: ["private", "mtls"],
                    },
                    "pve-ca": { upstream: up, upstreamTls: { serverName: "pve.lan", ca: pki.ca } },
                    "pve-wrong-ca": { upstream: up, upstreamTls: { serverName: "pve.lan", ca: otherCa } },
                    "pve-wrong-name": { upstream: up, upstreamTls: { serverName: "nas.lan", ca: pki.ca } },
                    guarded: {
                        upstream: `${LAB_UPSTREAM_STANDIN}:${lab.ports.media}`,
                        expose: ["private", "mtls"],
                        forwardAuth: {
                            upstream: `${LAB_UPSTREAM_STANDIN}:${ports.auth}`,
                            uri: "/verify",
                            copyHeaders: ["Remote-User"],
                        },
                    },
                },
            });
            assert.equal(r.status, 0, r.stderr);
        });
        after(async () => {
            applyCaddy(lab, { users: ["dave", "mom"], withWiki: true });
            await new Promise((r) => appliance.close(r));
            await new Promise((r) => auth.close(r));
        });

        it("an internal service has no name on any plane: tailnet, LAN and WAN with a certificate get nothing", async () => {
            for (const [source, host, cert] of [
                ["tailnet", "db.home.example.dev"],
                ["lan", "db.home.example.dev"],
                ["wan", "db.example.dev", "dave"],
                ["tailnet", "db.example.dev"],
            ] as const) {
                const r = await curl(lab, source, host, cert ? { cert } : {});
                assert.notEqual(r.status, 200, `${source} → ${host}`);
            }
            assert.doesNotMatch(fs.readFileSync(path.join(lab.etc, "Caddyfile"), "utf8"), /\bdb\b/);
        });

        it("an HTTPS appliance with a self-signed certificate: refused by default (system CAs)", async () => {
            const r = await curl(lab, "tailnet", "pve-default.home.example.dev");
            assert.equal(r.status, 502, r.verbose.split("\n").slice(-6).join(" | "));
        });
        it("served with insecureSkipVerify, on the private and the mtls plane", async () => {
            const r = await curl(lab, "tailnet", "pve-skip.home.example.dev");
            assert.match(
                r.body,
                /"service":"appliance"/,
                `HTTP ${r.status}: ${r.verbose.split("\n").slice(-8).join(" | ")}`,
            );
            assert.match(
                (await curl(lab, "wan", "pve-skip.example.dev", { cert: "dave" })).body,
                /"service":"appliance"/,
            );
        });
        it("served when verified against its own CA and name", async () => {
            assert.match((await curl(lab, "tailnet", "pve-ca.home.example.dev")).body, /"service":"appliance"/);
        });
        it("refused when the CA is another one, or the name does not match", async () => {
            assert.equal((await curl(lab, "tailnet", "pve-wrong-ca.home.example.dev")).status, 502);
            assert.equal((await curl(lab, "tailnet", "pve-wrong-name.home.example.dev")).status, 502);
        });

        it("forward auth: denied without a login, on both planes; the service never sees the request", async () => {
            const hits = lab.echoes["media"]!.hits.length;
            const r = await curl(lab, "tailnet", "guarded.home.example.dev");
            assert.equal(r.status, 401);
            assert.match(r.body, /who are you/);
            assert.equal((await curl(lab, "wan", "guarded.example.dev", { cert: "dave" })).status, 401);
            assert.equal(lab.echoes["media"]!.hits.length, hits);
        });
        it("forward auth: allowed with a login; the copied header is the auth server's, never the client's", async () => {
            const r = await curl(lab, "tailnet", "guarded.home.example.dev", {
                headers: ["X-Let-Me-In: yes", "Remote-User: mallory"],
            });
            assert.equal(r.status, 200, r.body);
            assert.equal(seen[seen.length - 1]?.remoteUser, "alice");
        });
    });
}
