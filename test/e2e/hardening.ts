// @e2e: the hardening findings, on the lab's real HAProxy and Caddy (filled in below).
import { Lab } from "./lab";

export function hardeningTests(_lab: () => Lab): void {
    describe("hardening", () => {
        it("placeholder", () => undefined);
    });
}
