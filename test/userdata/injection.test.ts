// No injection: values full of quotes, $( ), backticks, ; | & < >, newlines, tabs and unicode go
// in through `bootstrap userdata --set` (the built CLI), and the user-data they produce is run in
// the sandbox. Each trick aims at a canary file under /tmp (and `touch` is on the sandbox's PATH),
// so a value that escaped its quoting would leave a file behind. None may; every stand-in must get
// each value as exactly one argument; the recipe must reach the instance unchanged.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { INSTANCE_PATHS } from '../../src/userdata/index.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { makeCanaries, recipeOf } from './helpers.js';
import { callsOf, runUserData, type SandboxRun } from './sandbox.js';

const canaries = makeCanaries();
const { value, oneLine } = canaries;
/** A package spec takes no spaces: every trick without them. */
const spec = oneLine.replace(/\s/g, '');
const bundle = 'agent bundle\n';
const sha = createHash('sha256').update(bundle).digest('hex');

/** Every string key a recipe author controls that could reach a script, with a hostile value. */
const SETS = [
  `description=${value}`,
  'serve.host=::1',
  `agent.source=npm:${spec}`,
  `service.start=${JSON.stringify(['php', value, '-S', '127.0.0.1:{port}', oneLine])}`,
  `service.env.GREETING=${value}`,
  `service.install=${JSON.stringify([
    { name: 'run-step', run: ['sh', '-c', value, oneLine], env: { A: value }, cwd: 'sub dir/ü' },
    { name: 'shell-step', shell: value },
    { name: 'packages-step', packages: ['php-cli'] },
  ])}`,
  `data.transform=${JSON.stringify([{ run: ['sh', '-c', value] }])}`,
  `data.check=${JSON.stringify([{ run: ['test', value] }])}`,
  `data.notify=${JSON.stringify({ run: ['kill', value] })}`,
  `data.webhook.secret_file=/etc/gitstrap/${oneLine}`,
];

/** A URL the schema accepts that is as hostile as a URL gets. */
const HOSTILE_URL = `https://example.invalid/a?x=$(touch ${canaries.paths[0]})&y=';touch ${canaries.paths[2]};'|<>\`touch ${canaries.paths[1]}\``;

function assertNoCanaries(): void {
  assert.deepEqual(
    canaries.paths.filter((p) => existsSync(p)),
    [],
    'an injected command ran',
  );
}

/** The calls of bootstrap first-boot (the stand-in bootstrap, or node running the bundle). */
function firstBootArgs(run: SandboxRun): string[][] {
  return run.calls
    .map((c) => (c[0] === 'node' && c[1]?.endsWith('.cjs') ? c.slice(2) : c.slice(1)))
    .filter((args) => args[0] === 'first-boot');
}

function assertNothingEscaped(run: SandboxRun): void {
  assertNoCanaries();
  assert.doesNotMatch(run.output, /not found|No such file|syntax error|unexpected/i, run.output);
  assert.equal(run.code, 0, run.output);
  // The script's part ran to its end and handed the rest over to bootstrap first-boot (a stand-in).
  assert.equal(firstBootArgs(run).length, 1, run.output);
  const known = new Set([
    'apt-get',
    'useradd',
    'getent',
    'npm',
    'node',
    'bootstrap',
    'systemctl',
    'git',
    'curl',
  ]);
  assert.deepEqual(
    run.calls.filter((c) => !known.has(c[0]!)),
    [],
    'only the expected commands ran',
  );
}

async function renderWithCli(t: Parameters<typeof tempDir>[0], args: string[]): Promise<Buffer> {
  const file = path.join(tempDir(t), 'user-data');
  const cli = await runCli(['userdata', '--recipe', 'open-qa', ...args, '-o', file]);
  assert.equal(cli.code, 0, cli.stderr);
  assert.equal(cli.stdout, '');
  return readFileSync(file);
}

describe('hostile recipe values through the CLI, run in the sandbox', () => {
  assertNoCanaries();

  for (const format of ['cloud-config', 'mime'] as const) {
    test(`${format}: every value stays one argument and nothing escapes`, async (t) => {
      const userData = await renderWithCli(t, [
        ...SETS.flatMap((s) => ['--set', s]),
        '--format',
        format,
      ]);
      const run = await runUserData(t, userData);
      assertNothingEscaped(run);

      assert.deepEqual(callsOf(run, 'npm')[0]?.slice(-2), ['--', spec]);
      assert.deepEqual(firstBootArgs(run), [
        ['first-boot', '--recipe', 'open-qa', '--port', '80', '--health-host', '::1', '--packages'],
      ]);

      const written = readFileSync(
        path.join(run.root, '/etc/gitstrap/recipes/open-qa.yaml'),
        'utf8',
      );
      assert.deepEqual(parse(written), recipeOf('open-qa', SETS), 'the recipe arrives unchanged');
    });
  }

  test('agent.source {url, sha256}: the URL reaches curl as one argument', async (t) => {
    const source = JSON.stringify({ url: HOSTILE_URL, sha256: sha });
    const userData = await renderWithCli(t, [
      '--set',
      `agent.source=${source}`,
      '--set',
      'serve.host=::1',
    ]);
    const run = await runUserData(t, userData, {
      installed: ['git', 'node', 'curl'],
      env: { FAKE_BUNDLE: bundle },
    });
    assertNothingEscaped(run);
    assert.deepEqual(callsOf(run, 'curl')[0]?.slice(-2), ['--url', HOSTILE_URL]);
    assert.deepEqual(firstBootArgs(run), [
      ['first-boot', '--recipe', 'open-qa', '--port', '80', '--health-host', '::1', '--packages'],
    ]);
    assert.equal(readFileSync(path.join(run.root, INSTANCE_PATHS.agentBundle), 'utf8'), bundle);
  });

  test('the canaries work: spliced naively into a shell line, each trick does run', (t) => {
    const probe = makeCanaries();
    t.after(() => {
      for (const p of probe.paths) rmSync(p, { force: true });
    });
    for (const [i, trick] of probe.tricks.entries()) {
      spawnSync('sh', ['-c', trick.naive(trick.text)], { cwd: tempDir(t), timeout: 10_000 });
      assert.ok(existsSync(probe.paths[i]!), `trick ${i}: ${trick.naive(trick.text)}`);
    }
  });
});
