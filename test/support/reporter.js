// Mocha's spec reporter plus one plain closing line, "<suite>: N passed, N failed, N skipped",
// so a log reader that does not know mocha still sees the totals.
"use strict";
const Mocha = require("mocha");

class SpecWithTotals extends Mocha.reporters.Spec {
    constructor(runner, options) {
        super(runner, options);
        const label = (options && options.reporterOptions && options.reporterOptions.label) || "tests";
        runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
            const s = runner.stats;
            process.stdout.write(`${label}: ${s.passes} passed, ${s.failures} failed, ${s.pending} skipped\n`);
        });
    }
}
module.exports = SpecWithTotals;
