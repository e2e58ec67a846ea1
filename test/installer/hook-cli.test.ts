// The installable hook script and `bootstrap nc-hook` as the node controller runs them: real
// processes, real files, exit codes the NC understands (0 proceeds, 1-99 refuses the instance).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { requireNode18, requireTool } from '../helpers/tools.js';
import { gitstrapOnPath, HOOK_SCRIPT, runHookScript } from './hook-script.js';
import { listFiles, makeInstance, userDataShapes, validateDomain } from './support.js';

describe('userdata/nc-hooks/gitstrap-bootparams', () => {
  test('is POSIX sh and shellcheck-clean', () => {
    requireTool('shellcheck', 'shellcheck');
    const result = spawnSync('shellcheck', ['--shell=sh', '--severity=style', HOOK_SCRIPT], {
      encoding: 'utf8',
    });
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(readFileSync(HOOK_SCRIPT, 'utf8'), /^#!\/bin\/sh\n/);
  });

  test('on pre-boot it rewrites libvirt.xml through the gitstrap CLI', async (t) => {
    const dir = tempDir(t);
    const bin = gitstrapOnPath(dir);
    const instance = path.join(dir, 'i-1');
    makeInstance(instance, userDataShapes('inst.ks=http://h/k inst.text ks=x')['cloud-config'], {
      fixture: 'libvirt-kvm-cmdline.xml',
    });
    // "ks=x" is a second kickstart: refused, with the reason, and a code the NC treats as "abort".
    const refused = await runHookScript(['euca-nc-pre-boot', dir, instance], bin);
    assert.ok(refused.code! >= 1 && refused.code! <= 99, `exit ${refused.code}`);
    assert.match(refused.stderr, /^error: user-data line 2: inst.ks is given more than once/m);
    assert.match(refused.stderr, /libvirt\.xml was left unchanged/);
    assert.doesNotMatch(refused.stderr, /\n\s+at /, 'no stack trace');
    assert.deepEqual(listFiles(instance), ['instance.xml', 'libvirt.xml']);

    makeInstance(instance, userDataShapes('inst.ks=http://h/k ksdevice=eth1')['gzip mime'], {
      fixture: 'libvirt-kvm-cmdline.xml',
    });
    const ok = await runHookScript(['euca-nc-pre-boot', dir, instance], bin);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /warning: ksdevice=eth1 is deprecated; using bootdev=eth1/);
    assert.match(
      ok.stdout,
      /kernel command line set: root=\/dev\/vda1 console=ttyS0 inst.ks=http:\/\/h\/k bootdev=eth1/,
    );
    assert.ok(validateDomain(path.join(instance, 'libvirt.xml')).ok);
  });

  test('other events exit 0 at once, whatever their arguments', async (t) => {
    const dir = tempDir(t);
    const empty = path.join(dir, 'empty-path');
    for (const args of [
      ['euca-nc-pre-init', dir],
      ['euca-nc-post-init', dir],
      ['euca-nc-pre-clean', dir, path.join(dir, 'nowhere')],
      [],
    ]) {
      // Nothing on PATH at all: other events must not even need gitstrap.
      const result = await runHookScript(args, empty, { systemPath: false });
      assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
      assert.equal(result.stdout + result.stderr, '');
    }
  });

  test('says what to install when gitstrap is missing on pre-boot', async (t) => {
    const dir = tempDir(t);
    // PATH holds only an empty folder: the script needs nothing but sh's builtins to say so.
    const result = await runHookScript(['euca-nc-pre-boot', dir, dir], path.join(dir, 'none'), {
      systemPath: false,
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /gitstrap not found; install gitstrap .* or set GITSTRAP_BIN/);
  });
});

describe('bootstrap nc-hook', () => {
  test('--allow refuses names outside the list', async (t) => {
    const dir = tempDir(t);
    const { original } = makeInstance(dir, userDataShapes('inst.text init=/bin/sh')['mime'], {
      fixture: 'libvirt-kvm-no-cmdline.xml',
    });
    const result = await runCli(['nc-hook', 'euca-nc-pre-boot', dir, dir, '--allow', 'inst.*,ip']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /init is not an allowed parameter/);
    assert.match(result.stderr, /hint: allowed: inst\.\*, ip/);
    assert.deepEqual(readFileSync(path.join(dir, 'libvirt.xml')), original);
  });

  test('--allow-file reads one name per line', async (t) => {
    const dir = tempDir(t);
    makeInstance(dir, userDataShapes('inst.text ip=dhcp')['cloud-config'], {
      fixture: 'libvirt-kvm-no-cmdline.xml',
    });
    writeFileSync(path.join(dir, 'allow'), 'inst.text\n# comment\nip\n');
    const result = await runCli([
      'nc-hook',
      'euca-nc-pre-boot',
      dir,
      dir,
      '--allow-file',
      path.join(dir, 'allow'),
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /kernel command line set: inst.text ip=dhcp$/m);
  });

  test("runs on Node 18 (a node controller may have Debian 12's Node.js)", async (t) => {
    const dir = tempDir(t);
    makeInstance(dir, userDataShapes('inst.ks=http://h/k inst.text')['gzip mime'], {
      fixture: 'libvirt-kvm-cmdline.xml',
    });
    const result = await runCli(['nc-hook', 'euca-nc-pre-boot', dir, dir], {
      node: requireNode18(),
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /console=ttyS0 inst.ks=http:\/\/h\/k inst.text$/m);
  });

  test('needs the event', async () => {
    const result = await runCli(['nc-hook']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /needs at least 1 argument/);
  });
});
