// Credentials never come back out: a refused recipe's message, a type error quoting the value, the
// --set argument it came from and the --json problems all show *** where the credential was.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { writeFiles } from '../helpers/git.js';
import { tempDir } from '../helpers/tmp.js';

// Built from parts, so no scanner mistakes this file for a leak.
const TOKEN = 'ghp_' + 'k3Y9'.repeat(9);
const HEX40 = 'e83c5163316f89bfbde7d9ab23ca2e25604af290';

function assertNoToken(output: string, token = TOKEN): void {
  assert.ok(!output.includes(token), `the credential is echoed:\n${output}`);
  assert.ok(!output.includes(token.slice(4, 20)), `part of the credential is echoed:\n${output}`);
}

describe('bootstrap validate never echoes a credential', () => {
  test('a token in a --set URL: refused, and the argument is shown redacted', async () => {
    const r = await runCli([
      'validate',
      '--recipe',
      'open-qa',
      '--set',
      `data.repo=https://u:${TOKEN}@github.com/x.git`,
    ]);
    assert.equal(r.code, 1);
    assertNoToken(r.stderr + r.stdout);
    assert.equal(
      r.stderr,
      [
        'error: recipes/open-qa.yaml is not a valid recipe (1 problem):',
        '  --set data.repo=https://***@github.com/x.git: data.repo: carries a credential (a user name or token in the URL); user-data and recipes are readable by anyone on the instance',
        '    hint: keep the credential on the instance: set auth.token_file or auth.ssh_key_file to a file there, or auth.ssm_parameter to an SSM SecureString name',
        '',
      ].join('\n'),
    );
  });

  test('a type error on a token-shaped value says what came without the token', async (t) => {
    const dir = tempDir(t);
    writeFiles(dir, {
      'r.yaml': `name: demo-app\nservice:\n  repo: https://example.org/app.git\n  runtime: static\nserve:\n  port: ${TOKEN}\n`,
    });
    const file = await runCli(['validate', '-r', 'r.yaml'], { cwd: dir });
    assert.equal(file.code, 1);
    assertNoToken(file.stderr);
    assert.match(file.stderr, /r\.yaml:6:9: serve\.port: expected a number, got "ghp_\*\*\*"/);

    const set = await runCli(['validate', '-r', 'r.yaml', '--set', `serve.port=${TOKEN}`], {
      cwd: dir,
    });
    assert.equal(set.code, 1);
    assertNoToken(set.stderr);
    assert.match(set.stderr, /--set serve\.port=ghp_\*\*\*: serve\.port: expected a number/);

    const json = await runCli(['validate', '-r', 'r.yaml', '--json'], { cwd: dir });
    assert.equal(json.code, 1);
    assertNoToken(json.stdout);
    assert.match(JSON.parse(json.stdout).problems[0].message, /got "ghp_\*\*\*"/);
  });

  test('an unknown key that is itself a token is not echoed either', async (t) => {
    const dir = tempDir(t);
    writeFiles(dir, {
      'r.yaml': `name: demo-app\nservice:\n  repo: https://example.org/app.git\n  runtime: static\n${TOKEN}: 1\n`,
    });
    const r = await runCli(['validate', '-r', 'r.yaml', '--json'], { cwd: dir });
    assert.equal(r.code, 1);
    assertNoToken(r.stdout);
    const human = await runCli(['validate', '-r', 'r.yaml'], { cwd: dir });
    assertNoToken(human.stderr);
    assert.match(human.stderr, /r\.yaml:5:1: ghp_\*\*\*: unknown key/);
  });

  test('a token in the query string is refused, with how to do it instead', async () => {
    const r = await runCli([
      'validate',
      '--recipe',
      'open-qa',
      '--set',
      `data.repo=https://github.com/x/y.git?access_token=${HEX40}`,
    ]);
    assert.equal(r.code, 1);
    assertNoToken(r.stderr, HEX40);
    assert.equal(
      r.stderr,
      [
        'error: recipes/open-qa.yaml is not a valid recipe (1 problem):',
        '  --set data.repo=https://github.com/x/y.git?access_token=***: data.repo: carries a credential (a token in the query string); user-data and recipes are readable by anyone on the instance',
        '    hint: remove the token from the URL; keep the credential on the instance: set auth.token_file or auth.ssh_key_file to a file there, or auth.ssm_parameter to an SSM SecureString name (the agent sends it as a header)',
        '',
      ].join('\n'),
    );
  });

  test('a commit SHA, an ordinary URL and an ssh user are no credentials', async () => {
    const r = await runCli([
      'validate',
      '--recipe',
      'open-qa',
      '--set',
      `data.ref=${HEX40}`,
      '--set',
      'service.repo=ssh://git@github.com/x/y.git',
      '--set',
      'data.repo=https://example.org/d.git?ref=main',
    ]);
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
  });
});
