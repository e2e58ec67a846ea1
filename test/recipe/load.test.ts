import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import {
  formatProblemLines,
  loadRecipe,
  parseRecipe,
  resolveRecipeFile,
} from '../../src/recipe/load.js';
import { projectRoot } from '../helpers/tools.js';
import { tempDir } from '../helpers/tmp.js';
import { writeFiles } from '../helpers/git.js';

const openQa = readFileSync(path.join(projectRoot, 'recipes/open-qa.yaml'), 'utf8');

/** The messages a person sees for a recipe text and --set list. */
function messages(text: string, sets: string[] = []): string[] {
  return parseRecipe(text, 'r.yaml', sets).problems.flatMap(formatProblemLines);
}

const minimal = `name: demo-app
service:
  repo: https://example.org/app.git
  runtime: static
`;

describe('parseRecipe', () => {
  test('fills defaults in a minimal recipe', () => {
    const { recipe, problems } = parseRecipe(minimal, 'r.yaml');
    assert.deepEqual(problems, []);
    assert.equal(recipe?.service.ref, 'main');
    assert.equal(recipe?.serve.port, 80);
    assert.equal(recipe?.serve.health, '/');
    assert.deepEqual(recipe?.service.install, []);
    assert.equal(recipe?.agent.node, 'distro');
  });

  test('names file, line, column, key, what was expected and what came', () => {
    const text = openQa
      .replace('runtime: process', 'runtime: proces')
      .replace('jitter: 10m', 'jitter: ten minutes');
    assert.deepEqual(messages(text), [
      'r.yaml:12:12: service.runtime: expected one of static | site | node | process, got "proces"',
      '  hint: did you mean "process"?',
      'r.yaml:57:11: data.jitter: expected a duration such as 90s, 10m, 1h30m, 30d, got "ten minutes"',
    ]);
  });

  test('unknown keys are errors with a did-you-mean', () => {
    assert.deepEqual(
      messages(minimal.replace('  runtime: static', '  runtime: static\n  rfe: v2')),
      [
        'r.yaml:5:3: service.rfe: unknown key; did you mean "ref"?',
        '  hint: allowed here: repo, ref, runtime, root, install, start, module, env, auth, submodules, submodule_urls, lfs',
      ],
    );
    assert.deepEqual(messages(minimal + 'serv:\n  port: 8080\n'), [
      'r.yaml:5:1: serv: unknown key; did you mean "serve"?',
      '  hint: allowed here: name, description, service, data, publish, serve, ttl, agent, launch, installer',
    ]);
  });

  test('missing required keys and wrong types', () => {
    assert.deepEqual(
      messages('name: demo-app\nservice:\n  runtime: static\nserve:\n  port: "80"\n'),
      [
        'r.yaml:3:3: service.repo: is required (expected a string)',
        'r.yaml:5:9: serve.port: expected a number, got "80"',
      ],
    );
  });

  test('inside a form of a union, the problem of that form; an unquoted number gets a hint', () => {
    const source = (sha: string) =>
      `${minimal}agent:\n  source:\n    url: https://example.org/a.cjs\n    sha256: ${sha}\n`;
    assert.deepEqual(messages(source('12345')), [
      'r.yaml:8:13: agent.source.sha256: expected a string, got 12345',
      '  hint: quote it: YAML reads an unquoted value like this as a number or a boolean',
    ]);
    assert.deepEqual(messages(source('abc')), [
      'r.yaml:8:13: agent.source.sha256: expected 64 lower-case hex digits, got "abc"',
    ]);
    assert.deepEqual(messages(`${minimal}agent:\n  source: 7\n`), [
      'r.yaml:6:11: agent.source: does not match any allowed form, got 7',
    ]);
  });

  test('YAML syntax errors carry their position', () => {
    assert.deepEqual(messages('name: a\nname: b\n'), [
      'r.yaml:2:1: YAML syntax: Map keys must be unique; "name" is also on line 1',
      '  hint: keep one of them',
    ]);
    assert.deepEqual(messages('- just\n- a list\n'), [
      'r.yaml:1:1: expected a mapping of recipe keys (name:, service:, ...)',
    ]);
  });

  test('cross-field rules point at the offending key', () => {
    const text = minimal.replace('runtime: static', 'runtime: process');
    assert.deepEqual(messages(text), [
      'r.yaml:3:3: service.start: runtime "process" needs a start command',
      '  hint: e.g. start: [php, -S, "127.0.0.1:{port}"]',
    ]);
    const twoActions = `${minimal}  install:\n    - name: x\n      run: [make]\n      shell: make\n`;
    assert.deepEqual(messages(twoActions), [
      'r.yaml:6:7: service.install.0: install step "x" has run and shell; expected exactly one of packages, run, shell, patch',
      '  hint: split it into separate entries, one action each',
    ]);
  });

  test('a schedule must be a cron expression', () => {
    const text = `${minimal}data:\n  repo: https://example.org/d.git\n  mount: d\n  schedule: nightly\n`;
    assert.deepEqual(messages(text), [
      'r.yaml:8:13: data.schedule: expected a cron expression (minute hour day-of-month month day-of-week), got "nightly"',
      '  hint: e.g. "1 0 * * *" for 00:01 every night',
    ]);
  });

  test('a data mount cannot be a dotfile or climb out', () => {
    const text = (mount: string) =>
      `${minimal}data:\n  repo: https://example.org/d.git\n  mount: ${mount}\n`;
    assert.match(
      messages(text('.git'))[0]!,
      /data\.mount: must not be empty or contain a segment starting with "\."/,
    );
    assert.match(messages(text('../etc'))[0]!, /data\.mount: must not contain "\.\." segments/);
    assert.match(messages(text('/var/www'))[0]!, /data\.mount: expected a relative path/);
  });
});

describe('--set', () => {
  test('overrides keys, typed by the schema', () => {
    const { recipe, problems } = parseRecipe(openQa, 'r.yaml', [
      'serve.port=8080',
      'service.ref=1234',
      'data.repo=git://127.0.0.1:9418/data.git',
      'serve.listing=true',
      "service.start=[php, -S, '127.0.0.1:{port}']",
      'ttl=2h',
    ]);
    assert.deepEqual(problems, []);
    assert.equal(recipe?.serve.port, 8080);
    assert.equal(
      recipe?.service.ref,
      '1234',
      'a string key stays a string even when it looks like a number',
    );
    assert.equal(recipe?.data?.repo, 'git://127.0.0.1:9418/data.git');
    assert.equal(recipe?.serve.listing, true);
    assert.deepEqual(recipe?.service.start, ['php', '-S', '127.0.0.1:{port}']);
    assert.equal(recipe?.ttl, '2h');
  });

  test('values that do not fit are reported against the --set argument', () => {
    assert.deepEqual(messages(openQa, ['serve.port=eighty']), [
      '--set serve.port=eighty: serve.port: expected a number, got "eighty"',
    ]);
    assert.deepEqual(messages(openQa, ['data.rpo=x']), [
      '--set data.rpo=x: data.rpo: unknown key',
      '  hint: did you mean data.repo?',
    ]);
    assert.deepEqual(messages(openQa, ['port']), [
      '--set port: expected KEY.PATH=VALUE, e.g. data.ref=v2',
    ]);
  });

  test('can create a section the file does not have', () => {
    const { recipe } = parseRecipe(minimal, 'r.yaml', [
      'data.repo=/srv/data.git',
      'data.mount=content',
    ]);
    assert.equal(recipe?.data?.mount, 'content');
    assert.equal(recipe?.data?.depth, 1);
  });
});

describe('credentials', () => {
  test('are refused wherever they appear, with how to do it instead', () => {
    const lines = messages(openQa, ['data.repo=https://bob:hunter2@github.com/x/y.git']);
    assert.deepEqual(lines, [
      '--set data.repo=https://***@github.com/x/y.git: data.repo: carries a credential (a user name or token in the URL); user-data and recipes are readable by anyone on the instance',
      '  hint: keep the credential on the instance: set auth.token_file or auth.ssh_key_file to a file there, or auth.ssm_parameter to an SSM SecureString name',
    ]);
    const token = 'ghp_' + 'a1B2'.repeat(9);
    const text = openQa
      .replace('  env: {}', '')
      .replace('  start:', `  env:\n    TOKEN: ${token}\n  start:`);
    assert.match(
      messages(text).join('\n'),
      /service\.env\.TOKEN: carries a credential \(a GitHub token\)/,
    );
  });

  test('ssh user names are not credentials', () => {
    assert.deepEqual(messages(openQa, ['data.repo=ssh://git@github.com/x/y.git']), []);
    assert.deepEqual(messages(openQa, ['data.repo=git@github.com:x/y.git']), []);
  });
});

describe('resolveRecipeFile', () => {
  test('finds NAME in the search folders and suggests close names', (t) => {
    const dir = tempDir(t);
    writeFiles(dir, { 'a/open-qa.yaml': 'x', 'b/other.yml': 'y' });
    const searchDirs = [path.join(dir, 'a'), path.join(dir, 'b')];
    assert.equal(resolveRecipeFile('other', { searchDirs }), path.join(dir, 'b/other.yml'));
    assert.throws(
      () => resolveRecipeFile('open-q', { searchDirs }),
      (e: Error & { hint?: string }) => {
        assert.equal(e.message, `no recipe named "open-q" in ${searchDirs.join(', ')}`);
        assert.equal(e.hint, 'did you mean "open-qa"?');
        return true;
      },
    );
  });

  test('takes a path relative to the working directory', (t) => {
    const dir = tempDir(t);
    writeFiles(dir, { 'r.yaml': minimal });
    const { recipe, display } = loadRecipe('./r.yaml', [], { cwd: dir });
    assert.equal(recipe.name, 'demo-app');
    assert.equal(display, 'r.yaml');
  });
});
