// @e2e: a further host's gateway on loopback (homelab:hosts). The lab's real Caddy routes a
// service that runs on host "nas" to a real HAProxy running the production gateway config; the
// gateway answers Caddy (its client certificate from the hosts CA) and nobody else: no
// certificate, a user's, one from the hosts CA without the client-auth use or with another name.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as net from "net";
import * as tls from "tls";
import { ChildProcess, spawn } from "child_process";
import { Lab, applyCaddy, curl } from "./lab";
import { CLIENT_EXT, issue, sanExt, selfSigned } from "../support/openssl";
import { haproxy3Binary } from "../support/binaries";
import { CADDY_CLIENT_CN, GATEWAY_FILES, gatewayServerName, renderGatewayCfg } from "../../render/gateway";
import { Host } from "../../stacks/model";

const GATEWAY = { host: "127.0.0.1", port: 17443 } as const;
const SERVER_EXT =
    "basicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\nextendedKeyUsage = serverAuth\n";

/** One request over TLS to the gateway, as a tailnet device would try it; resolves with what came back (bounded). */
function askGateway(opts: { servername: string; ca: string; cert?: string; key?: string }): Promise<string> {
    return new Promise((resolve) => {
        let got = "";
        const s = tls.connect({
            host: GATEWAY.host,
            port: GATEWAY.port,
            servername: opts.servername,
            ca: opts.ca,
            ...(opts.cert ? { cert: opts.cert, key: opts.key } : {}),
        });
        const done = () => (clearTimeout(t), s.destroy(), resolve(got));
        const t = setTimeout(done, 5000);
        s.on("secureConnect", () => s.write(`GET / HTTP/1.1\r\nHost: anything\r\nConnection: close\r\n\r\n`));
        s.on("data", (d) => (got += String(d)));
        s.on("error", done);
        s.on("close", done);
    });
}

function listening(): Promise<boolean> {
    return new Promise((resolve) => {
        const s = net.connect({ host: GATEWAY.host, port: GATEWAY.port }, () => (s.destroy(), resolve(true)));
        s.on("error", () => resolve(false));
    });
}

export function gatewayTests(getLab: () => Lab): void {
    describe("a further host's gateway: Caddy's certificate only", () => {
        let lab: Lab;
        let gateway: ChildProcess;
        let files: { ca: string; caddyCert: string; caddyKey: string };
        const read = (f: string) => fs.readFileSync(f, "utf8");
        const leaves: Record<string, { cert: string; key: string }> = {};

        before(async () => {
            lab = getLab();
            const dir = path.join(lab.dir, "gateway");
            fs.mkdirSync(dir);
            const ca = selfSigned(dir, "hosts-ca", "/CN=homelab e2e hosts CA");
            const caddy = issue(dir, "caddy", `/CN=${CADDY_CLIENT_CN}`, ca, CLIENT_EXT);
            const server = issue(
                dir,
                "gateway",
                "/CN=homelab gateway nas",
                ca,
                sanExt(["*.nas.homelab.internal"], SERVER_EXT),
            );
            leaves["serverauth"] = issue(dir, "serverauth", `/CN=${CADDY_CLIENT_CN}`, ca, SERVER_EXT);
            leaves["othername"] = issue(dir, "othername", "/CN=homelab gateway nas", ca, CLIENT_EXT);
            files = { ca: read(ca.cert), caddyCert: read(caddy.cert), caddyKey: read(caddy.key) };

            const r = applyCaddy(lab, {
                users: ["dave", "mom"],
                withWiki: true,
                extraServices: { nasapp: { image: "nginx:1.29.3", port: 80, host: "nas" } },
                extraConfig: {
                    "homelab:hosts": {
                        nas: {
                            docker: { host: "ssh://admin@nas", dataDir: "/srv/homelab" },
                            tailnet: { ipv4: "100.101.102.110" },
                            addresses: ["192.168.1.30"],
                        },
                    },
                },
                extraFiles: {
                    "hosts-ca.pem": files.ca,
                    "hosts-client.crt": files.caddyCert,
                    "hosts-client.key": files.caddyKey,
                },
                gateways: { nas: `${GATEWAY.host}:${GATEWAY.port}` },
            });
            assert.equal(r.status, 0, r.stderr);
            const model = r.model;
            const host = model.hosts[0] as Host;
            const gwDir = path.join(dir, "gw");
            fs.mkdirSync(gwDir);
            fs.writeFileSync(
                path.join(gwDir, "haproxy.cfg"),
                renderGatewayCfg(model, host, {
                    bind: `${GATEWAY.host}:${GATEWAY.port}`,
                    targets: { nasapp: `127.0.0.1:${lab.ports.media}` },
                    // Caddy and this test's own connections, on loopback.
                    edgeSources: ["127.0.0.1"],
                }),
            );
            fs.writeFileSync(path.join(gwDir, GATEWAY_FILES.ca), files.ca);
            fs.writeFileSync(path.join(gwDir, GATEWAY_FILES.server), read(server.cert) + read(server.key));
            gateway = spawn(haproxy3Binary(), ["-W", "-db", "-C", gwDir, "-f", "haproxy.cfg"], { stdio: "ignore" });

            const until = Date.now() + 10_000;
            while (Date.now() < until && !(await listening())) await new Promise((r) => setTimeout(r, 100));
        });
        after(async () => {
            gateway?.kill("SIGTERM");
            applyCaddy(lab, { users: ["dave", "mom"], withWiki: true });
        });

        it("a tailnet device reaches the service on the further host through the edge and Caddy", async () => {
            const r = await curl(lab, "tailnet", "nasapp.home.example.dev");
            assert.equal(r.status, 200, r.verbose.split("\n").slice(-6).join(" | "));
            assert.match(r.body, /"service":"media"/);
            assert.match(
                r.body,
                /"host":"nasapp\.home\.example\.dev(:\d+)?"/,
                `the service sees the name the client asked for: ${r.body}`,
            );
        });
        it("Caddy's key reaches its config folder as 0600", () => {
            const mode = fs.statSync(path.join(lab.etc, "pki", "hosts-client.key")).mode & 0o777;
            assert.equal(mode, 0o600);
        });
        /** The gateway asked for `service` with Caddy's own certificate. */
        const asCaddy = (service: string) =>
            askGateway({
                servername: gatewayServerName("nas", service),
                ca: files.ca,
                cert: files.caddyCert,
                key: files.caddyKey,
            });
        it("the gateway answers Caddy's certificate with the service (the control: the refusals below can fail)", async () => {
            assert.match(await asCaddy("nasapp"), /^HTTP\/1\.1 200/);
        });
        for (const [what, cert] of [
            ["no certificate", undefined],
            ["a user's certificate (the client CA's)", "dave"],
            ["a hosts-CA certificate for servers only", "serverauth"],
            ["a hosts-CA client certificate with another name", "othername"],
        ] as const) {
            it(`a direct connection with ${what} gets nothing`, async () => {
                const c = cert === undefined ? undefined : cert === "dave" ? lab.certs["dave"] : leaves[cert];
                const got = await askGateway({
                    servername: gatewayServerName("nas", "nasapp"),
                    ca: files.ca,
                    ...(c ? { cert: read(c.cert), key: read(c.key) } : {}),
                });
                assert.equal(got, "");
            });
        }
        it("Caddy's certificate with a name the host does not serve gets nothing", async () => {
            assert.equal(await asCaddy("other"), "");
        });
        it("a config without further hosts takes Caddy's hosts key away again", () => {
            const r = applyCaddy(lab, { users: ["dave", "mom"], withWiki: true });
            assert.equal(r.status, 0, r.stderr);
            assert.ok(!fs.existsSync(path.join(lab.etc, "pki", "hosts-client.key")));
        });
    });
}
