// What a real `pulumi up` would do, from the providers' own semantics (test/providers/*.json, read
// from their source) rather than the mocks': a second run on the read-back state plans nothing; a
// change to the service table or the users replaces no long-lived container, network, tunnel,
// token or certificate; resource options the engine acts on are set; destroy runs in an order
// that succeeds. Checked on the repo's stacks and on generated ones.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { EXAMPLE, ROOT, Registered, Run, clone, onLinux, readStackFile, runProgram, withDynamicWan } from "../harness";
import {
    DATA_VERSIONS,
    describedInputs,
    plan,
    planAgainstReadBack,
    readBacks,
    semanticsOf,
    withImageHealthcheckTimings,
} from "./semantics";
import { generateStack, mulberry32 } from "../support/generate";

type Cfg = Record<string, any>;

const APPLIANCE_CA = fs.readFileSync(path.join(ROOT, "test/fixtures/appliance-ca.pem"), "utf8");

function stackFile(name: string): Cfg {
    return readStackFile(path.join(ROOT, "test/stacks", `${name}.yaml`));
}

/** Six of the example's services, one of each shape: the bases that only vary the runtime or the address. */
function trimmed(): Cfg {
    const cfg = clone(EXAMPLE);
    const keep = ["dashboard", "jellyfin", "cloud", "blog", "ntfy", "llm"];
    cfg["homelab:services"] = Object.fromEntries(
        Object.entries(cfg["homelab:services"] as Record<string, unknown>).filter(([k]) => keep.includes(k)),
    );
    return cfg;
}

/** The example on a Linux host: the edge is a container; the router forwards :443 to 192.168.1.20. */
function exampleLinux(full = false): Cfg {
    return onLinux(full ? clone(EXAMPLE) : trimmed());
}

function exampleDynamic(full = false): Cfg {
    return withDynamicWan(full ? clone(EXAMPLE) : trimmed());
}

const STACKS: [string, () => Cfg, string?][] = [
    ["the example (Docker Desktop)", () => clone(EXAMPLE)],
    ["the example on Linux", () => exampleLinux(true)],
    ["the example with a dynamic address", () => exampleDynamic(true)],
    ["cabin (Linux over SSH, public services with Access)", () => stackFile("cabin"), "cabin"],
    ["lake (Linux, mtls)", () => stackFile("lake"), "lake"],
    ["workshop (every shape of service)", () => stackFile("workshop"), "workshop"],
    ["minimal (only the required keys)", () => stackFile("minimal"), "minimal"],
    ["two hosts (a Mac edge and a Linux NAS)", () => stackFile("twohosts")],
];

const custom = (run: Run) => run.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"));

interface Step {
    resource: Registered;
    change: string;
    diffs: string;
    /** Replaced by deleting first (the resource's own option, or the provider's rule). */
    deleteFirst?: boolean;
}

/** Whether the engine replaces a resource by deleting it first. */
function deletesFirst(r: Registered): boolean {
    const sem = semanticsOf(r.type);
    return r.options.deleteBeforeReplace || !!sem?.deleteBeforeReplace || !!sem?.effectiveDeleteBeforeReplace;
}

/**
 * What `pulumi up` would do to each resource of `before`'s state when the program now registers
 * `after`. As the engine does, a resource replaced delete-first takes down first every dependent
 * whose input from it forces a replacement (pulumi/pulumi step_generator: dependent replacements).
 */
function planUp(before: Run, after: Run): Step[] {
    const old = new Map<string, Registered>();
    for (const r of custom(before)) old.set(r.urn, r);
    const out: Step[] = [];
    for (const r of custom(after)) {
        const prev = old.get(r.urn) ?? r.aliases.map((a) => old.get(a)).find((x) => x !== undefined);
        if (!prev) continue;
        const p = planAgainstReadBack(r.type, prev.inputs, r.inputs, {
            ignoreChanges: r.ignoreChanges,
            replaceOnChanges: r.options.replaceOnChanges,
        });
        out.push({
            resource: r,
            change: p.change,
            diffs: p.diffs.map((d) => `${d.input} (${d.onChange})`).join(", "),
            deleteFirst: deletesFirst(r),
        });
    }
    for (let changed = true; changed;) {
        changed = false;
        const gone = new Set(out.filter((s) => s.change === "replace" && s.deleteFirst).map((s) => s.resource.urn));
        for (const s of out) {
            if (s.change === "replace") continue;
            const sem = semanticsOf(s.resource.type);
            const via = Object.entries(s.resource.options.propertyDependencies).find(
                ([k, urns]) =>
                    urns.some((u) => gone.has(u)) && (sem?.inputs[k]?.onChange ?? sem?.unlistedInputs) === "replace",
            );
            if (via) {
                s.change = "replace";
                s.diffs = `${via[0]} (its source is replaced, deleting first)`;
                changed = true;
            }
        }
    }
    return out;
}

/** Whether `a` depends on `b`, directly or through others: then a destroy deletes `a` first. */
function dependsOn(run: Run, a: Registered, b: Registered, seen = new Set<string>()): boolean {
    if (a.options.dependsOn.includes(b.urn)) return true;
    seen.add(a.urn);
    return a.options.dependsOn.some((u) => {
        const next = run.resources.find((r) => r.urn === u);
        return !!next && !seen.has(u) && dependsOn(run, next, b, seen);
    });
}

async function run(cfg: Cfg, stack = "home"): Promise<Run> {
    const r = await runProgram(cfg, { stack });
    assert.equal(r.error, undefined, r.error?.message);
    return r;
}

describe("provider semantics: the data covers what the program registers", () => {
    it("was read for the provider versions package.json pins", () => {
        const pkg = require(path.join(ROOT, "package.json")) as { dependencies: Record<string, string> };
        for (const [name, version] of Object.entries(DATA_VERSIONS))
            assert.equal(pkg.dependencies[name], version, `${name}: the data describes ${version}`);
    });

    for (const [label, make, stack] of STACKS) {
        it(`${label}: every resource type and every input it sets is described`, async () => {
            const r = await baseRun(make(), stack);
            const missing: string[] = [];
            for (const res of custom(r)) {
                if (!semanticsOf(res.type)) {
                    missing.push(`${res.type} (no entry)`);
                    continue;
                }
                const described = describedInputs(res.type);
                for (const k of Object.keys(res.inputs))
                    if (!k.startsWith("__") && !described.has(k)) missing.push(`${res.type} ${k}`);
            }
            assert.deepEqual(
                [...new Set(missing)],
                [],
                "read the provider's source and add these to test/providers/*.json",
            );
        });
    }
});

describe("provider semantics: a second pulumi up with no change plans nothing", () => {
    for (const [label, make, stack] of STACKS) {
        it(label, async () => {
            const first = await baseRun(make(), stack);
            const second = await run(make(), stack);
            assert.deepEqual(
                custom(second).map((r) => r.urn),
                custom(first).map((r) => r.urn),
            );
            const changes = planUp(first, second).filter((p) => p.change !== "same");
            assert.deepEqual(
                changes.map((c) => `${c.resource.name}: ${c.change} (${c.diffs})`),
                [],
            );
        });
    }
});

/** A change to a stack, and the resources it may replace (those of the service or user it touches). */
interface Change {
    name: string;
    apply: (c: Cfg) => void;
    /** Resource names that belong to what changed: they may be replaced. */
    owns?: (resourceName: string) => boolean;
}

/** The further hosts of the stacks above (test/stacks/twohosts.yaml). */
const FURTHER_HOSTS = ["nas"];
const svc = (c: Cfg) => (c["homelab:services"] ??= {}) as Record<string, any>;
const ofService = (s: string) => (n: string) =>
    n === `docker-${s}` ||
    n === `docker-image-${s}` ||
    FURTHER_HOSTS.some((h) => n === `host-${h}-${s}` || n === `host-${h}-image-${s}`) ||
    n.startsWith(`access-${s}-`) ||
    n === `tunnel-${s}-cname` ||
    n === `private-dns-mtls-${s}-a`;
const ofUser = (u: string) => (n: string) => n.startsWith(`client-ca-${u}-`);

export const CHANGES: Change[] = [
    {
        name: "add a private managed service",
        apply: (c) => (svc(c)["wiki"] = { image: "ghcr.io/requarks/wiki:2.5.307", port: 3000 }),
    },
    { name: "add an external private service", apply: (c) => (svc(c)["printer"] = { upstream: "192.168.1.50:631" }) },
    {
        name: "add an mtls service",
        apply: (c) =>
            (svc(c)["new-files"] = { image: "nextcloud:31.0.9-apache", port: 80, expose: ["private", "mtls"] }),
    },
    {
        name: "add a public service",
        apply: (c) => (svc(c)["site"] = { image: "ghost:5.130.2", port: 2368, expose: ["public"] }),
    },
    {
        name: "add a public service behind Access",
        apply: (c) =>
            (svc(c)["notes"] = {
                image: "ghcr.io/hedgedoc/hedgedoc:1.10.3",
                port: 3000,
                expose: ["public"],
                access: { emails: ["me@example.dev"] },
            }),
    },
    {
        name: "add a service that is public and private",
        apply: (c) =>
            (svc(c)["pics"] = { image: "lscr.io/linuxserver/piwigo:15.5.0", port: 80, expose: ["private", "public"] }),
    },
    {
        name: "add a public HTTPS appliance verified by its own CA (cloudflared reads it from a folder)",
        apply: (c) =>
            (svc(c)["nvr"] = {
                upstream: "https://192.168.1.60:7443",
                upstreamTls: { serverName: "nvr.lan", ca: APPLIANCE_CA },
                expose: ["public"],
            }),
    },
    {
        name: "add an internal service and one that depends on it",
        apply: (c) => {
            svc(c)["cache"] = { image: "valkey/valkey:8.1.4", port: 6379, expose: [] };
            svc(c)["app"] = { image: "ghcr.io/example/app:1.0.0", port: 8000, dependsOn: ["cache"] };
        },
    },
    { name: "add a user", apply: (c) => (c["homelab:users"] = [...(c["homelab:users"] ?? []), { name: "newcomer" }]) },
    { name: "remove the first user", apply: (c) => (c["homelab:users"] = (c["homelab:users"] ?? []).slice(1)) },
    {
        name: "a service's image changes",
        apply: (c) => {
            const managed = Object.entries(svc(c)).find(
                ([, s]) => s.image && (s.expose === undefined || s.expose.length > 0),
            );
            if (managed) managed[1].image = `${String(managed[1].image).split(":")[0]}:9.9.9`;
        },
    },
];

/**
 * Removing a service, one of each shape (managed or external, and its planes), so every kind of
 * removal is tried without running the program once per service of a large stack.
 */
function removals(cfg: Cfg): Change[] {
    const services = svc(cfg);
    const shape = (s: any) =>
        `${s.image ? "managed" : "external"} ${JSON.stringify(s.expose ?? ["private"])} ${s.access ? "access" : ""} ${s.apex ? "apex" : ""} ${(s.dependsOn ?? []).length > 0 ? "deps" : ""}`;
    const seen = new Set<string>();
    return Object.keys(services)
        .filter((name) => !Object.values(services).some((s: any) => (s.dependsOn ?? []).includes(name)))
        .filter((name) => !seen.has(shape(services[name])) && !!seen.add(shape(services[name])))
        .map((name) => ({ name: `remove ${name}`, apply: (c: Cfg) => delete svc(c)[name], owns: ofService(name) }));
}

/** Runs of unchanged configs, shared by the changes made to them. */
const baseRuns = new Map<string, Promise<Run>>();
function baseRun(cfg: Cfg, stack?: string): Promise<Run> {
    const key = `${stack}:${JSON.stringify(cfg)}`;
    let r = baseRuns.get(key);
    if (!r) baseRuns.set(key, (r = run(clone(cfg), stack)));
    return r;
}

function ownerOf(change: Change, before: Cfg, after: Cfg): (n: string) => boolean {
    if (change.owns) return change.owns;
    const a = svc(clone(before));
    const b = svc(clone(after));
    const touched = Object.keys(b).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
    const names = (c: Cfg) => ((c["homelab:users"] ?? []) as { name: string }[]).map((u) => u.name);
    // Users added or removed own their key, certificate and bundle password.
    const users = [
        ...names(after).filter((u) => !names(before).includes(u)),
        ...names(before).filter((u) => !names(after).includes(u)),
    ];
    return (n) => touched.some((s) => ofService(s)(n)) || users.some((u) => ofUser(u)(n));
}

/** Resources of `before` that `after` no longer registers (under any alias): `pulumi up` deletes them. */
function deletedBy(before: Run, after: Run): Registered[] {
    const now = new Set(custom(after).flatMap((r) => [r.urn, ...r.aliases]));
    return custom(before).filter((r) => !now.has(r.urn));
}

/** Whether a resource belongs to a tunnel (and its host's cloudflared) that `after` no longer has. */
function withGoneTunnel(before: Run, after: Run): (n: string) => boolean {
    const tunnels = (r: Run) =>
        custom(r)
            .filter((t) => t.type.endsWith("ZeroTrustTunnelCloudflared"))
            .map((t) => t.name);
    const goneTunnels = tunnels(before).filter((t) => !tunnels(after).includes(t));
    const ofFurther = (n: string) => FURTHER_HOSTS.some((h) => n === `tunnel-${h}` || n.startsWith(`tunnel-${h}-`));
    return (n) =>
        goneTunnels.some((t) => {
            const host = t === "tunnel" ? undefined : t.slice("tunnel-".length);
            if (host) return n === t || n.startsWith(`${t}-`) || n.startsWith(`host-${host}-cloudflared`);
            return ((n === "tunnel" || n.startsWith("tunnel-")) && !ofFurther(n)) || n.startsWith("docker-cloudflared");
        });
}

async function assertReplacesNothingShared(label: string, base: Cfg, change: Change, stack?: string): Promise<void> {
    const after = clone(base);
    change.apply(after);
    assert.notDeepEqual(after, base, `${label}, ${change.name}: the change changes nothing in this stack`);
    const a = await baseRun(base, stack);
    const bRun = await runProgram(after, { stack: stack ?? "home" });
    assert.equal(bRun.error, undefined, `${label}, ${change.name}: ${bRun.error?.message}`);
    const owned = ownerOf(change, base, after);
    const replaced = planUp(a, bRun).filter((p) => p.change === "replace" && !owned(p.resource.name));
    assert.deepEqual(
        replaced.map((p) => `${p.resource.name}: ${p.diffs}`),
        [],
        `${label}, ${change.name}: replaces what it does not own`,
    );
    // Nothing shared disappears either (a rename without an alias is a delete and a create).
    // A host's tunnel and cloudflared go with its last public service.
    const gone = deletedBy(a, bRun).filter((r) => !owned(r.name) && !withGoneTunnel(a, bRun)(r.name));
    assert.deepEqual(
        gone.map((r) => r.name),
        [],
        `${label}, ${change.name}: deletes what it does not own`,
    );
}

describe("provider semantics: service-table and user changes replace nothing shared", () => {
    // Bases where every change of the table is valid as it is (mtls needs a WAN address, and on
    // Linux a listed address for the router's forward).
    // The full example once; the Linux and dynamic-address variants on six of its services.
    const bases: [string, () => Cfg, string?][] = [
        STACKS[0] as [string, () => Cfg],
        ["six of the example's services on Linux", () => exampleLinux()],
        ["six of the example's services with a dynamic address", () => exampleDynamic()],
        STACKS[4] as [string, () => Cfg, string],
        STACKS[7] as [string, () => Cfg],
    ];
    for (const [label, make, stack] of bases) {
        describe(label, () => {
            for (const change of CHANGES)
                it(change.name, () => assertReplacesNothingShared(label, make(), change, stack));
            it("removing one service of each shape (one no other service depends on)", async function () {
                // A program run per removal (about 9 s on the example alone); room for a busy machine.
                this.timeout(120_000);
                for (const change of removals(make())) await assertReplacesNothingShared(label, make(), change, stack);
            });
        });
    }

    it("a dynamic address gaining its first mtls name replaces nothing (the updater already runs, unchanged)", async () => {
        const base = exampleDynamic();
        for (const s of Object.values(svc(base)))
            s.expose = (s.expose ?? ["private"]).filter((p: string) => p !== "mtls");
        const change: Change = {
            name: "first mtls name",
            apply: (c) => (svc(c)["cloud"].expose = ["private", "mtls"]),
        };
        await assertReplacesNothingShared("dynamic", base, change);
        const after = clone(base);
        change.apply(after);
        const [before, later] = [await baseRun(base), await run(after)];
        const ddns = (r: Run) => r.resources.find((x) => x.custom && x.name === "docker-ddns");
        assert.ok(ddns(before) && ddns(later), "the updater runs before and after");
        assert.deepEqual(
            planUp(before, later)
                .filter((p) => p.resource.name === "docker-ddns")
                .map((p) => p.change),
            ["same"],
        );
    });
});

describe("provider semantics: generated stacks", () => {
    const COUNT = 6;
    const random = mulberry32(20261204);
    const stacks = Array.from({ length: COUNT }, (_, i) => generateStack(random, i));
    // Each test draws from a generator of its own, so --grep reproduces its choice.
    for (const [i, g] of stacks.entries()) {
        it(`#${i} (${g.summary}): a second run plans nothing, and ${CHANGES[i % CHANGES.length]?.name} replaces nothing shared`, async () => {
            const first = await run(clone(g.config));
            const second = await run(clone(g.config));
            assert.deepEqual(
                planUp(first, second)
                    .filter((p) => p.change !== "same")
                    .map((c) => `${c.resource.name}: ${c.change} (${c.diffs})`),
                [],
            );
            await assertReplacesNothingShared(
                `generated #${i}`,
                clone(g.config),
                CHANGES[i % CHANGES.length] as Change,
            );
            const rm = removals(g.config);
            if (rm.length > 0)
                await assertReplacesNothingShared(
                    `generated #${i}`,
                    clone(g.config),
                    rm[Math.floor(mulberry32(20261204 + i)() * rm.length)] as Change,
                );
        });
    }
});

describe("provider semantics: resource options the engine acts on", () => {
    const byName = (r: Run, name: string) => r.resources.find((x) => x.custom && x.name === name) as Registered;

    it("every network is replaced delete-first (dockerd refuses a second network of the same name and subnet)", async () => {
        const r = await baseRun(clone(EXAMPLE));
        const nets = r.resources.filter((x) => x.type === "docker:index/network:Network");
        assert.equal(nets.length, 3);
        for (const n of nets) assert.equal(n.options.deleteBeforeReplace, true, n.name);
    });

    it("a new docker.subnet replaces the networks delete-first, and the containers on them before them", async () => {
        const a = await baseRun(clone(EXAMPLE));
        const cfg = clone(EXAMPLE);
        cfg["homelab:docker"] = { ...cfg["homelab:docker"], subnet: "172.31.0.0/24" };
        const b = await run(cfg);
        const steps = planUp(a, b);
        const of = (name: string) => steps.find((s) => s.resource.name === name) as Step;
        for (const n of ["docker-network", "docker-public-network", "docker-edge-network"])
            assert.deepEqual([of(n).change, of(n).deleteFirst], ["replace", true], n);
        for (const c of ["docker-jellyfin", "docker-blog", "edge-haproxy", "docker-caddy"])
            assert.equal(of(c).change, "replace", `${c} is replaced with its network`);
        // Deleted before its network: it depends on it.
        assert.ok(dependsOn(b, byName(b, "docker-jellyfin"), byName(b, "docker-network")));
    });

    it("destroy: cloudflared stops gracefully, then the tunnel's connections are cleaned up, then the tunnel goes", async () => {
        const r = await baseRun(clone(EXAMPLE));
        const cloudflared = byName(r, "docker-cloudflared");
        const cleanup = byName(r, "tunnel-connections-cleanup");
        const tunnel = r.resources.find(
            (x) => x.type === "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared",
        ) as Registered;
        assert.ok(dependsOn(r, cloudflared, cleanup), "cloudflared is deleted before the cleanup runs");
        assert.ok(dependsOn(r, cleanup, tunnel), "the cleanup runs before the tunnel is deleted");
        assert.ok(
            cloudflared.inputs.destroyGraceSeconds >= 40,
            "cloudflared gets its 30 s grace period and a margin before it is killed",
        );
        assert.match(cleanup.inputs.delete, /cfd_tunnel\/\$TUNNEL_ID\/connections/);
        assert.deepEqual(cleanup.options.additionalSecretOutputs, ["environment"]);
        for (const c of r.resources.filter((x) => x.type === "docker:index/container:Container"))
            assert.ok(c.inputs.destroyGraceSeconds >= 10, `${c.inputs.name} is stopped, not killed`);
    });

    it("a route behind Access waits for its application: the tunnel's ingress and the CNAME depend on it", async () => {
        const r = await baseRun(clone(EXAMPLE));
        const apps = r.resources.filter(
            (x) => x.type === "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication",
        );
        assert.ok(apps.length > 0);
        const config = r.resources.find(
            (x) => x.type === "cloudflare:index/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig",
        ) as Registered;
        for (const app of apps) {
            assert.ok(dependsOn(r, config, app), `the ingress waits for ${app.name}`);
            const host = app.inputs.domain as string;
            const cname = r.resources.find(
                (x) => x.type === "cloudflare:index/dnsRecord:DnsRecord" && x.inputs.name === host,
            ) as Registered;
            assert.ok(cname && dependsOn(r, cname, app), `${host}'s CNAME waits for ${app.name}`);
        }
    });

    it("a gated service's new hostname is a new Access application, made before its routes move and the old one goes", async () => {
        const r = await baseRun(clone(EXAMPLE));
        for (const app of r.resources.filter(
            (x) => x.type === "cloudflare:index/zeroTrustAccessApplication:ZeroTrustAccessApplication",
        )) {
            assert.deepEqual(app.options.replaceOnChanges, ["domain"], app.name);
            assert.equal(
                app.options.deleteBeforeReplace,
                false,
                "create-first: the old name keeps its application until the routes have moved",
            );
        }
    });

    it("the native edge is replaced delete-first (its old REMOVE would otherwise run after the new APPLY)", async () => {
        const r = await baseRun(clone(EXAMPLE));
        assert.equal(byName(r, "edge-native").options.deleteBeforeReplace, true);
    });

    it("no resource keeps a secret in its id (pulumi-random's RandomBytes does)", async () => {
        for (const [, make, stack] of STACKS) {
            const r = await baseRun(make(), stack);
            const leaky = custom(r).filter(
                (x) => (semanticsOf(x.type) as { idCarriesSecret?: string } | undefined)?.idCarriesSecret,
            );
            assert.deepEqual(
                leaky.map((x) => x.name),
                [],
            );
        }
    });
});

describe("provider semantics: healthchecks", () => {
    it("an image's own start interval, read back where the program sets none, is at most a state-only update, never a replacement", async () => {
        const r = await baseRun(clone(EXAMPLE));
        const redis = r.resources.find((x) => x.custom && x.name === "docker-immich-redis") as Registered;
        assert.ok(redis.inputs.healthcheck, "a service with a healthcheck");
        const [state] = readBacks(redis.type, redis.inputs);
        const p = plan(redis.type, withImageHealthcheckTimings(state as Record<string, unknown>), redis.inputs, {
            replaceOnChanges: redis.options.replaceOnChanges,
        });
        assert.deepEqual(
            p.diffs.map((d) => `${d.input} ${d.onChange}`),
            ["healthcheck update"],
        );
    });

    it("a changed interval the user wrote replaces the service's container (the provider would never apply it)", async () => {
        const a = await baseRun(clone(EXAMPLE));
        const cfg = clone(EXAMPLE);
        (cfg["homelab:services"] as Record<string, any>)["immich-redis"].healthcheck.interval = "1m";
        const b = await run(cfg);
        const step = planUp(a, b).find((x) => x.resource.name === "docker-immich-redis") as Step;
        assert.equal(step.change, "replace", step.diffs);
        const other = planUp(a, b).filter((x) => x.change === "replace" && x.resource.name !== "docker-immich-redis");
        assert.deepEqual(
            other.map((x) => x.resource.name),
            [],
        );
        assert.equal(
            b.resources.find((x) => x.name === "docker-immich-redis")?.inputs.healthcheck.interval,
            "1m0s",
            "written as Docker reports it",
        );
    });
});

describe("provider semantics: monitoring", () => {
    const isMonitoring = (n: string) =>
        n.startsWith("monitoring") ||
        n.startsWith("dashboard") ||
        n.startsWith("client-ca-_monitor-") ||
        ["docker-status", "docker-image-status", "docker-dashboard", "docker-image-dashboard"].includes(n);
    for (const [label, make] of [
        ["the example (Docker Desktop: the relay)", () => trimmed()],
        ["the example on Linux (the edge container)", () => exampleLinux()],
    ] as [string, () => Cfg][])
        it(`${label}: turning monitoring and the dashboard on replaces nothing (the edge keeps its container)`, async () => {
            await assertReplacesNothingShared(label, make(), {
                name: "add homelab:monitoring and homelab:dashboard",
                apply: (c) => {
                    c["homelab:monitoring"] = {};
                    c["homelab:dashboard"] = { name: "start" };
                },
                owns: isMonitoring,
            });
        });
    it("with monitoring on, a service added or a user removed replaces neither the status container nor the edge", async () => {
        for (const change of [
            {
                name: "add a service",
                apply: (c: Cfg) => (svc(c)["books"] = { image: "lscr.io/linuxserver/calibre-web:0.6.24", port: 8083 }),
            },
            { name: "remove the user", apply: (c: Cfg) => (c["homelab:users"] = []), owns: ofUser("grandma.lee") },
        ])
            await assertReplacesNothingShared("lake", stackFile("lake"), change, "lake");
    });
});

describe("provider semantics: renaming the status page", () => {
    it("replaces its container delete-first: its fixed address on the edge network is never asked for twice", async () => {
        const a = await baseRun(stackFile("lake"), "lake");
        const cfg = stackFile("lake");
        cfg["homelab:monitoring"].name = "health";
        const b = await run(cfg, "lake");
        const step = planUp(a, b).find((x) => x.resource.name === "docker-monitoring-status") as Step;
        assert.ok(step, "the same resource");
        assert.equal(step.change, "replace", step.diffs);
        assert.equal(step.deleteFirst, true);
        assert.ok(!b.resources.some((r) => r.name === "docker-health"), "no second container resource beside it");
    });
});

describe("provider semantics: more than one machine", () => {
    const twoHosts = () => stackFile("twohosts");
    const label = "two hosts";
    it("a service added on the further host replaces nothing on either host", async () => {
        await assertReplacesNothingShared(label, twoHosts(), {
            name: "add a private service on the NAS",
            apply: (c) =>
                (svc(c)["books"] = { image: "lscr.io/linuxserver/calibre-web:0.6.24", port: 8083, host: "nas" }),
        });
    });
    it("a public service moved to the further host keeps its record (the same URN): never deleted or replaced", async () => {
        const a = await baseRun(twoHosts());
        const cfg = twoHosts();
        svc(cfg)["notes"].host = "nas";
        const b = await run(cfg);
        const step = planUp(a, b).find((x) => x.resource.name === "tunnel-notes-cname") as Step;
        assert.ok(step, "the record is still registered under its name");
        // Its content becomes the other tunnel's name (the mocks' ids may make it equal): never a replacement.
        assert.ok(step.change === "update" || step.change === "same", `${step.change}: ${step.diffs}`);
        assert.ok(!deletedBy(a, b).some((r) => r.name === "tunnel-notes-cname"));
    });
    it("the further host's last private service removed: its gateway and the hosts CA go, the edge host keeps everything", async () => {
        const a = await baseRun(twoHosts());
        const cfg = twoHosts();
        for (const s of ["jellyfin", "photos", "photos-db"]) delete svc(cfg)[s];
        const b = await run(cfg);
        const gone = deletedBy(a, b).map((r) => r.name);
        assert.ok(gone.includes("gateway-nas-container"));
        assert.ok(gone.some((n) => n.startsWith("hosts-tls-")));
        const onEdge = planUp(a, b).filter(
            (p) =>
                p.change === "replace" &&
                !p.resource.name.startsWith("host-nas-") &&
                !p.resource.name.startsWith("gateway-nas"),
        );
        assert.deepEqual(
            onEdge.map((p) => `${p.resource.name}: ${p.diffs}`),
            [],
        );
        assert.ok(!gone.some((n) => n.startsWith("docker-") || n === "edge-haproxy"), gone.join(", "));
    });
});
