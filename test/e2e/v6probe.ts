// Runs inside a network namespace made by test/e2e/v6sources.ts (never on the host's network):
// starts HAProxy with the given edge config, two TCP listeners standing in for Caddy's plain and
// mtls listeners, and connects from each given source with a TLS ClientHello; prints, as JSON,
// which listener each source reached and the address its PROXY header carried. Bounded.
import * as net from "net";
import { spawn } from "child_process";
import { clientHello } from "./clients";

const [cfgDir, sourcesJson, plainPort, mtlsPort, edgePort] = process.argv.slice(2) as [
    string,
    string,
    string,
    string,
    string,
];
const sources = JSON.parse(sourcesJson) as string[];

function listener(port: number, name: string, seen: Record<string, string>): net.Server {
    return net
        .createServer((s) => {
            s.once("data", (d) => {
                // A PROXY v2 header: 12-byte signature, ver/cmd, family, length, then addresses.
                const fam = d[13];
                const v6 = d.subarray(16, 32);
                const mapped =
                    fam === 0x21 && v6.subarray(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff;
                const src =
                    fam === 0x11
                        ? [...d.subarray(16, 20)].join(".")
                        : mapped
                          ? [...v6.subarray(12)].join(".")
                          : fam === 0x21
                            ? v6
                                  .toString("hex")
                                  .replace(/(.{4})/g, "$1:")
                                  .slice(0, -1)
                            : "?";
                seen[src] = name;
                s.destroy();
            });
        })
        .listen(port, "127.0.0.1");
}

(async () => {
    const seen: Record<string, string> = {};
    const servers = [listener(Number(plainPort), "plain", seen), listener(Number(mtlsPort), "mtls", seen)];
    const haproxy = spawn("haproxy", ["-db", "-C", cfgDir, "-f", "haproxy.cfg"], { stdio: "inherit" });
    await new Promise((r) => setTimeout(r, 800));
    const hello = await clientHello(process.env["PROBE_SNI"] ?? "cloud.example.dev");
    const reached: Record<string, string> = {};
    for (const from of sources) {
        const before = JSON.stringify(seen);
        await new Promise<void>((resolve) => {
            const s = net.connect({ host: "::1", port: Number(edgePort), localAddress: from, family: 6 }, () =>
                s.write(hello),
            );
            s.on("error", () => resolve());
            s.on("close", () => resolve());
            setTimeout(() => (s.destroy(), resolve()), 1500);
        });
        await new Promise((r) => setTimeout(r, 100));
        const added = Object.entries(seen).find(([k]) => !before.includes(`"${k}"`));
        reached[from] = added ? added[1] : "nothing";
    }
    // v4 client on the dual-stack socket (shows as ::ffff:127.0.0.3).
    await new Promise<void>((resolve) => {
        const s = net.connect({ host: "127.0.0.1", port: Number(edgePort), localAddress: "127.0.0.3" }, () =>
            s.write(hello),
        );
        s.on("close", () => resolve());
        s.on("error", () => resolve());
        setTimeout(() => (s.destroy(), resolve()), 1500);
    });
    await new Promise((r) => setTimeout(r, 100));
    reached["127.0.0.3"] = seen["127.0.0.3"] ?? "nothing";
    haproxy.kill("SIGKILL");
    servers.forEach((s) => s.close());
    process.stdout.write(JSON.stringify(reached) + "\n");
    process.exit(0);
})();
