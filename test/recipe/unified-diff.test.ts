// The unified-diff reader behind patch install steps, and the recipe rule that uses it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatProblemLines, parseRecipe } from '../../src/recipe/load.js';
import { needsUnidiffZero, parseUnifiedDiff } from '../../src/recipe/unified-diff.js';

const GIT_DIFF = `A fix carried by the recipe (text before the first file is skipped, as git apply does).
diff --git a/src/a.php b/src/a.php
index 1111111..2222222 100644
--- a/src/a.php
+++ b/src/a.php
@@ -10,4 +10,4 @@ function x()
 one

-two
+TWO
 three
@@ -40 +40 @@
-forty
+FORTY
\\ No newline at end of file
--- /dev/null
+++ b/index.php
@@ -0,0 +1 @@
+<?php require 'x.php';
`;

/** The first problem of a text, as "line N: message". */
function problem(text: string): string {
  const parsed = parseUnifiedDiff(text);
  return parsed.ok ? 'ok' : `line ${parsed.line}: ${parsed.message}`;
}

describe('parseUnifiedDiff', () => {
  test('files, hunks, what each hunk expects to find; an empty line is an empty context line', () => {
    const parsed = parseUnifiedDiff(GIT_DIFF);
    assert.ok(parsed.ok);
    assert.deepEqual(
      parsed.files.map((f) => ({
        path: f.path,
        created: f.created,
        line: f.line,
        hunks: f.hunks.map((h) => [
          h.header,
          h.line,
          h.oldStart,
          h.oldCount,
          h.hasContext,
          h.expects,
        ]),
      })),
      [
        {
          path: 'src/a.php',
          created: false,
          line: 4,
          hunks: [
            ['@@ -10,4 +10,4 @@', 6, 10, 4, true, ['one', '', 'two', 'three']],
            ['@@ -40 +40 @@', 12, 40, 1, false, ['forty']],
          ],
        },
        {
          path: 'index.php',
          created: true,
          line: 16,
          hunks: [['@@ -0,0 +1 @@', 18, 0, 0, false, []]],
        },
      ],
    );
    assert.equal(needsUnidiffZero(parsed.files), true);
    assert.equal(needsUnidiffZero(parsed.files.slice(1)), false, 'a new file needs no context');
  });

  test('says what is wrong, and on which line of the patch', () => {
    assert.equal(
      problem('just some text\n'),
      'line 1: expected a unified diff: "--- a/PATH", "+++ b/PATH", then "@@ -N,M +N,M @@" hunks',
    );
    assert.equal(
      problem('--- a/x\n@@ -1 +1 @@\n'),
      'line 2: expected "+++ b/PATH" after "--- a/x"',
    );
    assert.equal(
      problem('--- x\n+++ x\n@@ -1 +1 @@\n-a\n+b\n'),
      'line 1: expected "--- a/PATH" (as git diff writes it) or "--- /dev/null", got "--- x"',
    );
    assert.equal(
      problem('--- a/../etc/passwd\n+++ b/../etc/passwd\n'),
      'line 1: "../etc/passwd" is not a path inside the service checkout (no leading "/", ".." or .git)',
    );
    assert.equal(
      problem('--- a/x\n+++ b/x\n-a\n'),
      'line 3: expected a hunk header such as "@@ -12,7 +12,8 @@" for x, got "-a"',
    );
    assert.equal(
      problem('--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-a\n+b\n'),
      'line 6: the hunk "@@ -1,2 +1,2 @@" (line 3) announces 2 old and 2 new lines but has 1 and 1',
    );
    assert.equal(
      problem('--- a/x\n+++ b/x\n@@ -1 +1 @@\n*a\n'),
      'line 4: expected a hunk line starting with " ", "-" or "+", got "*a"',
    );
    assert.equal(
      problem('@@ -1 +1 @@\n'),
      'line 1: a hunk before any "--- a/PATH" and "+++ b/PATH" lines',
    );
    assert.equal(
      problem('diff --git a/x.png b/x.png\nindex 1..2 100644\nGIT binary patch\n'),
      'line 3: binary patches are not supported',
    );
  });
});

describe('recipe rule: patch steps', () => {
  const recipe = (step: string) => `name: demo-app
service:
  repo: https://example.org/app.git
  runtime: static
  install:
${step}`;
  const messages = (text: string) =>
    parseRecipe(text, 'r.yaml').problems.flatMap(formatProblemLines);

  test('a patch that is not a unified diff is reported at its key, with the line of the patch', () => {
    assert.deepEqual(
      messages(recipe('    - name: fix\n      patch: |\n        --- a/x\n        @@ -1 +1 @@\n')),
      [
        'r.yaml:7:14: service.install.0.patch: install step "fix": line 2 of the patch: expected "+++ b/PATH" after "--- a/x"',
        '  hint: paste the output of git diff, made in a clone of service.repo (the line after "patch: |" is line 1)',
      ],
    );
  });

  test('a patch step is one action, without env or cwd', () => {
    const diff =
      '      patch: |\n        --- a/x\n        +++ b/x\n        @@ -1 +1 @@\n        -a\n        +b\n';
    assert.deepEqual(messages(recipe(`    - name: fix\n${diff}`)), []);
    assert.deepEqual(messages(recipe(`    - name: fix\n      cwd: sub\n${diff}`)), [
      'r.yaml:6:7: service.install.0: install step "fix" applies a patch (its paths are from the checkout root); env and cwd apply only to run and shell steps',
    ]);
    assert.match(
      messages(recipe(`    - name: fix\n      run: [make]\n${diff}`))[0]!,
      /install step "fix" has run and patch; expected exactly one of packages, run, shell, patch$/,
    );
  });
});
