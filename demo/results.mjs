// The demo's test results: each call makes the next nightly run and returns the whole results.json
// the dashboard renders (newest run first, per-suite figures, a summary of the latest run).

const SUITES = ['ec2-api', 's3-objects', 'iam-policies', 'console-ui', 'load-balancing'];
const KEEP_RUNS = 12;

/** A small deterministic random generator, so runs look varied but tests can predict nothing odd. */
export function seededRandom(seed) {
  let state = seed >>> 0 || 1;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function percent(passed, total) {
  return total === 0 ? '0%' : `${((100 * passed) / total).toFixed(1)}%`;
}

function formatDuration(seconds) {
  const m = Math.floor(seconds / 60);
  return `${m}m ${String(seconds % 60).padStart(2, '0')}s`;
}

/** results.json after one more run finished at `now`. */
export function nextResults(previous, now = new Date(), random = Math.random) {
  const id = (previous.latest?.id ?? 0) + 1;
  const suite = SUITES[id % SUITES.length];
  const failed = random() < 0.45 ? 0 : 1 + Math.floor(random() * 6);
  const skipped = Math.floor(random() * 12);
  const passed = 380 + Math.floor(random() * 45) - failed;
  const run = {
    id,
    name: `#${id}`,
    suite,
    started: now.toISOString().replace('T', ' ').slice(0, 19),
    duration: formatDuration(300 + Math.floor(random() * 900)),
    passed,
    failed,
    skipped,
    status: failed === 0 ? 'passed' : 'failed',
    pass_rate: percent(passed, passed + failed),
  };
  const suites = new Map((previous.suites ?? []).map((s) => [s.name, { ...s }]));
  const entry = suites.get(suite) ?? { name: suite, runs: 0, passed: 0, total: 0 };
  entry.runs += 1;
  entry.passed += passed;
  entry.total += passed + failed;
  entry.last_status = run.status;
  entry.pass_rate = percent(entry.passed, entry.total);
  suites.set(suite, entry);
  const runsTotal = (previous.runs_total ?? 0) + 1;
  return {
    project: previous.project ?? 'Open QA (gitstrap demo)',
    updated: run.started,
    latest: run,
    runs_total: runsTotal,
    runs_total_text: `${runsTotal} runs so far`,
    runs: [run, ...(previous.runs ?? [])].slice(0, KEEP_RUNS),
    suites: [...suites.values()].sort((a, b) => a.name.localeCompare(b.name)),
  };
}

/** Results of `count` nightly runs (00:01) up to last night, as a fresh demo starts with. */
export function initialResults(now = new Date(), count = 8, random = seededRandom(7)) {
  const lastNight = new Date(now);
  lastNight.setUTCHours(0, 1, 0, 0);
  if (lastNight > now) lastNight.setUTCDate(lastNight.getUTCDate() - 1);
  let results = { project: 'Open QA (gitstrap demo)' };
  for (let i = count - 1; i >= 0; i--) {
    results = nextResults(results, new Date(lastNight.getTime() - i * 86_400_000), random);
  }
  return results;
}
