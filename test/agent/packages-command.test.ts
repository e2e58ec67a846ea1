// `bootstrap packages --recipe X` through the built CLI, with a stand-in apt on PATH: installs what is
// missing as root, is idempotent, and tells a non-root user to run it with sudo.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { BIN, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { requireTool } from '../helpers/tools.js';
import { fakePackageManager, parseLog, writeRecipe } from './harness.js';

test('bootstrap packages: installs as root, idempotent, a clear error when not root', async (t) => {
  const setpriv = requireTool('setpriv', 'util-linux');
  const dir = tempDir(t);
  chmodSync(dir, 0o755);
  const pm = fakePackageManager(dir);
  const recipe = (packages: string[]) => ({
    name: 'pkgs',
    service: {
      repo: '/srv/app',
      runtime: 'static',
      install: [
        { name: 'tools', packages: { apt: packages, dnf: ['never-this'] } },
        { name: 'build', run: ['make'] },
      ],
    },
  });
  const { file } = await writeRecipe(dir, recipe(['fake-tool', 'fake-lib']));
  chmodSync(file, 0o644);
  pm.install('fake-lib');

  const first = await runCli(['packages', '--recipe', file], { env: { PATH: pm.path } });
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(parseLog(first.stdout).find((l) => l.event === 'packages.done')?.installed, [
    'fake-tool',
  ]);
  assert.ok(pm.calls().includes('apt-get install -y -q --no-install-recommends -- fake-tool'));

  const callsBefore = pm.calls().length;
  const again = await runCli(['packages', '--recipe', file], { env: { PATH: pm.path } });
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(parseLog(again.stdout).find((l) => l.event === 'packages.done')?.installed, []);
  assert.deepEqual(pm.calls().slice(callsBefore), [
    'dpkg-query -W -f=${Package}\t${db:Status-Abbrev}\n -- fake-tool fake-lib',
  ]);

  const more = await writeRecipe(dir, recipe(['fake-tool', 'fake-other']));
  chmodSync(more.file, 0o644);
  const asNobody = await runCli(
    ['--regid=65534', '--clear-groups', process.execPath, BIN, 'packages', '--recipe', more.file],
    { node: setpriv, entry: '--reuid=65534', env: { PATH: pm.path }, cwd: dir },
  );
  assert.equal(asNobody.code, 3, asNobody.stderr);
  assert.equal(
    asNobody.stderr,
    `error: install step "tools": packages not installed: fake-other (installing them needs root)\n  hint: run: sudo bootstrap packages --recipe ${more.file}  (the gitstrap unit does this before the agent starts)\n`,
  );

  // A failure is recorded in the state root, naming the step, for first boot to report.
  const root = path.join(dir, 'state');
  const emptyPath = path.join(dir, 'no-tools');
  mkdirSync(root);
  mkdirSync(emptyPath);
  const noManager = await runCli(['packages', '--recipe', file, '--root', root], {
    env: { PATH: emptyPath },
  });
  assert.equal(noManager.code, 3, noManager.stderr);
  assert.match(noManager.stderr, /^error: install step "tools": no package manager found/);
  const record = JSON.parse(readFileSync(path.join(root, 'start-failure.json'), 'utf8')) as {
    step: string;
    exitCode: number;
    message: string;
  };
  assert.equal(record.step, 'install:tools');
  assert.equal(record.exitCode, 3);
  assert.match(record.message, /^install step "tools": no package manager found/);
});
