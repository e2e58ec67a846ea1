// scripts/test.mjs leaves no test out silently: it refuses to run (naming the files) when a file
// holds tests under another name than *.test.ts and no test file imports it, and when a path given
// holds no tests. The real script on real folders; --list shows what it would run.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';
import { writeFiles } from './git.js';
import { tempDir } from './tmp.js';
import { projectRoot } from './tools.js';

const PASSING = `import assert from 'node:assert/strict';
import { test } from 'node:test';
test('passes', () => assert.equal(1, 1));
`;
const FAILING = PASSING.replace('assert.equal(1, 1)', 'assert.equal(1, 2)');
const SHARED = `import { test } from 'node:test';
export function sharedCases(): void {
  test('a shared case', () => {});
}
`;
const HELPER = `import type { TestContext } from 'node:test';
export const helper = (t: TestContext) => /x/.test('x') && t.name;
`;

/** Runs scripts/test.mjs with `args` from the project root. */
function runner(args: string[]) {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT; // else the child's test runner defers to this one and runs nothing
  const result = spawnSync(process.execPath, ['scripts/test.mjs', ...args], {
    cwd: projectRoot,
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('scripts/test.mjs', () => {
  test('refuses a file that holds tests under another name, naming it', (t) => {
    const dir = tempDir(t);
    writeFiles(dir, {
      'a.test.ts': `import { sharedCases } from './shared.js';\n${PASSING}sharedCases();\n`,
      'shared.ts': SHARED,
      'helper.ts': HELPER,
      'sub/forgotten.ts': PASSING,
      'sub/also-forgotten.spec.ts': PASSING,
      'fixtures/sample.ts': PASSING,
    });
    const run = runner([dir]);
    assert.equal(run.code, 1, run.stdout);
    assert.match(run.stderr, /^error: not running the tests:/);
    assert.match(run.stderr, /sub\/forgotten\.ts: holds tests but is not named \*\.test\.ts/);
    assert.match(run.stderr, /sub\/also-forgotten\.spec\.ts: holds tests/);
    assert.doesNotMatch(
      run.stderr,
      /shared\.ts|helper\.ts|fixtures/,
      'imported cases, helpers and fixtures are fine',
    );
    assert.equal(run.stdout, '', 'nothing ran');
  });

  test('refuses paths that hold no tests', (t) => {
    const dir = tempDir(t);
    writeFiles(dir, {
      'empty/README.md': 'nothing here\n',
      'helper.ts': HELPER,
      'named.test.ts': '// a test file whose tests were all deleted\nexport {};\n',
      'misnamed.ts': PASSING,
      'boot.vm.ts': PASSING,
    });
    const at = (name: string) => path.join(dir, name);
    const cases: Array<[string, RegExp]> = [
      [at('empty'), /empty: no \*\.test\.ts files with tests under it/],
      [at('helper.ts'), /helper\.ts: has no tests/],
      [at('named.test.ts'), /named\.test\.ts: has no tests/],
      [at('misnamed.ts'), /misnamed\.ts: holds tests but is not named \*\.test\.ts/],
      [at('boot.vm.ts'), /boot\.vm\.ts: is not a \.test\.ts file \(run it with --vm\)/],
      [at('nowhere'), /nowhere: no such file or folder/],
    ];
    for (const [given, message] of cases) {
      const run = runner([given]);
      assert.equal(run.code, 1, `${given}: ${run.stdout}`);
      assert.match(run.stderr, message);
      assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
    }
    // One bad path among good ones still stops the run.
    writeFiles(dir, { 'good/ok.test.ts': PASSING });
    const mixed = runner([at('good'), at('empty')]);
    assert.equal(mixed.code, 1);
    assert.match(mixed.stderr, /empty: no \*\.test\.ts files/);
  });

  test('runs the test files it finds, and fails when they fail', (t) => {
    const dir = tempDir(t);
    writeFiles(dir, { 'ok.test.ts': PASSING, 'nested/bad.test.ts': FAILING });
    const listed = runner(['--list', dir]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(listed.stdout.trim().split('\n'), [
      path.join(dir, 'nested/bad.test.ts'),
      path.join(dir, 'ok.test.ts'),
    ]);
    assert.equal(runner([path.join(dir, 'ok.test.ts')]).code, 0);
    const failing = runner([dir]);
    assert.equal(failing.code, 1);
    assert.match(failing.stdout, /not ok \d+ - passes|✖ passes|fail 1/);
  });

  test("the project's own test/ folder passes the check", () => {
    const listed = runner(['--list']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(listed.stdout.split('\n').includes('test/helpers/test-runner.test.ts'));
    assert.ok(!listed.stdout.includes('.vm.ts'), 'the VM tier is left out');
  });
});
