// npm run bench's command line: a subset of the data plane (--paths, --workers) and where a report
// goes. Only the parsing; nothing here starts a process or opens a port.
import { strict as assert } from "assert";
import * as path from "path";
import { BenchArgsError, parseBenchArgs, reportFile } from "../scripts/bench";

/** The message parseBenchArgs refuses argv with (fails if it accepts it). */
function refusal(argv: string[]): string {
    try {
        parseBenchArgs(argv);
    } catch (e) {
        assert.ok(e instanceof BenchArgsError, `not a BenchArgsError: ${(e as Error).stack}`);
        return e.message;
    }
    assert.fail(`accepted ${JSON.stringify(argv)}`);
}

describe("npm run bench: arguments", () => {
    it("takes no arguments as the full run and keeps the flags it had", () => {
        assert.deepEqual(parseBenchArgs([]), { smoke: false, sharedNetwork: false });
        assert.deepEqual(parseBenchArgs(["--smoke", "--out", "x.md", "--shared-network"]), {
            smoke: true,
            sharedNetwork: true,
            out: "x.md",
        });
        assert.deepEqual(parseBenchArgs(["--from-json", "/tmp/run.json", "--out", "y.md"]), {
            smoke: false,
            sharedNetwork: false,
            fromJson: "/tmp/run.json",
            out: "y.md",
        });
    });

    it("takes a subset of paths and worker counts, in the table's order, with --flag value or --flag=value", () => {
        assert.deepEqual(parseBenchArgs(["--paths", "a,b,c,f", "--workers", "1,8"]), {
            smoke: false,
            sharedNetwork: false,
            paths: ["a", "b", "c", "f"],
            workers: [1, 8],
        });
        const r = parseBenchArgs(["--workers=32,1", "--paths=f, a", "--shared-network"]);
        assert.deepEqual(r.paths, ["a", "f"]);
        assert.deepEqual(r.workers, [1, 32]);
        assert.equal(r.sharedNetwork, true);
        // Either alone: the other is the full run's.
        assert.deepEqual(parseBenchArgs(["--paths", "c"]).workers, undefined);
        assert.deepEqual(parseBenchArgs(["--workers", "8"]).paths, undefined);
    });

    it("refuses unknown paths, naming the flag and the paths", () => {
        for (const bad of ["i", "A", "(a)", "a,x"])
            assert.match(
                refusal(["--paths", bad]),
                /^--paths: unknown path ".+"; the paths are a, b, c, d, e, f, g, h$/,
            );
    });

    it("refuses worker counts that are not numbers or not the full run's, naming the valid ones", () => {
        for (const bad of ["0", "-1", "1.5", "eight", "08", "1e1"])
            assert.match(
                refusal(["--workers", bad]),
                /^--workers: ".+" is not a worker count \(a whole number\); the full run's worker counts are 1, 8, 32$/,
            );
        for (const bad of ["4", "1,16", "64"])
            assert.match(
                refusal(["--workers", bad]),
                /^--workers: \d+ is not one of the full run's worker counts.*; the full run's worker counts are 1, 8, 32$/,
            );
    });

    it("refuses empty lists, empty items and duplicates", () => {
        assert.match(refusal(["--paths", ""]), /^--paths: the list is empty; give .*a, b, c, d, e, f, g, h$/);
        assert.match(refusal(["--paths="]), /^--paths: the list is empty/);
        assert.match(refusal(["--workers", ","]), /^--workers: empty item in ","; give .*1, 8, 32/);
        assert.match(refusal(["--paths", "a,,c"]), /^--paths: empty item in "a,,c"/);
        assert.match(refusal(["--paths", "a,c,a"]), /^--paths: a is listed twice/);
        assert.match(refusal(["--workers", "8,1,8"]), /^--workers: 8 is listed twice/);
    });

    it("refuses a flag without its value, a flag given twice, and a value after a switch", () => {
        assert.match(refusal(["--paths"]), /^--paths needs a value: a comma-separated list of paths, of a, b, c/);
        assert.match(refusal(["--workers", "--paths", "a"]), /^--workers needs a value: .*1, 8, 32/);
        assert.match(refusal(["--out"]), /^--out needs a value/);
        assert.match(refusal(["--from-json"]), /^--from-json needs a value/);
        assert.match(refusal(["--paths", "a", "--paths", "c"]), /^--paths is given twice$/);
        assert.match(refusal(["--smoke", "--smoke"]), /^--smoke is given twice$/);
        assert.match(refusal(["--smoke=yes"]), /^--smoke takes no value$/);
    });

    it("refuses unknown flags and stray arguments, naming the flags there are", () => {
        for (const bad of ["--path", "--worker", "--full", "-p", "--paths-a"])
            assert.match(
                refusal([bad]),
                /^unknown flag .+; the flags are --smoke, --shared-network, --paths, --workers, --out, --from-json$/,
            );
        assert.match(refusal(["--paths", "a", "c"]), /^unexpected argument "c"/);
    });

    it("refuses --smoke with a subset: one is CI's short run of everything, the other a part of the full run", () => {
        for (const argv of [
            ["--smoke", "--paths", "a"],
            ["--workers", "1", "--smoke"],
        ])
            assert.match(
                refusal(argv),
                /^--smoke cannot be combined with --paths or --workers: .*use one or the other$/,
            );
    });

    it("refuses --from-json with anything but --out: the saved run says what it ran", () => {
        for (const flag of [["--smoke"], ["--paths", "a"], ["--workers", "1"], ["--shared-network"]])
            assert.match(
                refusal(["--from-json", "run.json", ...flag]),
                new RegExp(`^--from-json .*takes only --out, not ${flag[0]}`),
            );
    });
});

describe("npm run bench: where the report goes", () => {
    const dirs = { root: "/repo", tmp: "/tmp", cwd: "/repo/sub" };
    it("writes docs/benchmarks.md only for a full run; smoke and subset runs go to a temporary file", () => {
        assert.equal(reportFile("full", undefined, dirs), "/repo/docs/benchmarks.md");
        assert.equal(reportFile("smoke", undefined, dirs), "/tmp/homelab-benchmarks-smoke.md");
        assert.equal(reportFile("subset", undefined, dirs), "/tmp/homelab-benchmarks-subset.md");
    });

    it("takes --out relative to the working directory, but never docs/benchmarks.md for a smoke or subset run", () => {
        assert.equal(reportFile("subset", "a.md", dirs), path.resolve("/repo/sub", "a.md"));
        assert.equal(reportFile("full", "/elsewhere/b.md", dirs), "/elsewhere/b.md");
        assert.equal(reportFile("full", "../docs/benchmarks.md", dirs), "/repo/docs/benchmarks.md");
        for (const plan of ["smoke", "subset"] as const)
            assert.throws(
                () => reportFile(plan, "../docs/benchmarks.md", dirs),
                (e: Error) =>
                    e instanceof BenchArgsError &&
                    /^--out: docs\/benchmarks\.md comes only from a full run/.test(e.message),
            );
    });
});
