/**
 * Ends the run with one plain line, "N passed, N failed, N skipped", that CI systems which do not
 * parse Jest's own summary can read.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    process.stdout.write(`\n${results.numPassedTests} passed, ${results.numFailedTests} failed, ${results.numPendingTests} skipped\n`);
  }
}

module.exports = SummaryReporter;
