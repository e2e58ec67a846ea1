// Runs the test files under the given folders (default: test/) with Node's test runner and tsx.
// `node scripts/test.mjs test/recipe test/cli` runs two folders; `--vm` runs only the VM tier
// (test/vm/*.vm.ts), which the default run leaves out.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const vm = args.includes('--vm');
const roots = args.filter((a) => !a.startsWith('--'));
const suffix = vm ? '.vm.ts' : '.test.ts';

function collect(p) {
  if (statSync(p).isFile()) return p.endsWith('.ts') ? [p] : [];
  return readdirSync(p, { withFileTypes: true })
    .filter((e) => e.name !== 'node_modules' && e.name !== 'fixtures' && e.name !== 'golden')
    .flatMap((e) => {
      const full = path.join(p, e.name);
      return e.isDirectory() ? collect(full) : e.name.endsWith(suffix) ? [full] : [];
    })
    .sort();
}

const files = (roots.length ? roots : [vm ? 'test/vm' : 'test']).flatMap(collect);
if (files.length === 0) {
  console.error(`no ${suffix} files under ${roots.join(', ') || 'test'}`);
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? (vm ? '1' : '2');
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
