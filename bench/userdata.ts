// `npm run bench:userdata`: how long rendering user-data takes and how big it is, per recipe in
// recipes/ and per format. Times are medians (and 90th percentiles) of many warm renders, side by
// side with the baseline of serializing the recipe alone with the yaml library (the least any
// renderer must do); sizes are raw and gzipped bytes against EC2's 16,384-byte limit. Last, each
// shipped recipe's user-data as `bootstrap userdata --recipe NAME` writes it (cloud-config, no
// expiry) against issue 14's target: under 6 KB raw.
//
//   BENCH_ITERATIONS=300 npm run bench:userdata
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { loadRecipe } from '../src/recipe/load.js';
import type { Recipe } from '../src/recipe/schema.js';
import { EC2_USER_DATA_LIMIT, renderUserData } from '../src/userdata/index.js';
import type { UserDataFormat } from '../src/userdata/render.js';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 300);
const WARMUP = 30;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const recipesDir = path.join(root, 'recipes');
const options = { version: '0.1.0', expiresAt: new Date('2030-01-01T00:00:00Z') };

/** Median and 90th percentile of `fn`'s run time in milliseconds, after a warm-up. */
function time(fn: () => unknown): { median: number; p90: number } {
  for (let i = 0; i < WARMUP; i++) fn();
  const samples: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const start = performance.now();
    fn();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return {
    median: samples[Math.floor(samples.length / 2)]!,
    p90: samples[Math.floor(samples.length * 0.9)]!,
  };
}

const names = readdirSync(recipesDir)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.replace(/\.yaml$/, ''))
  .sort();
const recipes = new Map<string, Recipe>(
  names.map((name) => [name, loadRecipe(name, [], { cwd: root, searchDirs: [recipesDir] }).recipe]),
);

// The first render in a process reads and compiles the templates.
const coldStart = performance.now();
renderUserData(recipes.get(names[0]!)!, options);
const cold = performance.now() - coldStart;

const pct = (n: number) => `${((100 * n) / EC2_USER_DATA_LIMIT).toFixed(0)}%`;
const rows: string[][] = [];
for (const name of names) {
  const recipe = recipes.get(name)!;
  const baseline = time(() => stringify(recipe, { lineWidth: 0 }));
  for (const format of ['cloud-config', 'mime'] as UserDataFormat[]) {
    const rendered = renderUserData(recipe, { ...options, format });
    const t = time(() => renderUserData(recipe, { ...options, format }));
    rows.push([
      name,
      format,
      t.median.toFixed(3),
      t.p90.toFixed(3),
      baseline.median.toFixed(3),
      `${(t.median / baseline.median).toFixed(1)}x`,
      String(rendered.rawBytes),
      String(rendered.gzippedBytes),
      pct(rendered.rawBytes),
      pct(rendered.gzippedBytes),
      rendered.gzipped ? 'gzipped' : 'as is',
    ]);
  }
}

const header = [
  'recipe',
  'format',
  'render ms (median)',
  'p90',
  'baseline ms',
  'x baseline',
  'raw bytes',
  'gzipped',
  'raw/limit',
  'gz/limit',
  'sent',
];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) =>
  cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
console.log(
  `bootstrap userdata: ${ITERATIONS} warm renders per row (after ${WARMUP}); baseline = yaml stringify of the recipe alone; limit = EC2's ${EC2_USER_DATA_LIMIT} bytes`,
);
console.log(
  `first render in a process (reads and compiles the templates): ${cold.toFixed(1)} ms\n`,
);
console.log(line(header));
for (const row of rows) console.log(line(row));

const TARGET_BYTES = 6 * 1024;
console.log(
  `\nissue 14 target: bootstrap userdata --recipe NAME (cloud-config, no expiry) under ${TARGET_BYTES} bytes raw`,
);
for (const name of names) {
  const { rawBytes } = renderUserData(recipes.get(name)!, { version: options.version });
  const met = rawBytes < TARGET_BYTES ? 'met' : 'NOT met';
  console.log(
    `${name.padEnd(widths[0]!)}  ${String(rawBytes).padStart(5)} bytes  ${((100 * rawBytes) / TARGET_BYTES).toFixed(0)}% of the target  ${met}`,
  );
}
