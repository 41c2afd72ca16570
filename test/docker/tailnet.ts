// A tailnet for the engine tier's two-host test: a network namespace of the test's own holds a
// bridge (the "tailnet", one switch) and the tailnet client's address on it; each engine's
// namespace is joined to that bridge by a veth link whose engine end carries the host's tailnet
// address (/24, so all three reach each other on-link). The NAS's end also carries a second,
// "LAN" address (the client has one in the same /24), where nothing may answer for the gateway.
// Nothing routes out: no namespace here has a default route, and every address is the test's own.
// close() deletes the namespace, which takes the bridge and the client ends of both links, and
// with them the engine ends (a veth pair goes as one).
import { spawnSync } from "child_process";
import { CmdResult, Engine } from "./engine";

/** The addresses on the tailnet (inside 100.64.0.0/10) and the NAS's LAN. */
export const TAILNET = {
    /** The edge host's tailnet address (homelab:tailnet.ipv4, as test/docker/stack.ts ADDR.tailnet). */
    edge: "100.101.102.103",
    /** The NAS's (homelab:hosts.nas.tailnet.ipv4). */
    nas: "100.101.102.110",
    /** A device on the tailnet: trusted by the edge, nothing to the gateway. */
    client: "100.101.102.50",
    prefix: 24,
    /** A second address of the NAS (its LAN), and the client's address on that LAN. */
    nasLan: "192.168.78.10",
    clientLan: "192.168.78.50",
} as const;

export interface Tailnet {
    /** The client's network namespace (`ip netns` name). */
    ns: string;
    /** A command in the client's namespace; bounded. */
    run(cmd: string, args: string[], timeoutMs?: number): Promise<CmdResult>;
    /** Every link and namespace this helper made, to check it is all gone after close(). */
    names: { ns: string; links: string[] };
    close(): void;
}

function sh(cmd: string, args: string[]): void {
    const r = spawnSync(cmd, args, { encoding: "utf8", timeout: 20_000 });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr || r.stdout}`);
}

/** Joins the edge host's and the NAS's engines and a client namespace on one tailnet bridge. */
export function tailnet(edge: Engine, nas: Engine): Tailnet {
    const tag = `${process.pid % 100000}`;
    const ns = `homelab-tn-${tag}`;
    // Each link: [end in the engine, end on the bridge] (interface names: 15 characters at most).
    const links = { edge: [`hltE${tag}`, `hlte${tag}`], nas: [`hltN${tag}`, `hltn${tag}`] } as const;
    const allLinks = [...links.edge, ...links.nas];
    spawnSync("ip", ["netns", "del", ns]);
    sh("ip", ["netns", "add", ns]);
    const close = () => {
        spawnSync("ip", ["netns", "del", ns], { timeout: 20_000 });
        // A link still on the host (a failure between creating and moving it).
        for (const l of allLinks)
            if (spawnSync("ip", ["link", "show", l], { stdio: "ignore" }).status === 0)
                spawnSync("ip", ["link", "del", l], { timeout: 20_000 });
    };
    try {
        const inC = (...args: string[]) => sh("ip", ["netns", "exec", ns, "ip", ...args]);
        inC("link", "set", "lo", "up");
        inC("link", "add", "tn0", "type", "bridge");
        inC("addr", "add", `${TAILNET.client}/${TAILNET.prefix}`, "dev", "tn0");
        inC("addr", "add", `${TAILNET.clientLan}/24`, "dev", "tn0");
        inC("link", "set", "tn0", "up");
        const join = (engine: Engine, [inEngine, onBridge]: readonly [string, string], addrs: string[]) => {
            sh("ip", ["link", "add", inEngine, "type", "veth", "peer", "name", onBridge]);
            sh("ip", ["link", "set", inEngine, "netns", String(engine.pid)]);
            sh("ip", ["link", "set", onBridge, "netns", ns]);
            const inE = (...args: string[]) => sh("nsenter", [`--net=${engine.netnsPath}`, "--", "ip", ...args]);
            for (const a of addrs) inE("addr", "add", a, "dev", inEngine);
            inE("link", "set", inEngine, "up");
            inC("link", "set", onBridge, "master", "tn0");
            inC("link", "set", onBridge, "up");
        };
        join(edge, links.edge, [`${TAILNET.edge}/${TAILNET.prefix}`]);
        join(nas, links.nas, [`${TAILNET.nas}/${TAILNET.prefix}`, `${TAILNET.nasLan}/24`]);
    } catch (e) {
        close();
        throw e;
    }
    return {
        ns,
        run: (cmd, args, timeoutMs = 20_000) => edge.run("ip", ["netns", "exec", ns, cmd, ...args], { timeoutMs }),
        names: { ns, links: allLinks },
        close,
    };
}

/** What is left of a closed tailnet on the host: its namespace or a link (empty when all is gone). */
export function tailnetLeftovers(t: Tailnet): string[] {
    const out: string[] = [];
    const list = spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout ?? "";
    if (list.split("\n").some((l) => l.split(" ")[0] === t.names.ns)) out.push(`namespace ${t.names.ns}`);
    for (const l of t.names.links)
        if (spawnSync("ip", ["link", "show", l], { stdio: "ignore" }).status === 0) out.push(`link ${l}`);
    return out;
}
