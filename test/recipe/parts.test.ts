// The recipe modules split out of schema.ts and load.ts, each alone: a schema section parses its own
// part with its defaults, schema.ts re-exports the very same objects, a schema issue is described in
// words, a recipe is found by name, and a problem prints as file:line:col.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { describeIssue } from '../../src/recipe/describe-issue.js';
import { defaultSearchDirs, resolveRecipeFile } from '../../src/recipe/find-recipe.js';
import { formatProblemLines, RecipeError } from '../../src/recipe/problems.js';
import * as schema from '../../src/recipe/schema.js';
import * as blocks from '../../src/recipe/schema/blocks.js';
import * as dataSection from '../../src/recipe/schema/data.js';
import * as instance from '../../src/recipe/schema/instance.js';
import * as repoAccess from '../../src/recipe/schema/repo-access.js';
import * as serviceSection from '../../src/recipe/schema/service.js';
import { tempDir } from '../helpers/tmp.js';

describe('schema sections', () => {
  test('schema.ts re-exports every section object as it is', () => {
    for (const section of [blocks, repoAccess, serviceSection, dataSection, instance]) {
      for (const [name, value] of Object.entries(section)) {
        assert.equal((schema as Record<string, unknown>)[name], value, name);
      }
    }
  });

  test('each section parses its own part, with its defaults', () => {
    assert.deepEqual(serviceSection.service.parse({ repo: '/srv/s', runtime: 'static' }), {
      repo: '/srv/s',
      ref: 'main',
      runtime: 'static',
      root: '.',
      install: [],
    });
    const data = dataSection.data.parse({ repo: '/srv/d', mount: 'd' });
    assert.deepEqual([data.ref, data.keep, data.failure_budget], ['main', 3, 3]);
    assert.deepEqual(instance.serve.parse(undefined).port, 80);
    assert.equal(repoAccess.repoAuth.safeParse({ token_file: 'relative' }).success, false);
    assert.equal(blocks.recipeName.safeParse('Bad Name').success, false);
    assert.equal(blocks.CONTROL.test('a\u0007b'), true);
  });
});

describe('describe-issue', () => {
  const place = () => ({ line: 3, col: 5 });
  test('says what was expected and what came, with a hint for a near miss', () => {
    const result = schema.service.safeParse(
      { repo: '/srv/s', runtime: 'statc' },
      { reportInput: true },
    );
    assert.equal(result.success, false);
    const problems = result.error!.issues.flatMap((issue) =>
      describeIssue({ ...issue, path: ['service', ...issue.path] }, 'r.yaml', place),
    );
    assert.deepEqual(problems, [
      {
        file: 'r.yaml',
        path: ['service', 'runtime'],
        message: 'expected one of static | site | node | process, got "statc"',
        hint: 'did you mean "static"?',
        line: 3,
        col: 5,
      },
    ]);
    assert.deepEqual(formatProblemLines(problems[0]!), [
      'r.yaml:3:5: service.runtime: expected one of static | site | node | process, got "statc"',
      '  hint: did you mean "static"?',
    ]);
    assert.equal(
      new RecipeError('r.yaml', problems).message,
      'r.yaml is not a valid recipe (1 problem):',
    );
  });
});

describe('find-recipe', () => {
  test('finds NAME.yml in the search folders, else names the close one', (t) => {
    const dir = tempDir(t);
    mkdirSync(path.join(dir, 'recipes'));
    writeFileSync(path.join(dir, 'recipes', 'open-qa.yml'), '');
    assert.equal(
      resolveRecipeFile('open-qa', { cwd: dir }),
      path.join(dir, 'recipes', 'open-qa.yml'),
    );
    assert.equal(defaultSearchDirs(dir)[0], path.join(dir, 'recipes'));
    assert.throws(
      () => resolveRecipeFile('open-q', { cwd: dir, searchDirs: [path.join(dir, 'recipes')] }),
      {
        message: `no recipe named "open-q" in ${path.join(dir, 'recipes')}`,
        hint: 'did you mean "open-qa"?',
      },
    );
  });
});
