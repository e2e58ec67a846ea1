// Runs the test files under the given folders (default: test/) with Node's test runner and tsx.
// `node scripts/test.mjs test/recipe test/cli` runs two folders; `--vm` runs only the VM tier
// (test/vm/*.vm.ts), which the default run leaves out; `--list` prints the files it would run.
//
// Test files are named *.test.ts (*.vm.ts for the VM tier); no test is left out silently. Before
// running anything it fails, naming the files, when a file under test/ registers tests (imports
// node:test and calls test/describe/it) under another name and no test file imports it (a module
// of shared cases is imported by the test files that run it), and when a path given holds no tests.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const vm = args.includes('--vm');
const roots = args.filter((a) => !a.startsWith('--'));
const suffix = vm ? '.vm.ts' : '.test.ts';
const TEST_NAMES = ['.test.ts', '.vm.ts'];
const SKIPPED = new Set(['node_modules', 'fixtures', 'golden']);
const SOURCE = /\.(?:[cm]?ts|[cm]?js)$/;

/** Every source file under `p` (a file or folder), fixtures and golden files aside. */
function sources(p) {
  if (statSync(p).isFile()) return [p];
  return readdirSync(p, { withFileTypes: true })
    .filter((e) => !SKIPPED.has(e.name))
    .flatMap((e) => {
      const full = path.join(p, e.name);
      if (e.isDirectory()) return sources(full);
      return SOURCE.test(e.name) ? [full] : [];
    })
    .sort();
}

const texts = new Map();
const textOf = (file) => {
  if (!texts.has(file)) texts.set(file, readFileSync(file, 'utf8'));
  return texts.get(file);
};

const NODE_TEST = /(?:\bimport\s+(?!type\b)[^;]*?\bfrom\s*|\brequire\s*\(\s*)['"]node:test['"]/;
const TEST_CALL = /(?<![.\w$])(?:test|describe|it|suite)(?:\.(?:only|skip|todo))?\s*\(/;

/** True when the file registers tests: imports node:test and calls test/describe/it. */
const registersTests = (file) => NODE_TEST.test(textOf(file)) && TEST_CALL.test(textOf(file));

const isTestName = (file) => TEST_NAMES.some((s) => file.endsWith(s));

/** The files that the test files under test/ and `roots` import (relative imports, resolved to .ts). */
function importedByTests(roots) {
  const imported = new Set();
  const tree = [...new Set(['test', ...roots].filter((r) => existsSync(r)).flatMap(sources))];
  for (const file of tree.filter(isTestName)) {
    for (const m of textOf(file).matchAll(/\bfrom\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const target = path.resolve(path.dirname(file), m[1]);
      imported.add(target);
      imported.add(target.replace(/\.([cm]?)js$/, '.$1ts'));
    }
  }
  return imported;
}

const problems = [];
const files = [];
const given = roots.length ? roots : [vm ? 'test/vm' : 'test'];
let imported;
for (const root of given) {
  if (!existsSync(root)) {
    problems.push(`${root}: no such file or folder`);
    continue;
  }
  if (statSync(root).isFile()) {
    if (root.endsWith(suffix) && registersTests(root)) files.push(root);
    else if (root.endsWith(suffix)) problems.push(`${root}: has no tests`);
    else if (isTestName(root))
      problems.push(
        `${root}: is not a ${suffix} file (${vm ? 'run it without --vm' : 'run it with --vm'})`,
      );
    else if (registersTests(root))
      problems.push(`${root}: holds tests but is not named *${suffix}`);
    else problems.push(`${root}: has no tests (test files are named *${suffix})`);
    continue;
  }
  const found = [];
  for (const file of sources(root)) {
    if (file.endsWith(suffix)) {
      if (registersTests(file)) found.push(file);
      else problems.push(`${file}: has no tests`);
    } else if (!isTestName(file) && registersTests(file)) {
      imported ??= importedByTests(given);
      if (!imported.has(path.resolve(file))) {
        problems.push(
          `${file}: holds tests but is not named *.test.ts (or *.vm.ts), so no run includes it`,
        );
      }
    }
  }
  if (found.length === 0) problems.push(`${root}: no *${suffix} files with tests under it`);
  files.push(...found);
}
if (problems.length) {
  console.error(`error: not running the tests:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  process.exit(1);
}

if (args.includes('--list')) {
  console.log(files.join('\n'));
  process.exit(0);
}
const concurrency = process.env.TEST_CONCURRENCY ?? (vm ? '1' : '2');
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
