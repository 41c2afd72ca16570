// @e2e: IPv6 sources that embed a trusted IPv4 address are not trusted. HAProxy compares
// IPv4-compatible (::a.b.c.d) and 6to4 (2002:AABB:CCDD::/48) addresses as IPv4, so without the
// exclusion ::127.0.0.3 would pass for the trusted 127.0.0.3. Those addresses cannot exist on the
// host's loopback, so this runs in a network namespace the test creates (and deletes), with
// HAProxy, the client and two stand-in listeners all inside it.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { execFileSync, spawnSync } from "child_process";
import { Lab } from "./lab";
import { renderEdgeCfg } from "../../render/haproxy";

const NS = `homelab-v6-${process.pid}`;
const SOURCES = {
    "::127.0.0.3": "IPv4-compatible form of a trusted address",
    "2002:7f00:3::1": "6to4 form of a trusted address",
    "fd7a:115c:a1e0::5": "a real tailnet IPv6 address",
    "2001:db8::4": "an ordinary IPv6 WAN address",
} as const;
const EXPECT: Record<string, string> = {
    "::127.0.0.3": "mtls",
    "2002:7f00:3::1": "mtls",
    "fd7a:115c:a1e0::5": "plain",
    "2001:db8::4": "mtls",
    "127.0.0.3": "plain",
};

export function v6SourceTests(getLab: () => Lab): void {
    describe("hardening: IPv6 sources that embed an IPv4 address", function () {
        this.timeout(60_000);
        let dir: string;
        let reached: Record<string, string> = {};
        let reachedMonitor: Record<string, string> = {};
        /** HAProxy with `cfg` and the probe, inside the namespace: which listener each source reached. */
        const probe = (cfg: string, sni: string): Record<string, string> => {
            fs.writeFileSync(path.join(dir, "haproxy.cfg"), cfg);
            const out = execFileSync(
                "ip",
                [
                    "netns",
                    "exec",
                    NS,
                    process.execPath,
                    require.resolve("ts-node/dist/bin.js"),
                    "--transpile-only",
                    path.join(__dirname, "v6probe.ts"),
                    dir,
                    JSON.stringify(Object.keys(SOURCES)),
                    "19001",
                    "19002",
                    "18444",
                ],
                {
                    encoding: "utf8",
                    timeout: 45_000,
                    stdio: ["ignore", "pipe", "pipe"],
                    env: { ...process.env, PROBE_SNI: sni },
                },
            );
            return JSON.parse(out.trim().split("\n").pop() as string);
        };
        before(function () {
            if (spawnSync("ip", ["netns", "add", NS]).status !== 0)
                throw new Error("this test needs `ip netns add` (root, iproute2)");
            execFileSync("ip", ["-n", NS, "link", "set", "lo", "up"]);
            for (const a of Object.keys(SOURCES))
                execFileSync("ip", ["-n", NS, "addr", "add", `${a}/128`, "dev", "lo", "nodad"]);
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "homelab-v6-"));
            const model = getLab().model; // trusts 127.0.0.3/32 (and the production tailnet ranges)
            reached = probe(
                renderEdgeCfg(model, {
                    bind: { http: ":::18081 v4v6", https: ":::18444 v4v6" },
                    upstream: { kind: "caddy", host: "127.0.0.1", ports: { plain: 19001, mtls: 19002 } },
                }),
                "cloud.example.dev",
            );
            // homelab:monitoring on the Linux edge: 127.0.0.3 as the status container's address, trusted
            // as nothing else, and a private name (the monitor's goes to the plain listener).
            reachedMonitor = probe(
                renderEdgeCfg(
                    { ...model, trustedNetworks: [], untrustedSources: [] },
                    {
                        bind: { http: ":::18081 v4v6", https: ":::18444 v4v6" },
                        upstream: { kind: "caddy", host: "127.0.0.1", ports: { plain: 19001, mtls: 19002 } },
                        tailnetRanges: [],
                        monitorSource: "127.0.0.3",
                    },
                ),
                "media.home.example.dev",
            );
        });
        after(() => {
            spawnSync("ip", ["netns", "del", NS]);
            if (dir) fs.rmSync(dir, { recursive: true, force: true });
        });

        for (const [source, label] of Object.entries({
            ...SOURCES,
            "127.0.0.3": "the trusted IPv4 address itself (control)",
        })) {
            it(`${source} (${label}) → ${EXPECT[source]} listener`, () => {
                assert.equal(reached[source], EXPECT[source], JSON.stringify(reached));
            });
        }
        // Review finding: the status container's way in matched ::a.b.c.d and 6to4 forms of its address.
        for (const [source, expected] of [
            ["127.0.0.3", "plain"],
            ["::127.0.0.3", "mtls"],
            ["2002:7f00:3::1", "mtls"],
        ] as const)
            it(`the status container's way in (its address 127.0.0.3, a private name): ${source} → ${expected} listener`, () => {
                assert.equal(reachedMonitor[source], expected, JSON.stringify(reachedMonitor));
            });
    });
}
