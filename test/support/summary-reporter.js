const { writeSync } = require("node:fs");

/**
 * Ends the run with one plain line, "N passed, N failed, N skipped", that CI systems which do not
 * parse Jest's own summary can read. Jest adds its summary reporter after every configured one and
 * may print more once the run is complete (open handles, forced exit), so the line is written as the
 * process exits: then nothing Jest prints can come after it.
 */
class SummaryReporter {
  constructor() {
    this.line = null;
    process.once("exit", () => {
      if (this.line !== null) writeSync(1, `\n${this.line}\n`);
    });
  }

  onRunComplete(_contexts, results) {
    this.line = `${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests} skipped`;
  }
}

module.exports = SummaryReporter;
