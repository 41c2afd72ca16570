// Valid stack configs generated from a seed: the property tests run on these besides the repo's own
// stacks, so a rule that holds only for the example is caught. Deterministic for a given seed.
import * as fs from "fs";
import * as path from "path";

/** A small seeded PRNG (mulberry32): the same seed gives the same sequence on every machine. */
export function mulberry32(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

const RUNTIMES = ["docker-desktop", "orbstack", "colima", "linux"] as const;
const APPLIANCE_CA = fs.readFileSync(path.join(__dirname, "..", "fixtures", "appliance-ca.pem"), "utf8");

type Template = (name: string, i: number) => Record<string, Record<string, unknown>>;

/** Shapes of services; each returns the services it adds (an internal one brings its user). */
const TEMPLATES: Record<string, Template> = {
    private: (n) => ({ [n]: { image: "ghcr.io/example/private:1.2.3", port: 8080 } }),
    privateExternal: (n) => ({ [n]: { upstream: "192.168.7.40:8123" } }),
    mtls: (n) => ({ [n]: { image: "nextcloud:31.0.9-apache", port: 80, expose: ["private", "mtls"] } }),
    mtlsExternal: (n) => ({ [n]: { upstream: "192.168.7.41:2342", expose: ["mtls"] } }),
    public: (n) => ({ [n]: { image: "ghost:5.130.2", port: 2368, expose: ["public"] } }),
    publicAccess: (n) => ({
        [n]: {
            image: "ghcr.io/example/wiki:2.0.0",
            port: 3000,
            expose: ["public"],
            access: { emailDomains: ["example.dev"] },
        },
    }),
    publicPrivate: (n) => ({
        [n]: { image: "lscr.io/linuxserver/piwigo:15.5.0", port: 80, expose: ["private", "public"] },
    }),
    internal: (n) => ({
        // "1m": Docker reports it as "1m0s"; the program must write that form.
        [`${n}-db`]: {
            image: "postgres:17.6",
            port: 5432,
            expose: [],
            shmSize: "128m",
            healthcheck: { test: ["CMD", "pg_isready"], interval: "1m", timeout: "90s" },
        },
        [n]: { image: "ghcr.io/example/app:3.1.0", port: 8000, dependsOn: [`${n}-db`], memory: "512m" },
    }),
    publicAppliance: (n) => ({
        [n]: {
            upstream: "https://192.168.7.60:7443",
            upstreamTls: { serverName: "nvr.lan", ca: APPLIANCE_CA },
            expose: ["public"],
        },
    }),
    published: (n, i) => ({
        [n]: {
            image: "lscr.io/linuxserver/qbittorrent:5.1.2",
            port: 8080,
            publish: [`${6881 + i}:6881`, `${6881 + i}:6881/udp`],
        },
    }),
};

export interface GeneratedStack {
    config: Record<string, unknown>;
    summary: string;
}

export function generateStack(random: () => number, index: number): GeneratedStack {
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
    const runtime = pick(RUNTIMES);
    const kinds = Object.keys(TEMPLATES);
    const count = 1 + Math.floor(random() * 5);
    const services: Record<string, Record<string, unknown>> = {};
    const chosen: string[] = [];
    for (let i = 0; i < count; i++) {
        const kind = pick(kinds);
        chosen.push(kind);
        Object.assign(services, (TEMPLATES[kind] as Template)(`s${i}${kind.toLowerCase().slice(0, 3)}`, i));
    }
    const first = Object.entries(services).find(([, s]) => s.expose === undefined);
    if (first && random() < 0.5) first[1].apex = true;
    // A WAN address always (a change may add the first mtls service); dynamic or fixed.
    const dynamic = random() < 0.5;
    const users = Array.from({ length: Math.floor(random() * 4) }, (_, i) =>
        random() < 0.3 ? { name: `u${i}`, validityDays: 90 } : { name: `u${i}` },
    );
    const linux = runtime === "linux";
    // On Linux, IPv6 only on an engine said to keep IPv6 clients' addresses.
    const ip6tables = linux && random() < 0.5;
    const config: Record<string, unknown> = {
        "homelab:domain": `lab${index}.example.dev`,
        "homelab:zoneId": "0123456789abcdef0123456789abcdef",
        "homelab:accountId": "fedcba9876543210fedcba9876543210",
        "homelab:tailnet":
            linux && !ip6tables
                ? { ipv4: `100.100.${index}.7` }
                : { ipv4: `100.100.${index}.7`, ipv6: `fd7a:115c:a1e0::${index + 1}` },
        "homelab:trustedNetworks": ["192.168.7.0/24"],
        "homelab:acme": { email: "admin@example.dev" },
        "homelab:docker": {
            runtime,
            dataDir: linux ? "/srv/lab" : "/Users/me/lab",
            ...(linux ? { listenAddresses: ["192.168.7.10"], ip6tables } : {}),
        },
        "homelab:services": services,
        "homelab:users": users,
        "homelab:wan": { publicIp: dynamic ? "dynamic" : "203.0.113.9" },
    };
    return {
        config,
        summary: `${runtime}${ip6tables ? " with IPv6" : ""}, ${chosen.join("+")}${dynamic ? ", dynamic address" : ""}, ${users.length} users`,
    };
}
