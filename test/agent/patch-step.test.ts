// Patch install steps against real git checkouts: applied once, skipped when already there, an
// edited patch swapped in, and a patch that no longer applies reported by step, file and hunk.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import {
  describePatchFailure,
  explainPatchFailure,
  patchArgv,
} from '../../src/agent/patch-plan.js';
import { runInstallSteps, type RunStepsOptions } from '../../src/agent/run-steps.js';
import type { GitstrapError } from '../../src/lib/errors.js';
import { memoryLogger } from '../../src/lib/log.js';
import type { InstallStep, Recipe } from '../../src/recipe/schema.js';
import { loadRecipe } from '../../src/recipe/load.js';
import { parseUnifiedDiff, type DiffFile } from '../../src/recipe/unified-diff.js';
import { git, makeRepo } from '../helpers/git.js';
import { tempDir } from '../helpers/tmp.js';
import { requireTool } from '../helpers/tools.js';
import { OPEN_QA_RECIPE, openQaServiceFiles } from './open-qa-fixture.js';

const LIB = [
  '<?php',
  'function a(){ return 1; }',
  'function b($x, $y, $x){',
  '  return $x;',
  '}',
  '',
].join('\n');

/** A zero-context patch of line 3 (as the open-qa recipe writes its fix). */
const FIX = `--- a/lib.php
+++ b/lib.php
@@ -3 +3 @@
-function b($x, $y, $x){
+function b($unused_x, $y, $x){
`;
const FIX_V2 = FIX.replace('$unused_x', '$ignored_x');
const INDEX = `--- /dev/null
+++ b/index.php
@@ -0,0 +1,2 @@
+<?php
+require __DIR__ . '/lib.php';
`;

function setup(
  t: Parameters<typeof tempDir>[0],
  files: Record<string, string | Buffer> = { 'lib.php': LIB },
) {
  const dir = tempDir(t);
  const checkout = path.join(dir, 'service', 'c0ffee');
  const commit = makeRepo(checkout, files);
  const logger = memoryLogger();
  const options = (install: InstallStep[]): RunStepsOptions => ({
    service: {
      repo: '/r',
      ref: 'main',
      runtime: 'process',
      root: '.',
      install,
    } as Recipe['service'],
    commit,
    checkout,
    stepsDir: path.join(dir, 'steps'),
    placeholders: { port: 1, service: checkout, data: path.join(dir, 'data'), state: dir },
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    logger,
    packages: {
      kind: 'apt',
      isRoot: false,
      run: () => Promise.reject(new Error('no packages here')),
      logger: memoryLogger(),
      rootCommand: 'x',
    },
  });
  const file = (name: string) => readFileSync(path.join(checkout, name), 'utf8');
  const results = () =>
    logger.entries
      .filter((e) => e.event === 'step.patch')
      .map((e) => `${String(e.step)}: ${String(e.result)}`);
  return { dir, checkout, commit, options, file, results };
}

const patchStep = (name: string, patch: string): InstallStep => ({ name, patch, timeout: '1m' });

describe('patch steps', () => {
  test('apply a zero-context fix and a new file; a re-run without stamps finds them applied', async (t) => {
    const { dir, options, file, results } = setup(t);
    const steps = [patchStep('fix', FIX), patchStep('index', INDEX)];
    await runInstallSteps(options(steps));
    assert.match(file('lib.php'), /^function b\(\$unused_x, \$y, \$x\)\{$/m);
    assert.equal(file('index.php'), "<?php\nrequire __DIR__ . '/lib.php';\n");
    // Stamps lost (a crash between apply and stamp): git apply --reverse --check says it is there.
    for (const name of ['fix', 'index']) rmSync(path.join(dir, 'steps', `${name}.done`));
    await runInstallSteps(options(steps));
    assert.deepEqual(results(), [
      'fix: applied',
      'index: applied',
      'fix: already applied',
      'index: already applied',
    ]);
    assert.equal(file('lib.php').match(/unused_x/g)?.length, 1, 'applied once');
    assert.match(
      readFileSync(path.join(dir, 'steps', 'fix.log'), 'utf8'),
      /git apply --check --unidiff-zero -- /,
    );
  });

  test('a zero-context hunk still applies when upstream moved the line', async (t) => {
    const { options, file } = setup(t, {
      'lib.php': `<?php\n// a new first comment\n${LIB.slice(6)}`,
    });
    await runInstallSteps(options([patchStep('fix', FIX)]));
    assert.match(file('lib.php'), /function b\(\$unused_x/);
  });

  test('an edited patch replaces the earlier version the checkout carries', async (t) => {
    const { options, file, results } = setup(t);
    await runInstallSteps(options([patchStep('fix', FIX)]));
    await runInstallSteps(options([patchStep('fix', FIX_V2)]));
    assert.match(file('lib.php'), /^function b\(\$ignored_x, \$y, \$x\)\{$/m);
    assert.deepEqual(results(), ['fix: applied', 'fix: replaced an earlier version']);
  });

  test('a patch that no longer applies fails naming step, file and hunk, and leaves the checkout alone', async (t) => {
    const changed = LIB.replace('function b($x, $y, $x){', 'function b($first, $y, $x){');
    const { options, file, commit } = setup(t, { 'lib.php': changed });
    await assert.rejects(
      runInstallSteps(options([patchStep('fix', FIX)])),
      (error: GitstrapError) => {
        assert.equal(
          error.message,
          `install step "fix": the patch does not apply to the service at ${commit.slice(0, 12)}: lib.php, hunk 1 (@@ -3 +3 @@): the service checkout does not have the lines this hunk changes`,
        );
        assert.deepEqual(error.details.slice(0, 2), [
          'the hunk (line 3 of the patch) expects, from line 3 of lib.php:',
          '  function b($x, $y, $x){',
        ]);
        assert.ok(
          error.details.includes('  error: patch failed: lib.php:3'),
          error.details.join('\n'),
        );
        assert.match(error.hint ?? '', /^the service repo may have changed upstream/);
        assert.equal(error.exitCode, 3);
        return true;
      },
    );
    assert.equal(file('lib.php'), changed);
  });

  test('a new file the checkout already has (upstream added an index page)', async (t) => {
    const { options } = setup(t, { 'lib.php': LIB, 'index.php': '<?php echo 1;\n' });
    await assert.rejects(
      runInstallSteps(options([patchStep('index', INDEX)])),
      (error: GitstrapError) => {
        assert.match(
          error.message,
          /^install step "index": the patch does not apply to the service at [0-9a-f]{12}: index\.php: the patch creates it, but the service checkout already has it$/,
        );
        return true;
      },
    );
  });

  test('the checkout stays a clean git tree apart from the patched files', async (t) => {
    const { options, checkout } = setup(t);
    await runInstallSteps(options([patchStep('fix', FIX), patchStep('index', INDEX)]));
    assert.equal(git(checkout, 'diff', '--name-only'), 'lib.php');
    assert.equal(git(checkout, 'ls-files', '--others'), 'index.php');
    assert.equal(existsSync(path.join(checkout, 'lib.php.orig')), false);
  });
});

describe('patch plan', () => {
  const files = (text: string): DiffFile[] => {
    const parsed = parseUnifiedDiff(text);
    assert.ok(parsed.ok);
    return parsed.files;
  };

  test('git apply argv: --unidiff-zero only for a zero-context change of an existing file', () => {
    assert.deepEqual(patchArgv('check', '/s/fix.patch', files(FIX)), [
      'git',
      'apply',
      '--check',
      '--unidiff-zero',
      '--',
      '/s/fix.patch',
    ]);
    assert.deepEqual(patchArgv('check-reverse', '/s/i.patch', files(INDEX)), [
      'git',
      'apply',
      '--reverse',
      '--check',
      '--',
      '/s/i.patch',
    ]);
    assert.deepEqual(patchArgv('reverse', 'p', files(INDEX)), [
      'git',
      'apply',
      '--reverse',
      '--',
      'p',
    ]);
    assert.deepEqual(patchArgv('apply', 'p', files(INDEX)), ['git', 'apply', '--', 'p']);
  });

  test("reads git apply's errors; anything else is passed on as git said it", () => {
    const both = files(FIX + INDEX);
    assert.equal(
      explainPatchFailure(['error: lib.php: No such file or directory'], both).problem,
      'lib.php: the patch changes it, but the service checkout does not have it',
    );
    assert.equal(
      explainPatchFailure(['error: patch failed: lib.php:40'], both).problem,
      'lib.php near line 40: the service checkout does not have the lines this hunk changes',
    );
    assert.equal(
      explainPatchFailure(['error: corrupt patch at line 7'], both).problem,
      'corrupt patch at line 7',
    );
    const described = describePatchFailure('s', 'f'.repeat(40), { problem: 'x' }, []);
    assert.equal(
      described.message,
      `install step "s": the patch does not apply to the service at ${'f'.repeat(12)}: x`,
    );
    assert.deepEqual(described.details, []);
  });
});

describe('the open-qa stand-in', () => {
  test("its line 89 is upstream's; PHP refuses the file until the shipped recipe's patch steps ran", async (t) => {
    requireTool('php', 'php-cli');
    const service = openQaServiceFiles();
    assert.equal(
      service['open_qa-lib.php']!.toString('utf8').split('\n')[88],
      'function print_test_result_well($test_date, $test_time, $testname, $uid, $sequence, $os, $git_hash, $test_stage, $user, $test_date){',
    );
    assert.equal(service['index.php'], undefined, 'no index page');
    const { options, checkout } = setup(t, service);
    const lint = () =>
      spawnSync('php', ['-l', 'open_qa-lib.php'], { cwd: checkout, encoding: 'utf8' });
    assert.match(lint().stdout + lint().stderr, /Redefinition of parameter \$test_date/);
    const { recipe } = loadRecipe(OPEN_QA_RECIPE, []);
    const patches = recipe.service.install.filter((s) => s.patch !== undefined);
    assert.deepEqual(
      patches.map((s) => s.name),
      ['php7-duplicate-parameter', 'index-page'],
    );
    await runInstallSteps(options(patches));
    assert.equal(lint().status, 0, lint().stdout);
    assert.equal(spawnSync('php', ['-l', 'index.php'], { cwd: checkout }).status, 0);
  });
});
