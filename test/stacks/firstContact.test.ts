// First contact with a real zone, under Pulumi's mocks with the record lookup answered: hand-made
// records at the stack's names stop the run before anything is registered, each named with what to
// do; the stack's own records are not conflicts; adoption imports exactly the listed records into
// the resources that would otherwise be created, under the same URNs (no replacement). And a home
// address that changes: the DDNS updater, its token, its records.
import { strict as assert } from "assert";
import { EXAMPLE, Registered, Run, ZoneRecord, clone, ofType, runProgram } from "../harness";
import { ZoneConflictError } from "../../stacks/zone";
import { ConfigError } from "../../stacks/validate";
import { LEGACY_MANAGED_COMMENT, managedComment } from "../../stacks/naming";
import { DYNAMIC_PLACEHOLDER } from "../../components/privateDns";

const RECORD = "cloudflare:index/dnsRecord:DnsRecord";
const CONTAINER = "docker:index/container:Container";
const ZONE = "023e105f4ecef8ad9ca31a8372d0c353";
const id = (n: number) => n.toString(16).padStart(32, "0");

/** The layout the seeds describe: the wildcard, the apex and per-service records, made by hand. */
const HAND_MADE: ZoneRecord[] = [
    { id: id(1), name: "*.home.example.dev", type: "A", content: "100.101.102.103" },
    { id: id(2), name: "home.example.dev", type: "A", content: "100.101.102.103" },
    { id: id(3), name: "cloud.example.dev", type: "A", content: "198.51.100.9" },
    { id: id(4), name: "blog.example.dev", type: "CNAME", content: "1234.cfargotunnel.com", proxied: true },
    // Not at the stack's names, or of types that do not clash: never reported.
    { id: id(5), name: "example.dev", type: "A", content: "198.51.100.1" },
    { id: id(6), name: "home.example.dev", type: "TXT", content: "v=spf1 -all" },
    { id: id(7), name: "mail.example.dev", type: "MX", content: "mx.example.dev" },
];

describe("first contact with a zone", () => {
    let empty: Run;
    before(async () => {
        empty = await runProgram(EXAMPLE);
        assert.equal(empty.error, undefined, empty.error?.message);
    });

    it("an empty zone deploys as before, and the lookup is the one invoke before anything", () => {
        assert.ok(ofType(empty, RECORD).length >= 7);
        assert.equal(empty.invokes[0]?.token, "cloudflare:index/getDnsRecords:getDnsRecords");
        assert.equal(empty.invokes[0]?.inputs.zoneId, ZONE);
        for (const r of ofType(empty, RECORD))
            assert.equal(r.inputs.comment, managedComment("homelab", "home"), "the comment names the stack");
    });

    it("hand-made records at the stack's names stop the run before anything is registered, each named, with what to do", async () => {
        const run = await runProgram(EXAMPLE, { zone: HAND_MADE });
        assert.ok(run.error instanceof ZoneConflictError, `got ${run.error}`);
        assert.deepEqual(run.resources, [], "nothing registered");
        const msg = run.error.message;
        for (const r of HAND_MADE.slice(0, 4)) {
            assert.ok(
                msg.includes(r.name) && msg.includes(r.content) && msg.includes(r.id),
                `${r.name} ${r.type} is listed with its content and id`,
            );
        }
        for (const r of HAND_MADE.slice(4)) assert.ok(!msg.includes(r.id), `${r.name} ${r.type} is not a conflict`);
        assert.match(msg, /Nothing has been created or changed/);
        assert.match(msg, /Tunnel or Access application is not adopted/);
        const commands = [...msg.matchAll(/pulumi config set --path 'homelab:adopt\[(\d+)\]' ([0-9a-f]{32})/g)].map(
            (m) => [Number(m[1]), m[2]],
        );
        assert.deepEqual(
            commands.map(([i]) => i),
            [0, 1, 2, 3],
            "one command per adoptable record, numbered from 0",
        );
        assert.deepEqual(commands.map(([, x]) => x).sort(), [id(1), id(2), id(3), id(4)]);
        assert.equal((run.error as any).__pulumiRunError, true, "reported as its message, no stack trace");
    });

    it("records the stack wrote are not conflicts: its comment, or the one earlier versions wrote", async () => {
        const ours = HAND_MADE.slice(0, 4).map((r, i) => ({
            ...r,
            comment: i % 2 ? LEGACY_MANAGED_COMMENT : managedComment("homelab", "home"),
        }));
        const run = await runProgram(EXAMPLE, { zone: ours });
        assert.equal(run.error, undefined, run.error?.message);
        assert.deepEqual(
            ofType(run, RECORD).filter((r) => r.importId),
            [],
            "nothing imported either",
        );
    });

    it("another stack's comment is someone else's record", async () => {
        const theirs = [{ ...(HAND_MADE[0] as ZoneRecord), comment: managedComment("homelab", "lake") }];
        const run = await runProgram(EXAMPLE, { zone: theirs });
        assert.ok(run.error instanceof ZoneConflictError);
    });

    it("records below the private name shadow the wildcard: a service's own record, one below it, and one elsewhere there stop the run, each with why", async () => {
        const shadowing: ZoneRecord[] = [
            // The per-service record of a hand-made setup: jellyfin would keep resolving to it.
            { id: id(21), name: "jellyfin.home.example.dev", type: "A", content: "192.168.1.20" },
            // Any type at a service's name hides the wildcard there (a TXT: the name resolves to nothing).
            { id: id(22), name: "sonarr.home.example.dev", type: "TXT", content: "owner=me" },
            // A record below a service's name makes that name exist without the wildcard's answer.
            { id: id(23), name: "_acme-challenge.radarr.home.example.dev", type: "TXT", content: "old" },
            // A device of the LAN named under the private name: no service now, but the wildcard is not the stack's there.
            { id: id(24), name: "nas.home.example.dev", type: "A", content: "192.168.1.30" },
        ];
        const run = await runProgram(EXAMPLE, { zone: shadowing });
        assert.ok(run.error instanceof ZoneConflictError, `got ${run.error}`);
        assert.deepEqual(run.resources, [], "nothing registered");
        const msg = run.error.message;
        for (const r of shadowing) assert.ok(msg.includes(r.id) && msg.includes(r.name), `${r.name} is listed`);
        assert.match(
            msg,
            /jellyfin\.home\.example\.dev A 192\.168\.1\.20 .*overrides the wildcard for service jellyfin/,
        );
        assert.match(msg, /sonarr\.home\.example\.dev TXT .*service sonarr/);
        assert.match(msg, /_acme-challenge\.radarr\.home\.example\.dev TXT .*service radarr/);
        assert.match(msg, /nas\.home\.example\.dev A .*overrides the wildcard \*\.home\.example\.dev at that name/);
        assert.doesNotMatch(msg, /homelab:adopt\[/, "none of them can be adopted");
        assert.match(msg, /move to a name outside it/);
    });

    it("a CNAME at the private name's ACME challenge name (acme-dns) and a TXT at a public service's name (a CNAME stands alone) stop the run", async () => {
        const zone: ZoneRecord[] = [
            { id: id(41), name: "_acme-challenge.home.example.dev", type: "CNAME", content: "abc.auth.acme-dns.io" },
            { id: id(42), name: "blog.example.dev", type: "TXT", content: "verification=1" },
        ];
        const run = await runProgram(EXAMPLE, { zone });
        assert.ok(run.error instanceof ZoneConflictError, `got ${run.error}`);
        for (const r of zone) assert.ok(run.error.message.includes(r.id), `${r.name} ${r.type} is listed`);
        assert.deepEqual(run.resources, []);
    });

    it("Caddy's own DNS-01 answer below the private name, and records the stack wrote there, are not conflicts", async () => {
        const zone: ZoneRecord[] = [
            { id: id(31), name: "_acme-challenge.home.example.dev", type: "TXT", content: "caddy" },
            {
                id: id(32),
                name: "old.home.example.dev",
                type: "A",
                content: "100.101.102.103",
                comment: managedComment("homelab", "home"),
            },
        ];
        const run = await runProgram(EXAMPLE, { zone });
        assert.equal(run.error, undefined, run.error?.message);
    });

    it("a CNAME where the stack puts an A cannot be adopted: the report says to delete it", async () => {
        const run = await runProgram(EXAMPLE, {
            zone: [{ id: id(9), name: "cloud.example.dev", type: "CNAME", content: "old.example.net" }],
        });
        assert.ok(run.error instanceof ZoneConflictError);
        assert.match(run.error.message, /cannot be adopted: the stack puts a A here/);
        assert.match(run.error.message, /Delete the others in the Cloudflare dashboard/);
        assert.doesNotMatch(run.error.message, /homelab:adopt\[/);
    });

    describe("adopting", () => {
        let adopted: Run;
        before(async () => {
            const cfg = clone(EXAMPLE);
            cfg["homelab:adopt"] = [id(1), id(2), id(3), id(4)];
            adopted = await runProgram(cfg, { zone: HAND_MADE });
            assert.equal(adopted.error, undefined, adopted.error?.message);
        });

        it("imports exactly the listed records, each into the resource that would otherwise create it", () => {
            const imported = Object.fromEntries(
                ofType(adopted, RECORD)
                    .filter((r) => r.importId)
                    .map((r) => [r.name, r.importId]),
            );
            assert.deepEqual(imported, {
                "private-dns-wildcard-a": `${ZONE}/${id(1)}`,
                "private-dns-apex-a": `${ZONE}/${id(2)}`,
                "private-dns-mtls-cloud-a": `${ZONE}/${id(3)}`,
                "tunnel-blog-cname": `${ZONE}/${id(4)}`,
            });
            assert.deepEqual(adopted.outputs["adopted"], { ...Object.fromEntries(Object.entries(imported)) });
        });

        it("plans updates in place, never a replacement: the same resources and URNs as on an empty zone, with the stack's inputs", () => {
            const urns = (r: Run) => r.resources.map((x) => x.urn).sort();
            assert.deepEqual(urns(adopted), urns(empty));
            const byName = (r: Run) => new Map(ofType(r, RECORD).map((x) => [x.name, x.inputs]));
            for (const [name, inputs] of byName(empty))
                assert.deepEqual(
                    byName(adopted).get(name),
                    inputs,
                    `${name}: the stack's content, comment and proxying`,
                );
        });

        it("a record id at someone else's record elsewhere is refused by key; one not in the zone is only a warning", async () => {
            const cfg = clone(EXAMPLE);
            cfg["homelab:adopt"] = [id(1), id(99), id(6)];
            const run = await runProgram(cfg, { zone: HAND_MADE });
            assert.ok(run.error instanceof ZoneConflictError);
            assert.match(
                run.error.message,
                /homelab:adopt\[2\]: record 0+6 \(home\.example\.dev TXT\) is not at a name and type this stack creates/,
            );
            assert.doesNotMatch(run.error.message, /homelab:adopt\[1\]/, "an id that is gone is not an error");
            assert.deepEqual(run.resources, []);
        });

        it("removing a service whose record was adopted: the run goes on (the record is deleted) and says the entry can go", async () => {
            const cfg = clone(EXAMPLE);
            cfg["homelab:adopt"] = [id(1), id(3)];
            delete (cfg["homelab:services"] as Record<string, unknown>)["cloud"];
            const ours = managedComment("homelab", "home");
            const zone = HAND_MADE.map((r) => ({ ...r, comment: ours }));
            const removing = await runProgram(cfg, { zone });
            assert.equal(removing.error, undefined, removing.error?.message);
            assert.ok(
                removing.warnings.some((w) =>
                    /homelab:adopt\[1\].*cloud\.example\.dev A.*no longer at a name this stack creates/.test(w),
                ),
                removing.warnings.join("\n"),
            );
            assert.ok(
                !ofType(removing, RECORD).some((r) => r.inputs.name === "cloud.example.dev"),
                "the record is no longer registered: pulumi up deletes it",
            );
            const after = await runProgram(cfg, { zone: zone.filter((r) => r.id !== id(3)) });
            assert.equal(after.error, undefined, after.error?.message);
            assert.ok(
                after.warnings.some((w) => /homelab:adopt\[1\].*not in the zone/.test(w)),
                after.warnings.join("\n"),
            );
        });

        it("stays adopted on later runs, when the records carry the stack's comment", async () => {
            const cfg = clone(EXAMPLE);
            cfg["homelab:adopt"] = [id(1)];
            const later = HAND_MADE.map((r) =>
                r.id === id(1)
                    ? { ...r, comment: managedComment("homelab", "home") }
                    : { ...r, comment: managedComment("homelab", "home") },
            );
            const run = await runProgram(cfg, { zone: later });
            assert.equal(run.error, undefined, run.error?.message);
        });
    });
});

describe("a home address that changes (homelab:wan.publicIp: dynamic)", () => {
    let run: Run;
    const dynamic = () => {
        const cfg = clone(EXAMPLE);
        cfg["homelab:wan"] = { publicIp: "dynamic" };
        delete cfg["homelab:dnsToken"];
        return cfg;
    };
    before(async () => {
        run = await runProgram(dynamic());
        assert.equal(run.error, undefined, run.error?.message);
    });

    it("keeps the address in one record the updater owns (ignoreChanges); each mtls name is a CNAME to it", () => {
        const wan = ofType(run, RECORD).find((r) => r.inputs.name === "homelab-wan.example.dev") as Registered;
        assert.equal(wan.inputs.type, "A");
        assert.equal(wan.inputs.content, DYNAMIC_PLACEHOLDER);
        assert.deepEqual(wan.ignoreChanges, ["content"]);
        const cloud = ofType(run, RECORD).find((r) => r.inputs.name === "cloud.example.dev") as Registered;
        assert.deepEqual(
            [cloud.inputs.type, cloud.inputs.content, cloud.inputs.proxied],
            ["CNAME", "homelab-wan.example.dev", false],
        );
        assert.equal(
            cloud.options.deleteBeforeReplace,
            true,
            "A (fixed address) → CNAME (dynamic) at one name: the old one goes first",
        );
        for (const r of ofType(run, RECORD).filter((x) => x !== wan))
            assert.deepEqual(r.ignoreChanges, [], `${r.inputs.name} stays Pulumi's`);
    });

    it("the updater's record and config do not follow the service table: adding and removing mtls services leaves both as they were", async () => {
        const cfg = dynamic();
        const svc = cfg["homelab:services"] as Record<string, any>;
        svc["wiki"] = { image: "ghcr.io/requarks/wiki:2.5.307", port: 3000, expose: ["mtls"] };
        svc["jellyfin"].expose = ["private", "mtls"];
        cfg["homelab:users"] = [{ name: "dave" }];
        const other = await runProgram(cfg);
        assert.equal(other.error, undefined, other.error?.message);
        const pick = (r: Run) => [
            ofType(r, RECORD).find((x) => x.inputs.name === "homelab-wan.example.dev")?.inputs,
            ofType(r, CONTAINER).find((x) => x.inputs.name === "ddns")?.inputs,
        ];
        const [record, updater] = pick(run);
        assert.ok(record && updater, "the WAN record and the updater exist");
        assert.deepEqual(pick(other), [record, updater]);
        assert.ok(ofType(other, RECORD).some((x) => x.inputs.name === "wiki.example.dev" && x.inputs.type === "CNAME"));
    });

    it("refuses a service at the updater's name", async () => {
        const cfg = dynamic();
        (cfg["homelab:services"] as Record<string, any>)["router"] = {
            upstream: "192.168.1.9:80",
            hostname: "homelab-wan",
            expose: ["mtls"],
        };
        const r = await runProgram(cfg);
        assert.ok(r.error instanceof ConfigError);
        assert.match(
            r.error.message,
            /homelab:services\.router: hostname homelab-wan\.example\.dev is already used by the record the DDNS updater keeps/,
        );
        assert.deepEqual(r.resources, []);
    });

    it("runs the updater with its own token, scoped like the DNS-01 one and not limited by address", () => {
        const tokens = ofType(run, "cloudflare:index/apiToken:ApiToken");
        const ddns = tokens.find((t) => t.name === "ddns-token") as Registered;
        assert.match(ddns.inputs.name, /homelab home DDNS for example\.dev/);
        const dns01 = tokens.find((t) => t.name === "dns01-token") as Registered;
        assert.deepEqual(
            ddns.inputs.policies,
            dns01.inputs.policies,
            "Zone Read + DNS Write on this zone, nothing else",
        );
        assert.equal(ddns.inputs.condition, undefined);
        const c = ofType(run, CONTAINER).find((x) => x.inputs.name === "ddns") as Registered;
        assert.ok(c.secretInputs.includes("envs"));
        assert.ok(c.inputs.envs.includes("CLOUDFLARE_API_TOKEN=ddns-token-value-SECRET"));
        assert.ok(c.inputs.envs.includes("DOMAINS=homelab-wan.example.dev"));
        assert.ok(c.inputs.envs.includes(`RECORD_COMMENT=${managedComment("homelab", "home")}`));
        assert.equal(c.inputs.readOnly, true);
        assert.deepEqual(c.inputs.capabilities, { drops: ["ALL"] });
        assert.deepEqual(
            c.inputs.networksAdvanced,
            [{ name: "bridge" }],
            "alone on Docker's default bridge, with none of the stack's networks",
        );
        const holders = run.resources
            .filter((r) => JSON.stringify(r.inputs).includes("ddns-token-value-SECRET"))
            .map((r) => r.inputs.name);
        assert.deepEqual(holders, ["ddns"], "the updater's token reaches the updater only");
    });

    it("an address change needs no pulumi up: the records' and containers' inputs do not depend on the address", async () => {
        const again = await runProgram(dynamic());
        const inputs = (r: Run) =>
            JSON.stringify(
                r.resources
                    .filter((x) => x.type === RECORD || x.type === CONTAINER)
                    .map((x) => [x.urn, x.inputs, x.ignoreChanges])
                    .sort(),
            );
        assert.equal(inputs(again), inputs(run));
    });

    it("without mtls services the updater, its token and its record stay, so the next mtls service never starts from the placeholder", async () => {
        const cfg = dynamic();
        (cfg["homelab:services"] as any).cloud.expose = ["private"];
        const r = await runProgram(cfg);
        assert.equal(r.error, undefined, r.error?.message);
        assert.equal(
            ofType(r, CONTAINER).some((x) => x.inputs.name === "ddns"),
            true,
        );
        assert.equal(ofType(r, "cloudflare:index/apiToken:ApiToken").length, 2);
        assert.ok(ofType(r, RECORD).some((x) => x.inputs.name === "homelab-wan.example.dev"));
        assert.ok(!ofType(r, RECORD).some((x) => x.inputs.name === "cloud.example.dev"));
    });

    it("refuses a dynamic address together with a DNS-01 token limited by address", async () => {
        const cfg = dynamic();
        cfg["homelab:dnsToken"] = { allowedIps: ["203.0.113.7"] };
        const r = await runProgram(cfg);
        assert.ok(r.error instanceof ConfigError);
        assert.match(
            r.error.message,
            /homelab:dnsToken\.allowedIps: cannot be combined with homelab:wan\.publicIp: dynamic/,
        );
        assert.deepEqual(r.resources, []);
    });
});
