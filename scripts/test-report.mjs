// What the suite (scripts/run-tests.mjs) repeats after the runner's TAP output, which is long:
// the failing tests with the first lines of their errors, and the skipped tests and suites
// grouped by reason (each reason says how to enable what it skipped), then the runner's closing
// summary again, so that it stays the last thing printed.

const SUMMARY = /^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) /;
const ERROR_LINES = 12;
/** Titles listed per skip reason; the rest are counted. */
const TITLES_PER_REASON = 5;

/** Reads the runner's output line by line; `recap()` gives the lines to print after it. */
export function createTestReport() {
  const failures = [];
  const skips = new Map(); // reason -> titles
  const summary = [];
  let failure = null; // the failing test whose YAML block is being read
  return {
    line(line) {
      if (SUMMARY.test(line)) summary.push(line);
      else if (summary.length > 0 && line.trim() !== '') summary.length = 0; // a nested runner's summary, not the last
      const skipped = /^\s*ok \d+ - (.*?) # SKIP\b ?(.*)$/.exec(line);
      if (skipped) {
        const reason = skipped[2].trim() || '(no reason given)';
        if (!skips.has(reason)) skips.set(reason, []);
        skips.get(reason).push(skipped[1]);
      }
      if (/^\s*not ok \d+ - /.test(line)) {
        failure = { title: line.trim(), detail: [] };
        failures.push(failure);
      } else if (failure) {
        if (/^\s*\.\.\.\s*$/.test(line) || /^\s*(ok|not ok) \d+/.test(line)) failure = null;
        else if (failure.detail.length < ERROR_LINES && !/^\s*(---|duration_ms:|type:)/.test(line)) failure.detail.push(line.trim());
      }
    },
    recap() {
      const out = [];
      if (failures.length > 0) {
        out.push('# Failing tests, as reported above:');
        for (const { title, detail } of failures) out.push(`#   ${title}`, ...detail.map((d) => `#       ${d}`));
      }
      if (skips.size > 0) {
        // Suites are listed too; the runner's own count ("# skipped") is of tests alone.
        out.push('# Skipped tests and suites, by reason:');
        for (const [reason, titles] of skips) {
          out.push(`#   ${titles.length} × ${reason}`);
          for (const t of titles.slice(0, TITLES_PER_REASON)) out.push(`#       ${t}`);
          if (titles.length > TITLES_PER_REASON) out.push(`#       and ${titles.length - TITLES_PER_REASON} more`);
        }
      }
      return out.length > 0 ? [...out, ...summary] : [];
    },
  };
}
