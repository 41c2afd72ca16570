// The stack's address plan: for every block size the validator allows, the fixed addresses
// (HAProxy, whose PROXY headers Caddy believes, and Caddy) lie outside Docker's automatic range,
// so no other container can ever be given them.
import { strict as assert } from "assert";
import { MAX_SUBNET_PREFIX, addressPlan } from "../../stacks/addressPlan";
import { contains, parseCidr } from "../../stacks/net";

describe("address plan", () => {
    it("matches the documented split for the default 172.30.0.0/24", () => {
        assert.deepEqual(addressPlan("172.30.0.0/24"), {
            block: "172.30.0.0/24",
            private: "172.30.0.0/25",
            public: "172.30.0.128/26",
            edge: "172.30.0.192/26",
            edgeDynamic: "172.30.0.224/27",
            edgeGateway: "172.30.0.193",
            haproxy: "172.30.0.194",
            caddy: "172.30.0.195",
            monitor: "172.30.0.196",
            privateGateway: "172.30.0.1",
            publicGateway: "172.30.0.129",
            edgeV6: "fd68:6c62:ac1e:c0::/64",
            edgeV6Dynamic: "fd68:6c62:ac1e:c0::1:0/112",
            edgeV6Gateway: "fd68:6c62:ac1e:c0::1",
            haproxyV6: "fd68:6c62:ac1e:c0::2",
        });
    });

    for (let prefix = 8; prefix <= MAX_SUBNET_PREFIX; prefix++) {
        it(`/${prefix}: fixed addresses inside the edge network, outside Docker's automatic range, not its gateway`, () => {
            const block = prefix <= 8 ? "10.0.0.0/8" : prefix <= 12 ? "172.16.0.0/12" : `10.${prefix}.0.0/${prefix}`;
            const p = addressPlan(block);
            for (const fixed of [p.haproxy, p.caddy, p.monitor]) {
                assert.ok(contains(p.edge, `${fixed}/32`), `${fixed} in ${p.edge}`);
                assert.ok(!contains(p.edgeDynamic, `${fixed}/32`), `${fixed} outside ${p.edgeDynamic}`);
                assert.notEqual(fixed, p.edgeGateway);
            }
            assert.ok(contains(p.edge, p.edgeDynamic));
            // IPv6 (the Linux edge with ip6tables): HAProxy's fixed address outside the automatic range too.
            assert.ok(
                contains(p.edgeV6, `${p.haproxyV6}/128`) &&
                    !contains(p.edgeV6Dynamic, `${p.haproxyV6}/128`) &&
                    contains(p.edgeV6, p.edgeV6Dynamic),
            );
            assert.notEqual(p.haproxyV6, p.edgeV6Gateway);
            const nets = [p.private, p.public, p.edge].map((n) => parseCidr(n));
            for (const n of nets) assert.ok(n && contains(p.block, n), "every network inside the block");
            assert.ok(
                !contains(p.private, p.public) && !contains(p.public, p.edge) && !contains(p.private, p.edge),
                "networks do not overlap",
            );
        });
    }

    it("refuses blocks smaller than the plan needs", () => {
        assert.throws(() => addressPlan("172.30.0.0/25"));
    });
});
