// Renames never replace what users already run: every resource the example stack registered in
// v0.1.0 (test/fixtures/example-urns-v0.1.0.json, recorded from that release's program under the
// same mocks) is either registered under the same URN today or declared as an alias by the resource
// that took its place. A URN that is neither would make `pulumi up` delete it and create a new one.
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { EXAMPLE, ROOT, Run, runProgram } from "../harness";

/**
 * Resources removed on purpose, each with why (docs/operations.md, upgrading). Nothing running
 * depends on them by name.
 */
const RETIRED = new Map([
    // Its resource id was the tunnel secret, unencrypted in the state; a RandomPassword took its place.
    [
        "urn:pulumi:home::homelab::homelab:cloudflare:Tunnel$random:index/randomBytes:RandomBytes::tunnel-secret",
        "tunnel-secret-password",
    ],
]);

describe("resource names are stable or aliased", () => {
    let run: Run;
    before(async () => {
        run = await runProgram(EXAMPLE);
        assert.equal(run.error, undefined, run.error?.message);
    });

    it("every v0.1.0 URN of the example stack is still registered or aliased", () => {
        const old: string[] = JSON.parse(
            fs.readFileSync(path.join(ROOT, "test/fixtures/example-urns-v0.1.0.json"), "utf8"),
        );
        const now = new Set(run.resources.map((r) => r.urn));
        const aliased = new Map(run.resources.flatMap((r) => r.aliases.map((a) => [a, r.urn] as const)));
        const lost = old.filter((u) => !now.has(u) && !aliased.has(u) && !RETIRED.has(u));
        assert.deepEqual(lost, [], "these would be deleted and created again");
    });

    it("child resources carry their component's name (two components of a kind cannot collide)", () => {
        for (const r of run.resources) {
            if (r.parents.length === 0 || r.type.startsWith("pulumi:providers:")) continue;
            const component = r.urn.split("$")[0]?.split("::").pop();
            const parentName = run.resources.find(
                (p) =>
                    !p.custom &&
                    r.parents[r.parents.length - 1] === p.type &&
                    r.urn.startsWith(p.urn.replace(/::[^:]+$/, "")),
            )?.name;
            if (!parentName) continue;
            assert.ok(
                r.name.startsWith(`${parentName}-`) || r.name === parentName,
                `${r.type} ${r.name} under ${component} ${parentName}`,
            );
        }
    });

    it("the aliases point at the old names, for the moved and renamed resources", () => {
        const byName = new Map(run.resources.map((r) => [r.name, r]));
        const has = (name: string, old: string) =>
            assert.ok(
                byName.get(name)?.aliases.includes(old),
                `${name} aliases ${old}: ${byName.get(name)?.aliases.join(", ")}`,
            );
        has(
            "docker-caddy",
            "urn:pulumi:home::homelab::homelab:docker:DockerHost$docker:index/container:Container::caddy",
        );
        has(
            "edge-haproxy",
            "urn:pulumi:home::homelab::homelab:docker:DockerHost$docker:index/container:Container::haproxy",
        );
        has(
            "private-dns-apex-a",
            "urn:pulumi:home::homelab::homelab:dns:PrivateDns$cloudflare:index/dnsRecord:DnsRecord::private-apex-a",
        );
        has(
            "tunnel-blog-cname",
            "urn:pulumi:home::homelab::homelab:cloudflare:Tunnel$cloudflare:index/dnsRecord:DnsRecord::public-blog-cname",
        );
        has(
            "docker-engine",
            "urn:pulumi:home::homelab::homelab:docker:DockerHost$pulumi:providers:docker::docker-engine",
        );
    });
});
