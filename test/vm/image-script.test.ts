// test/vm/image.sh without building: its cache key, a cache hit, and the clear failures before a
// build starts (not root, a missing tool). The build itself runs in the VM tier.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/tmp.js';
import { projectRoot, requireTool } from '../helpers/tools.js';

const SCRIPT = path.join(projectRoot, 'test/vm/image.sh');

function runImageScript(args: string[], env: NodeJS.ProcessEnv, command = ['bash']) {
  const [program = 'bash', ...pre] = command;
  return spawnSync(program, [...pre, SCRIPT, ...args], {
    encoding: 'utf8',
    env,
    timeout: 30_000,
  });
}

test('the cache key is a stable 16-hex hash of the script', () => {
  const a = runImageScript(['--key'], process.env);
  const b = runImageScript(['--key'], process.env);
  assert.equal(a.status, 0, a.stderr);
  assert.match(a.stdout, /^[0-9a-f]{16}\n$/);
  assert.equal(a.stdout, b.stdout);
});

test('a cached image is found without building', (t) => {
  const cache = tempDir(t);
  const key = runImageScript(['--key'], process.env).stdout.trim();
  const dir = path.join(cache, 'gitstrap/vm', key);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'root.img'), '');
  writeFileSync(path.join(dir, 'manifest.txt'), `key: ${key}\n`);
  const run = runImageScript([], { ...process.env, XDG_CACHE_HOME: cache });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, `${dir}\n`);
  assert.equal(run.stderr, '');
});

test('building as a normal user fails saying it needs root', (t) => {
  const setpriv = requireTool('setpriv', 'util-linux');
  const cache = tempDir(t);
  const run = runImageScript([], { PATH: process.env.PATH, XDG_CACHE_HOME: cache }, [
    setpriv,
    '--reuid=65534',
    '--regid=65534',
    '--clear-groups',
    'bash',
  ]);
  assert.equal(run.status, 1);
  assert.match(run.stderr, /^vm image: building the guest image needs root .*sudo .*image\.sh\n$/);
  assert.equal(run.stdout, '');
});

test('a missing tool fails naming the Debian package to install', (t) => {
  const cache = tempDir(t);
  const bin = tempDir(t);
  for (const tool of ['bash', 'readlink', 'cat', 'sha256sum', 'cut', 'id']) {
    symlinkSync(requireTool(tool, 'coreutils'), path.join(bin, tool));
  }
  const run = runImageScript([], { PATH: bin, XDG_CACHE_HOME: cache, HOME: cache }, [
    path.join(bin, 'bash'),
  ]);
  if (process.getuid?.() === 0) {
    assert.equal(run.status, 1);
    assert.equal(
      run.stderr,
      "vm image: debootstrap is not installed: install Debian's debootstrap (npm run setup:test does)\n",
    );
  } else {
    assert.match(run.stderr, /needs root/);
  }
});

test('image.sh passes shellcheck', () => {
  const shellcheck = requireTool('shellcheck', 'shellcheck');
  const run = spawnSync(shellcheck, [SCRIPT], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stdout);
});
