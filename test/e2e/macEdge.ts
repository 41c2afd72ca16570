// @e2e: the Mac edge shape beyond the shared matrix. On a Mac the relay's ports are published on
// the Mac's 127.0.0.1, which every container can reach through host.docker.internal, and every
// such connection arrives from the same gateway address. So the relay believes nothing by
// address: only a PROXY header that carries the edge's secret (in its own TLV; the relay keeps
// only the secret's hash) gets a connection through to Caddy.
import { strict as assert } from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { HOSTS, Lab, RELAY, SOURCES } from "./lab";
import { proxyV2, rawHttps } from "./clients";
import { EDGE_SECRET_TLV } from "../../stacks/layout";

const TLV = Number(EDGE_SECRET_TLV);

export function macEdgeTests(getLab: () => Lab): void {
    describe("the Mac edge: the relay accepts only the edge's secret", () => {
        let lab: Lab;
        let secret: string;
        let hash: string;
        const hits = () => lab.echoes["media"]!.hits.length + lab.echoes["cloud"]!.hits.length;
        /** A private name asked for through the relay's plain port, from `from`, with this PROXY header. */
        const through = (from: string, header?: Buffer, port: number = RELAY.plain) =>
            rawHttps({
                from,
                host: RELAY.host,
                port,
                ...(header ? { header } : {}),
                servername: port === RELAY.plain ? HOSTS.private : HOSTS.mtls,
                ca: lab.serverCa,
                // On the mtls port with a current user's certificate: only the relay can refuse.
                ...(port === RELAY.mtls ? { cert: lab.certs["dave"] as { cert: string; key: string } } : {}),
            });
        const claimingTailnet = (value?: Buffer) =>
            proxyV2(SOURCES.tailnet, "127.0.0.1", 40000, 443, value ? [{ type: TLV, value }] : []);

        before(() => {
            lab = getLab();
            secret = /^edge (\S+)\n$/.exec(lab.edgeFiles["edge-secret.map"] as string)?.[1] as string;
            hash = (lab.edgeFiles["edge-secret.sha256"] as string).trim();
            assert.ok(secret && hash);
        });

        it("control: a PROXY header with the edge's secret is believed (the secret is the whole credential)", async () => {
            const r = await through("127.0.0.1", claimingTailnet(Buffer.from(secret)));
            assert.equal(r.status, 200, r.error);
            assert.match(r.body, /"service":"media"/);
            const m = await through("127.0.0.1", claimingTailnet(Buffer.from(secret)), RELAY.mtls);
            assert.equal(m.status, 200, m.error);
            assert.match(m.body, /"service":"cloud"/);
        });

        const attackers: [string, string][] = [
            ["the WAN", SOURCES.wan],
            ["a container through host.docker.internal (the Mac's loopback)", "127.0.0.1"],
        ];
        const forgeries: [string, () => Buffer | undefined][] = [
            ["a forged PROXY header naming the tailnet, without the secret", () => claimingTailnet()],
            ["a PROXY header with a wrong secret", () => claimingTailnet(crypto.randomBytes(32))],
            [
                "a PROXY header with the secret's hash (what the relay's folder holds)",
                () => claimingTailnet(Buffer.from(hash)),
            ],
            [
                "a PROXY header with the secret one character short",
                () => claimingTailnet(Buffer.from(secret.slice(0, -1))),
            ],
            [
                "a PROXY header with the secret in another TLV",
                () =>
                    proxyV2(SOURCES.tailnet, "127.0.0.1", 40000, 443, [{ type: TLV + 1, value: Buffer.from(secret) }]),
            ],
            ["no PROXY header at all", () => undefined],
        ];
        for (const [who, from] of attackers)
            for (const [what, header] of forgeries)
                for (const port of [RELAY.plain, RELAY.mtls])
                    it(`${who}: ${what} gets nothing (:${port}), and the relay keeps serving the edge`, async () => {
                        const before = hits();
                        const r = await through(from, header(), port);
                        assert.equal(r.status, 0, `${r.status} ${r.body}`);
                        assert.equal(hits(), before, "no service saw a request");
                        // A refused header must not cost the relay anything (a wrong TLV value once
                        // looped HAProxy until its watchdog killed it): the edge still gets through.
                        const ok = await through("127.0.0.1", claimingTailnet(Buffer.from(secret)));
                        assert.equal(ok.status, 200, `after the forgery: ${ok.error ?? ok.status}`);
                        assert.equal(lab.haproxies.relay.proc.exitCode, null, "the relay is still running");
                    });

        it("the relay's folder holds no secret, only its hash", () => {
            const dir = lab.haproxies.relay.dir;
            const files = fs.readdirSync(dir).filter((f) => fs.statSync(path.join(dir, f)).isFile());
            assert.ok(files.includes("edge-secret.sha256"));
            for (const f of files) assert.ok(!fs.readFileSync(path.join(dir, f), "utf8").includes(secret), f);
        });
    });
}
