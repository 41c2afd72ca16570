// IPv6 clients for the engine tier: a network namespace of their own, joined to the engine's by a
// veth link, as devices on the tailnet, the LAN and the WAN reach a Linux host. The engine's end
// carries the host's IPv6 addresses (the tailnet's, a listed LAN address, one facing the "WAN");
// the clients' end one address in each of those /64s. Traffic stays between the two namespaces.
// Everything is removed by close() (deleting the namespace takes its end of the link, and the
// engine's end with it).
import { spawnSync } from "child_process";
import { Engine } from "./engine";
import { CurlOptions, CurlResult, Pki, V6, curlArgs } from "./stack";

export interface V6Clients {
    ns: string;
    curl(pki: Pki, o: CurlOptions): Promise<CurlResult>;
    close(): void;
}

function sh(cmd: string, args: string[]): void {
    const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 20_000 });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr || r.stdout}`);
}

export async function v6Clients(engine: Engine): Promise<V6Clients> {
    const tag = `${process.pid % 100000}`;
    const ns = `homelab-v6c-${tag}`;
    const [inEngine, inClients] = [`hlv6e${tag}`, `hlv6c${tag}`];
    spawnSync("ip", ["netns", "del", ns]);
    sh("ip", ["netns", "add", ns]);
    const close = () => {
        spawnSync("ip", ["netns", "del", ns]);
    };
    try {
        sh("ip", ["link", "add", inEngine, "type", "veth", "peer", "name", inClients]);
        sh("ip", ["link", "set", inEngine, "netns", String(engine.pid)]);
        sh("ip", ["link", "set", inClients, "netns", ns]);
        const inE = (...args: string[]) => sh("nsenter", [`--net=${engine.netnsPath}`, "--", "ip", ...args]);
        const inC = (...args: string[]) => sh("ip", ["netns", "exec", ns, "ip", ...args]);
        // nodad: usable at once (no duplicate address detection delay on a link of two).
        for (const a of [`${V6.tailnet}/64`, `${V6.listen}/64`, "2001:db8:99::1/64"])
            inE("-6", "addr", "add", a, "dev", inEngine, "nodad");
        for (const a of [`${V6.tailnetClient}/64`, `${V6.lanClient}/64`, `${V6.wanClient}/64`, `${V6.wanClient2}/64`])
            inC("-6", "addr", "add", a, "dev", inClients, "nodad");
        inE("link", "set", inEngine, "up");
        inC("link", "set", "lo", "up");
        inC("link", "set", inClients, "up");
    } catch (e) {
        close();
        throw e;
    }
    return {
        ns,
        curl: async (pki, o) => {
            const r = spawnSync("ip", ["netns", "exec", ns, "curl", ...curlArgs(pki, o)], {
                encoding: "utf8",
                timeout: ((o.maxTime ?? 10) + 5) * 1000,
            });
            const out = r.stdout ?? "";
            const nl = out.lastIndexOf("\n");
            return {
                exit: r.status,
                status: Number(out.slice(nl + 1)) || 0,
                body: out.slice(0, nl),
                verbose: r.stderr ?? "",
            };
        },
        close,
    };
}
