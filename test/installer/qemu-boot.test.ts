// The whole path: boot parameters rendered into user-data, found by the installed nc-hook script
// in instance.xml, written into libvirt.xml's <cmdline>, and read back from /proc/cmdline of a real
// kernel booted under QEMU with that command line: exactly those parameters, and only them.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readCmdline } from '../../src/installer/libvirt-xml.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { tempDir } from '../helpers/tmp.js';
import { bootAndReadCmdline, buildInitramfs, requireKernel } from './boot.js';
import { gitstrapOnPath, runHookScript } from './hook-script.js';
import { makeInstance } from './support.js';
import { runCli } from '../helpers/cli.js';

describe('boot parameters reach a booted kernel exactly', () => {
  let kernel: string;
  let initramfs: string;
  let pathDir: string;
  let shared: string;
  before(() => {
    kernel = requireKernel();
    shared = mkdtempSync(path.join(os.tmpdir(), 'gitstrap-boot-'));
    const dir = shared;
    initramfs = buildInitramfs(dir);
    pathDir = gitstrapOnPath(dir);
  });
  after(() => rmSync(shared, { recursive: true, force: true }));

  const KS = 'https://ks.example/open-qa.ks?x=1&y=2';
  const cases = [
    {
      fixture: 'libvirt-kvm-cmdline.xml',
      base: 'root=/dev/vda1 console=ttyS0',
      // Deprecated spellings, XML metacharacters, backslashes and a quoted value with spaces.
      bootparams: `vnc ksdevice=eth0 ip=dhcp x=<&>'\\y\\ label=Fedora\\x2040 foo="a  b"`,
      format: ['--format', 'mime', '--gzip'],
      expected: `inst.ks=${KS} inst.vnc bootdev=eth0 ip=dhcp x=<&>'\\y\\ label=Fedora\\x2040 foo="a  b"`,
    },
    {
      fixture: 'libvirt-kvm-no-cmdline.xml',
      base: undefined,
      bootparams: 'console=ttyS0 inst.text inst.repo=https://mirror.example/os/?a=1&b=2',
      format: ['--format', 'cloud-config'],
      expected: `inst.ks=${KS} console=ttyS0 inst.text inst.repo=https://mirror.example/os/?a=1&b=2`,
    },
  ];
  for (const c of cases) {
    test(`${c.fixture}, bootstrap userdata ${c.format.join(' ')}`, async (t) => {
      const dir = tempDir(t);
      const userDataFile = path.join(dir, 'user-data');
      const rendered = await runCli([
        'userdata',
        '--recipe',
        'open-qa',
        '--installer',
        '--ks',
        KS,
        '--bootparams',
        c.bootparams,
        ...c.format,
        '-o',
        userDataFile,
      ]);
      assert.equal(rendered.code, 0, rendered.stderr);
      const instance = path.join(dir, 'instance');
      makeInstance(instance, readFileSync(userDataFile), { fixture: c.fixture });

      const hook = await runHookScript(['euca-nc-pre-boot', dir, instance], pathDir);
      assert.equal(hook.code, 0, hook.stderr);
      const cmdline = readCmdline(readFileSync(path.join(instance, 'libvirt.xml'), 'utf8'));
      const expected = c.base ? `${c.base} ${c.expected}` : c.expected;
      assert.equal(cmdline, expected);

      // libvirt hands <cmdline> to QEMU as -append; the kernel shows it in /proc/cmdline.
      const started = Date.now();
      const seen = await bootAndReadCmdline(t, kernel, initramfs, cmdline!);
      t.diagnostic(`boot took ${Date.now() - started} ms`);
      assert.deepEqual(seen, Buffer.from(`${expected}\n`), 'byte for byte, and nothing else');
    });
  }
});
