// @e2e: the Mac edge shape (native edge → relay → Caddy), beyond the shared matrix.
import { Lab } from "./lab";

export function macEdgeTests(_lab: () => Lab): void {
    describe("the Mac edge", () => {
        it("placeholder", () => undefined);
    });
}
