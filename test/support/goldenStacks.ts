// The whole-stack goldens: five unlike stacks (one of them on two machines), rendered to test/golden/<name>/ and checked by the
// real binaries. A module of its own, not a test file: a test file imported by another would
// register its tests in the importer's mocha worker and vanish from its own.
export const STACKS: Record<string, string> = {
    home: "Pulumi.home.yaml",
    cabin: "test/stacks/cabin.yaml",
    lake: "test/stacks/lake.yaml",
    workshop: "test/stacks/workshop.yaml",
    twohosts: "test/stacks/twohosts.yaml",
};
