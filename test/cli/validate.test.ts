import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { writeFiles } from '../helpers/git.js';
import { tempDir } from '../helpers/tmp.js';

describe('bootstrap validate (the built bin)', () => {
  test('accepts a shipped recipe by name', async () => {
    const r = await runCli(['validate', '--recipe', 'open-qa']);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, 'recipes/open-qa.yaml: ok (open-qa, runtime process)\n');
    assert.equal(r.code, 0);
  });

  test('rejects a malformed recipe with every problem, exit 1, no stack trace', async (t) => {
    const dir = tempDir(t);
    writeFiles(dir, {
      'bad.yaml':
        'name: Bad Name\nservice:\n  repo: https://example.org/x.git\n  runtime: lambda\n  bogus: 1\n',
    });
    const r = await runCli(['validate', '-r', 'bad.yaml'], { cwd: dir });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      [
        'error: bad.yaml is not a valid recipe (3 problems):',
        '  bad.yaml:1:7: name: expected 2-40 lower-case letters, digits or dashes, starting with a letter, got "Bad Name"',
        '  bad.yaml:4:12: service.runtime: expected one of static | site | node | process, got "lambda"',
        '  bad.yaml:5:3: service.bogus: unknown key',
        '    hint: allowed here: repo, ref, runtime, root, install, start, module, env, auth, submodules, submodule_urls, lfs',
        '',
      ].join('\n'),
    );
  });

  test('--json prints the resolved recipe, or the problems', async () => {
    const ok = await runCli(['validate', '-r', 'open-qa', '--set', 'serve.port=8080', '--json']);
    assert.equal(ok.code, 0);
    assert.equal(JSON.parse(ok.stdout).serve.port, 8080);
    const bad = await runCli(['validate', '-r', 'open-qa', '--set', 'serve.port=x', '--json']);
    assert.equal(bad.code, 1);
    assert.deepEqual(JSON.parse(bad.stdout).problems[0].path, ['serve', 'port']);
  });

  test('usage errors exit 2 with a did-you-mean', async () => {
    const unknownCommand = await runCli(['valdate']);
    assert.equal(unknownCommand.code, 2);
    assert.equal(
      unknownCommand.stderr,
      'error: unknown command "valdate"\n  hint: did you mean "bootstrap validate"?\n',
    );
    const unknownOption = await runCli(['validate', '--recpe', 'open-qa']);
    assert.equal(unknownOption.code, 2);
    assert.equal(
      unknownOption.stderr,
      'error: unknown option --recpe\n  hint: did you mean --recipe?\n',
    );
    const missing = await runCli(['validate']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^error: missing --recipe NAME\|PATH\n/);
  });

  test('an unknown recipe name lists what exists', async () => {
    const r = await runCli(['validate', '-r', 'open-qq']);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^error: no recipe named "open-qq" in .*\n {2}hint: did you mean "open-qa"\?\n$/,
    );
  });

  test('--help lists the commands', async () => {
    const r = await runCli(['--help']);
    assert.equal(r.code, 0);
    for (const name of [
      'run',
      'sync',
      'validate',
      'userdata',
      'launch',
      'ls',
      'down',
      'reap',
      'nc-hook',
    ]) {
      assert.match(r.stdout, new RegExp(`^  ${name} `, 'm'));
    }
  });
});
