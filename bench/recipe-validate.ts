// `npm run bench:validate`: how long validating a recipe takes, for large and hostile recipes up
// to the size limit (256 KiB). Every recipe under the limit must validate in under 2 s; validation is
// linear, so 20k keys take about 4 times as long as 5k. Times are medians of a few runs of
// parseRecipe (read, parse, check, validate, locate every problem), and the wall time of the built
// CLI (`bootstrap validate`, with Node's start) for the largest recipes.
//
//   BENCH_RUNS=5 npm run bench:validate
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseRecipe } from '../src/recipe/load.js';
import { MAX_RECIPE_BYTES } from '../src/recipe/limits.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const BUDGET_MS = 2000;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const head = `name: bench-app
service:
  repo: https://example.org/app.git
  runtime: static
`;

/** A recipe with `n` environment variables in one mapping (valid). */
const envKeys = (n: number) =>
  `${head}  env:\n${Array.from({ length: n }, (_, i) => `    K${i.toString(36)}: v\n`).join('')}`;
/** A recipe with `n` unknown top-level keys: n problems, each located and given a did-you-mean. */
const unknownKeys = (n: number) =>
  head + Array.from({ length: n }, (_, i) => `k${i.toString(36)}: v\n`).join('');
/** A recipe with `n` install steps, each with a bad timeout: n problems deep in a list. */
const badSteps = (n: number) =>
  `${head}  install:\n${Array.from({ length: n }, (_, i) => `    - {name: s${i}, run: [make], timeout: soon}\n`).join('')}`;
/** The largest recipe of a kind under the limit: the most items that still fit. */
function largest(make: (n: number) => string): { text: string; n: number } {
  let lo = 1;
  let hi = 1;
  while (Buffer.byteLength(make(hi)) <= MAX_RECIPE_BYTES) hi *= 2;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (Buffer.byteLength(make(mid)) <= MAX_RECIPE_BYTES) lo = mid;
    else hi = mid;
  }
  return { text: make(lo), n: lo };
}
const aliasBomb = () => {
  const levels = ['bomb:', '  l0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (let i = 1; i <= 9; i++)
    levels.push(`  l${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]`);
  return `${head}${levels.join('\n')}\n`;
};
const deepFlow = () => {
  const half = Math.floor((MAX_RECIPE_BYTES - head.length - 20) / 2);
  return `${head}launch:\n  subnet: ${'['.repeat(half)}${']'.repeat(half)}\n`;
};
const longString = () =>
  `${head}description: "${'x'.repeat(MAX_RECIPE_BYTES - head.length - 20)}"\n`;

function median(fn: () => unknown): number {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    fn();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

const big = {
  env: largest(envKeys),
  unknown: largest(unknownKeys),
  steps: largest(badSteps),
};
const cases: Array<{ name: string; text: string; cli?: boolean }> = [
  { name: '5k keys in one mapping', text: envKeys(5000) },
  { name: '10k keys in one mapping', text: envKeys(10_000) },
  { name: '20k keys in one mapping', text: envKeys(20_000) },
  { name: '5k unknown keys (5k problems)', text: unknownKeys(5000) },
  { name: '20k unknown keys (20k problems)', text: unknownKeys(20_000) },
  { name: `largest: ${big.env.n} keys in one mapping`, text: big.env.text, cli: true },
  { name: `largest: ${big.unknown.n} unknown keys`, text: big.unknown.text, cli: true },
  { name: `largest: ${big.steps.n} bad install steps`, text: big.steps.text, cli: true },
  { name: 'largest: one long string', text: longString(), cli: true },
  { name: 'largest: flow nesting (refused)', text: deepFlow(), cli: true },
  { name: 'alias bomb (refused)', text: aliasBomb(), cli: true },
  { name: 'over the limit (refused)', text: envKeys(big.env.n + 1000), cli: true },
];

const dir = mkdtempSync(path.join(os.tmpdir(), 'gitstrap-bench-'));
const bin = path.join(root, 'bin/bootstrap.js');
const rows: string[][] = [];
let worst = 0;
try {
  for (const c of cases) {
    const bytes = Buffer.byteLength(c.text);
    let problems = 0;
    const ms = median(() => {
      problems = parseRecipe(c.text, 'r.yaml').problems.length;
    });
    let cliMs = '';
    let cliTime = 0;
    if (c.cli) {
      const file = path.join(dir, 'r.yaml');
      writeFileSync(file, c.text);
      const start = performance.now();
      const run = spawnSync(process.execPath, [bin, 'validate', '-r', file], { encoding: 'utf8' });
      cliTime = performance.now() - start;
      cliMs = cliTime.toFixed(0);
      if (run.status !== 0 && run.status !== 1) {
        throw new Error(`bootstrap validate ended with ${run.status}: ${run.stderr.slice(0, 500)}`);
      }
    }
    if (bytes <= MAX_RECIPE_BYTES) worst = Math.max(worst, ms, cliTime);
    rows.push([c.name, bytes.toLocaleString('en-US'), String(problems), ms.toFixed(0), cliMs]);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const header = [
  'recipe',
  'bytes',
  'problems shown',
  'parseRecipe ms (median)',
  'CLI ms (wall, cold)',
];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) =>
  cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
console.log(line(header));
for (const row of rows) console.log(line(row));
const at = (name: string) => Number(rows.find((r) => r[0] === name)![3]);
console.log(
  `\n20k / 5k keys: ${(at('20k keys in one mapping') / at('5k keys in one mapping')).toFixed(1)}x (linear: 4x);` +
    ` 20k / 5k problems: ${(at('20k unknown keys (20k problems)') / at('5k unknown keys (5k problems)')).toFixed(1)}x`,
);
console.log(
  `slowest recipe under the limit (in process or through the CLI): ${worst.toFixed(0)} ms (budget ${BUDGET_MS} ms): ${worst < BUDGET_MS ? 'ok' : 'OVER BUDGET'}`,
);
if (worst >= BUDGET_MS) process.exitCode = 1;
