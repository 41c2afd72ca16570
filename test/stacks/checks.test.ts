// The named checks and grammar predicates, called directly (the whole-program table in
// test/stacks/validate.test.ts shows the same rules reach the user with their keys).
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import {
    checkDnsToken,
    checkListenAddresses,
    checkNameLengths,
    checkResolvers,
    checkSubnet,
    checkTrustedNetworks,
    checkUsers,
    checkWanAddress,
} from "../../stacks/checks";
import {
    acmeUrlProblem,
    caddyTokenProblem,
    dockerHostProblem,
    durationProblem,
    emailProblem,
    hostPathProblem,
    parseDuration,
    parseUtcTime,
} from "../../stacks/grammar";
import {
    capabilityProblem,
    checkDependencies,
    checkPublishConflicts,
    forwardAuthProblems,
    labelProblem,
    parseDevice,
    parsePublish,
    parseTmpfs,
    parseUpstream,
    publishProblem,
    sizeToMb,
    upstreamProblem,
    upstreamTlsProblems,
    userProblem,
} from "../../stacks/services";
import { ManagedService, Service } from "../../stacks/model";
import { validate } from "../../stacks/validate";
import { serviceNetworks } from "../../plan/docker";
import { EXAMPLE, EXAMPLE_SECRET_NAMES, ROOT, clone } from "../harness";
import { rawConfigOf } from "../../stacks/stackFile";

const CA = fs.readFileSync(path.join(ROOT, "test/fixtures/appliance-ca.pem"), "utf8");
const managed = (name: string, extra: Partial<ManagedService> = {}): Service =>
    ({
        name,
        label: name,
        apex: false,
        expose: ["private"],
        hostnames: {},
        upstream: `${name}:80`,
        upstreamScheme: "http",
        kind: "managed",
        image: "x:1",
        port: 80,
        env: {},
        secretEnv: {},
        volumes: [],
        publish: [],
        dependsOn: [],
        devices: [],
        capAdd: [],
        tmpfs: {},
        labels: {},
        restart: "unless-stopped",
        ...extra,
    }) as ManagedService;

describe("grammar", () => {
    it("Go durations: units, fractions, Caddy's days, and int64 overflow", () => {
        assert.equal(parseDuration("1.5m"), 90_000_000_000n);
        assert.equal(parseDuration("1h30m"), 5_400_000_000_000n);
        assert.equal(parseDuration("1d"), undefined);
        assert.equal(parseDuration("1d", { days: true }), 86_400_000_000_000n);
        assert.equal(parseDuration("2562048h"), undefined, "past int64 nanoseconds");
        assert.equal(parseDuration("5 m"), undefined);
        assert.match(durationProblem("2h", "10s", "1h") ?? "", /between 10s and 1h/);
    });
    it("Caddyfile tokens: no placeholders, comments, spaces or quotes", () => {
        for (const bad of ["{env.X}", "a{$X}", "a b", "#x", 'a"b', "a\\b", "a<<EOF"])
            assert.ok(caddyTokenProblem(bad), bad);
        for (const good of ["admin+x@example.dev", "https://acme.example/dir", "*.home.example.dev", "[fd00::1]:80"])
            assert.equal(caddyTokenProblem(good), undefined, good);
    });
    it("host paths, engine URLs, e-mail, ACME URLs and UTC times", () => {
        assert.equal(hostPathProblem("/Users/me/My Selfhost"), undefined);
        for (const bad of ["rel", "/a:b", "/a/../b", "/a//b", "/a/'b", "/a/$HOME"])
            assert.ok(hostPathProblem(bad), bad);
        assert.equal(dockerHostProblem("ssh://me@mac-mini.local:2222"), undefined);
        for (const bad of ["tcp://1.2.3.4:2375", "ssh://me@host/x", "ssh://-oProxyCommand=x", "unix://rel"])
            assert.ok(dockerHostProblem(bad), bad);
        assert.equal(emailProblem("a.b+c@example.dev"), undefined);
        assert.ok(emailProblem("{env.X}@example.dev"));
        assert.equal(acmeUrlProblem("https://acme-staging-v02.api.letsencrypt.org/directory"), undefined);
        assert.ok(acmeUrlProblem("https://u:p@x.example/d"));
        assert.ok(parseUtcTime("2030-06-30T00:00:00Z"));
        assert.equal(parseUtcTime("2030-02-30T00:00:00Z"), undefined);
    });
});

describe("named checks", () => {
    it("checkSubnet: RFC 1918, /24 or larger, canonical, clear of the runtimes' networks", () => {
        assert.equal(checkSubnet("10.9.0.0/16").plan?.haproxy, "10.9.192.2");
        for (const bad of [
            "10.9.0.1/24",
            "172.30.0.0/25",
            "100.64.0.0/24",
            "8.8.8.0/24",
            "192.168.64.0/20",
            "172.17.0.0/16",
        ])
            assert.equal(checkSubnet(bad).problems.length, 1, bad);
    });
    it("checkTrustedNetworks: private, not the runtime's VM network, not Docker's pool, not the stack's block", () => {
        const plan = checkSubnet("172.30.0.0/24").plan;
        assert.deepEqual(checkTrustedNetworks(["192.168.1.0/24", "fd00:1::/64"], "linux", plan).trusted, [
            "192.168.1.0/24",
            "fd00:1::/64",
        ]);
        assert.equal(checkTrustedNetworks(["192.168.5.0/24"], "colima", plan).problems.length, 1);
        assert.equal(checkTrustedNetworks(["192.168.5.0/24"], "linux", plan).problems.length, 0);
        assert.equal(checkTrustedNetworks(["172.20.0.0/16"], "linux", plan).problems.length, 1);
    });
    it("checkListenAddresses: the host's own address on a trusted network, nothing that binds everywhere", () => {
        const r = checkListenAddresses(
            ["192.168.1.20", "0.0.0.0", "::", "203.0.113.7", "10.1.1.1", "192.168.1.20"],
            ["192.168.1.0/24"],
            ["100.101.102.103"],
        );
        assert.deepEqual(r.addresses, ["192.168.1.20"]);
        assert.deepEqual(
            r.problems.map((p) => p.key),
            [
                "docker.listenAddresses[1]",
                "docker.listenAddresses[2]",
                "docker.listenAddresses[3]",
                "docker.listenAddresses[4]",
                "docker.listenAddresses[5]",
            ],
        );
    });
    it("checkDnsToken, checkResolvers, checkWanAddress, checkUsers, checkNameLengths", () => {
        const now = new Date("2026-11-29T00:00:00Z");
        assert.equal(checkDnsToken([], "2026-11-28T00:00:00Z", now).problems.length, 1);
        assert.equal(checkDnsToken(["203.0.113.7"], "2026-12-01T00:00:00Z", now).problems.length, 0);
        assert.equal(checkResolvers(["1.1.1.1", "1.1.1.1"]).problems.length, 1);
        assert.equal(checkWanAddress("10.0.0.1", []).problems.length, 1);
        assert.equal(checkWanAddress("dynamic", []).publicIp, "dynamic");
        assert.match(
            checkWanAddress("dynamic", ["203.0.113.7"]).problems[0]?.message ?? "",
            /stop working the day the home's address changes/,
        );
        assert.equal(
            checkUsers([
                { name: "a", validityDays: 1 },
                { name: "a", validityDays: 1 },
            ]).length,
            1,
        );
        assert.equal(
            checkNameLengths("example.dev", "home", [
                ["services.x", `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(63)}.dev`],
            ]).length,
            1,
        );
    });
    it("upstreams: http and https, IPv6 in brackets, never the proxy's own loopback", () => {
        assert.deepEqual(parseUpstream("https://[fd00::10]:8006"), {
            scheme: "https",
            host: "[fd00::10]",
            port: 8006,
            hostPort: "[fd00::10]:8006",
        });
        assert.equal(parseUpstream("ftp://x:21"), undefined);
        assert.equal(parseUpstream("https://x:443/path"), undefined);
        assert.ok(upstreamProblem("localhost:2019"));
        assert.equal(upstreamProblem("host.docker.internal:1234"), undefined);
    });
    it("upstreams: loopback in a resolver's shorthand (127.1, hex, octal) is refused like 127.0.0.1", () => {
        for (const u of ["127.1:2019", "0x7f.0.0.1:2019", "0177.0.0.1:2019", "0x7f000001:2019", "http://127.1:2019"])
            assert.match(upstreamProblem(u) ?? "", /is an address in a shorthand form|is the proxy's own loopback/, u);
        // Host names with digits are still names; only a numeric last label is an address.
        for (const u of ["nas1.lan:5000", "pve-01.home.arpa:8006", "1password.example:443", "a.b.0c:80"])
            assert.equal(upstreamProblem(u), undefined, u);
    });
    it("upstreamTls: only for https, and it must say how to verify", () => {
        assert.equal(upstreamTlsProblems("s", "http", { insecureSkipVerify: true }).problems.length, 1);
        assert.equal(upstreamTlsProblems("s", "https", {}).problems.length, 1);
        assert.equal(upstreamTlsProblems("s", "https", { insecureSkipVerify: true, ca: CA }).problems.length, 1);
        assert.equal(upstreamTlsProblems("s", "https", { ca: "not a pem" }).problems.length, 1);
        assert.deepEqual(upstreamTlsProblems("s", "https", { serverName: "pve.lan", ca: CA }).tls, {
            insecureSkipVerify: false,
            serverName: "pve.lan",
            ca: CA,
        });
    });
    it("forwardAuth: on the private or mtls plane, a path, header names", () => {
        assert.equal(
            forwardAuthProblems(
                "s",
                { upstream: "auth:9091", uri: "/api/authz/forward-auth", copyHeaders: ["Remote-User"] },
                ["private"],
            ).problems.length,
            0,
        );
        assert.equal(
            forwardAuthProblems("s", { upstream: "auth:9091", uri: "/", copyHeaders: [] }, ["public"]).problems.length,
            1,
        );
        assert.equal(
            forwardAuthProblems("s", { upstream: "auth:9091", uri: "/{env.X}", copyHeaders: ["Bad Header"] }, [
                "private",
            ]).problems.length,
            2,
        );
    });
    it("publish: compose short syntax, the host's own addresses, never the edge's ports, never twice", () => {
        assert.deepEqual(parsePublish("[fd7a:115c:a1e0::1]:6881:6881/udp"), {
            hostIp: "fd7a:115c:a1e0::1",
            hostPort: 6881,
            containerPort: 6881,
            protocol: "udp",
        });
        assert.ok(publishProblem("443:443", [], "container"));
        assert.ok(publishProblem("9443:9443", [], "native"));
        assert.equal(publishProblem("9443:9443", [], "container"), undefined);
        assert.ok(publishProblem("203.0.113.7:1:1", ["100.101.102.103"], "container"));
        const a = managed("a", { publish: [{ hostPort: 6881, containerPort: 6881, protocol: "tcp" }] });
        const b = managed("b", {
            publish: [
                { hostIp: "100.1.1.1", hostPort: 6881, containerPort: 1, protocol: "tcp" },
                { hostPort: 6881, containerPort: 1, protocol: "udp" },
            ],
        });
        assert.deepEqual(
            checkPublishConflicts([a, b]).map((p) => p.key),
            ["services.b.publish[0]"],
        );
    });
    it("dependsOn: known managed services, no cycles (named in order)", () => {
        assert.deepEqual(
            checkDependencies([
                managed("a", { dependsOn: ["b"] }),
                managed("b", { dependsOn: ["c"] }),
                managed("c", { dependsOn: ["a"] }),
            ]).map((p) => p.message),
            ["forms a cycle: a → b → c → a"],
        );
        assert.match(checkDependencies([managed("a", { dependsOn: ["nope"] })])[0]?.message ?? "", /not a service/);
    });
    it("container settings: sizes, users, devices, capabilities, tmpfs, labels", () => {
        assert.equal(sizeToMb("1.5g"), 1536);
        assert.equal(sizeToMb("512k"), 1);
        assert.equal(sizeToMb("lots"), undefined);
        assert.equal(userProblem("1000:1000"), undefined);
        assert.ok(userProblem("root;id"));
        assert.deepEqual(parseDevice("/dev/dri"), {
            hostPath: "/dev/dri",
            containerPath: "/dev/dri",
            permissions: "rwm",
        });
        assert.equal(parseDevice("/etc/shadow"), undefined);
        assert.equal(capabilityProblem("cap_net_admin"), undefined);
        for (const c of ["ALL", "SYS_ADMIN", "FOO"]) assert.ok(capabilityProblem(c), c);
        assert.deepEqual(parseTmpfs("/run:size=64m,mode=1777"), ["/run", "size=64m,mode=1777"]);
        assert.equal(parseTmpfs("/run:size=64m;rm"), undefined);
        assert.ok(labelProblem("com.docker.compose.project", "x"));
        assert.equal(labelProblem("traefik.enable", "false"), undefined);
    });
    it("an internal service joins the networks of the services that depend on it, through other internal ones", () => {
        const cfg = clone(EXAMPLE);
        const svc = cfg["homelab:services"] as Record<string, any>;
        svc["queue"] = { image: "valkey/valkey:8.1.4", port: 6379, expose: [] };
        svc["ghost-db"] = { image: "mysql:8.4.6", port: 3306, expose: [], dependsOn: ["queue"] };
        svc["blog"].dependsOn = ["ghost-db"];
        const raw = rawConfigOf(cfg);
        const nets = serviceNetworks(validate(raw, EXAMPLE_SECRET_NAMES));
        assert.deepEqual(
            nets.get("ghost-db"),
            ["public"],
            "the public blog's database is with the blog, not with the private services",
        );
        assert.deepEqual(nets.get("queue"), ["public"]);
        assert.deepEqual(nets.get("immich-postgres"), ["private"]);
        assert.deepEqual(nets.get("blog"), ["public"]);
    });
});
