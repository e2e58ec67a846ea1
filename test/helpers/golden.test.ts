// Golden files cannot be waved through in CI: UPDATE_GOLDEN=1 with CI set fails the comparison
// and leaves the golden file as it was, and .ci/run sets CI for every command it runs. Real
// processes: a test file run by scripts/test.mjs, and .ci/run with stand-in npm on PATH.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { tempDir } from './tmp.js';
import { projectRoot } from './tools.js';

/** A test file comparing "new" with a golden file holding "old"; returns both paths. */
function goldenCase(t: TestContext): { testFile: string; golden: string } {
  const dir = tempDir(t);
  const goldenDir = path.join(dir, 'golden');
  mkdirSync(goldenDir);
  const golden = path.join(goldenDir, 'answer.txt');
  writeFileSync(golden, 'old\n');
  const testFile = path.join(dir, 'compare.test.ts');
  const helper = path.join(projectRoot, 'test/helpers/golden.ts');
  writeFileSync(
    testFile,
    `import { test } from 'node:test';
import { assertGoldenText } from ${JSON.stringify(helper)};
test('compares', () => assertGoldenText(${JSON.stringify(goldenDir)}, 'answer.txt', 'new\\n'));
`,
  );
  return { testFile, golden };
}

/** Runs one test file through scripts/test.mjs with `env` on top of a CI-free environment. */
function runTests(file: string, env: Record<string, string>) {
  const base = { ...process.env };
  delete base.CI;
  delete base.UPDATE_GOLDEN;
  delete base.NODE_TEST_CONTEXT; // else the child's test runner defers to this one and runs nothing
  const result = spawnSync(process.execPath, ['scripts/test.mjs', file], {
    cwd: projectRoot,
    env: { ...base, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('UPDATE_GOLDEN', () => {
  test('compares by default: a changed value fails', (t) => {
    const { testFile, golden } = goldenCase(t);
    const run = runTests(testFile, {});
    assert.equal(run.code, 1, run.output);
    assert.match(run.output, /answer\.txt changed: review the diff/);
    assert.equal(readFileSync(golden, 'utf8'), 'old\n');
  });

  test('rewrites the golden file on a developer machine', (t) => {
    const { testFile, golden } = goldenCase(t);
    const run = runTests(testFile, { UPDATE_GOLDEN: '1' });
    assert.equal(run.code, 0, run.output);
    assert.equal(readFileSync(golden, 'utf8'), 'new\n');
  });

  for (const ci of ['true', '1', 'github-actions']) {
    test(`is refused in CI (CI=${ci}), and the golden file is left as it was`, (t) => {
      const { testFile, golden } = goldenCase(t);
      const run = runTests(testFile, { UPDATE_GOLDEN: '1', CI: ci });
      assert.equal(run.code, 1, run.output);
      assert.match(run.output, /UPDATE_GOLDEN=1 is refused in CI/);
      assert.equal(readFileSync(golden, 'utf8'), 'old\n');
    });
  }
});

test('.ci/run runs every command with CI=true', (t) => {
  const dir = tempDir(t);
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  const log = path.join(dir, 'npm.log');
  // A stand-in npm that records how it was called and with which CI.
  writeFileSync(path.join(bin, 'npm'), `#!/bin/sh\necho "$* CI=\${CI-unset}" >> "${log}"\n`);
  chmodSync(path.join(bin, 'npm'), 0o755);
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` };
  delete env.CI;
  const result = spawnSync('bash', [path.join(projectRoot, '.ci/run')], { env, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual(readFileSync(log, 'utf8').trim().split('\n'), [
    'ci --no-audit --no-fund CI=true',
    'run setup:test CI=true',
    'test CI=true',
  ]);
});
