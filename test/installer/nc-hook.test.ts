import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { buildBootParams } from '../../src/installer/bootparams.js';
import { readCmdline } from '../../src/installer/libvirt-xml.js';
import { ALLOW_FILE, runNcHook } from '../../src/installer/nc-hook.js';
import { GitstrapError } from '../../src/lib/errors.js';
import { tempDir } from '../helpers/tmp.js';
import {
  domDigest,
  FIXTURES,
  handMadeShapes,
  listFiles,
  makeInstance,
  userDataShapes,
  validateDomain,
} from './support.js';

const PRE_BOOT = 'euca-nc-pre-boot';
const fixtureText = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8');
const BASES: Record<string, string | undefined> = {
  'libvirt-kvm-cmdline.xml': 'root=/dev/vda1 console=ttyS0',
  'libvirt-kvm-no-cmdline.xml': undefined,
};

/** Asserts the rewritten libvirt.xml: exact cmdline, nothing else changed, libvirt's schema holds. */
function assertRewritten(file: string, original: Buffer, expectedCmdline: string): void {
  const now = readFileSync(file, 'utf8');
  assert.equal(readCmdline(now), expectedCmdline);
  assert.deepEqual(domDigest(now), domDigest(original.toString('utf8')), 'only <cmdline> changed');
  const valid = validateDomain(file);
  assert.ok(valid.ok, valid.output);
  assert.deepEqual(readFileSync(`${file}.orig`), original, 'the original is kept beside it');
}

/** Asserts that a refused run left the instance folder exactly as it was. */
function assertUntouched(dir: string, original: Buffer, filesBefore: string[]): void {
  assert.deepEqual(readFileSync(path.join(dir, 'libvirt.xml')), original);
  assert.deepEqual(listFiles(dir), filesBefore, 'no .orig, no temp file');
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof GitstrapError, `expected a GitstrapError, got ${String(error)}`);
    return [error.message, ...error.details, error.hint ?? ''].join('\n');
  }
  assert.fail('expected the hook to refuse');
}

describe('nc-hook finds the boot parameters in every user-data shape and rewrites <cmdline>', () => {
  const params = buildBootParams({
    ks: 'https://ks.example/open-qa.ks?v=1&arch=x86_64',
    bootparams: 'inst.text ip=dhcp console=ttyS0',
  }).canonical;
  for (const [fixture, base] of Object.entries(BASES)) {
    for (const [shape, userData] of Object.entries(userDataShapes(params))) {
      test(`${fixture}, ${shape}`, (t) => {
        const dir = tempDir(t);
        const { libvirtFile, original } = makeInstance(dir, userData, { fixture });
        const plan = runNcHook({ event: PRE_BOOT, eucaHome: dir, instancePath: dir });
        const expected = base ? `${base} ${params}` : params;
        assert.equal(plan.action, 'rewritten');
        assert.equal(plan.cmdline, expected);
        assertRewritten(libvirtFile, original, expected);
        assert.deepEqual(listFiles(dir), ['instance.xml', 'libvirt.xml', 'libvirt.xml.orig']);
      });
    }
  }
});

describe('nc-hook leaves everything alone when it has nothing to do', () => {
  test('other events are no-ops, even without an instance path', (t) => {
    const dir = tempDir(t);
    const { original } = makeInstance(dir, userDataShapes('inst.text')['cloud-config'], {
      fixture: 'libvirt-kvm-cmdline.xml',
    });
    for (const event of ['euca-nc-pre-init', 'euca-nc-post-init', 'euca-nc-pre-clean', 'bogus']) {
      assert.equal(runNcHook({ event, eucaHome: dir, instancePath: dir }).action, 'ignored-event');
      assert.equal(runNcHook({ event, eucaHome: dir }).action, 'ignored-event');
    }
    assertUntouched(dir, original, ['instance.xml', 'libvirt.xml']);
  });

  test('no user-data, or user-data without a bootparams= line', (t) => {
    const cases: Array<[Buffer | undefined, string]> = [
      [undefined, 'no-user-data'],
      [Buffer.from('#cloud-config\nruncmd: [[true]]\n'), 'no-bootparams'],
      [gzipSync('#!/bin/sh\n# bootparams=inst.text\necho hi\n'), 'no-bootparams'],
      [Buffer.from('#cloud-config\npackages: [git]\n  # bootparams=indented\n'), 'no-bootparams'],
    ];
    for (const [userData, action] of cases) {
      const dir = tempDir(t);
      const { original } = makeInstance(dir, userData, { fixture: 'libvirt-kvm-cmdline.xml' });
      assert.equal(runNcHook({ event: PRE_BOOT, instancePath: dir }).action, action);
      assertUntouched(dir, original, ['instance.xml', 'libvirt.xml']);
    }
  });

  test('running twice does not append twice', (t) => {
    const dir = tempDir(t);
    const { libvirtFile, original } = makeInstance(
      dir,
      userDataShapes('inst.text')['cloud-config'],
      { fixture: 'libvirt-kvm-cmdline.xml' },
    );
    assert.equal(runNcHook({ event: PRE_BOOT, instancePath: dir }).action, 'rewritten');
    const once = readFileSync(libvirtFile);
    assert.equal(runNcHook({ event: PRE_BOOT, instancePath: dir }).action, 'already-applied');
    assert.deepEqual(readFileSync(libvirtFile), once);
    assert.deepEqual(readFileSync(`${libvirtFile}.orig`), original);
  });
});

describe('hostile boot parameters are refused, and libvirt.xml stays untouched', () => {
  const long = 'x'.repeat(1100);
  const cases: Array<[string, string, RegExp]> = [
    [
      'a second inst.ks= after a space',
      'inst.ks=http://a/ks inst.ks=http://evil/ks',
      /more than once/,
    ],
    [
      'inst.ks smuggled in a quoted value',
      'inst.ks=http://a/ks x="y inst.ks=http://evil/ks"',
      /second kickstart/,
    ],
    ['ks= beside inst.ks=', 'inst.ks=http://a/ks ks=http://evil/ks', /more than once/],
    ['a double quote inside a value', 'x=a"b', /double quote inside the value/],
    ['an unterminated quote', 'x="a b', /unterminated quote/],
    ['a quote that opens a new token', '"inst.ks=http://evil"', /expected a parameter name/],
    ['a carriage return', 'inst.text\rinst.ks=http://evil', /line break/],
    ['a NUL', 'inst.text\u0000inst.ks=http://evil', /NUL character/],
    ['an escape sequence', 'x=\u001b]0;pwned\u0007', /control character/],
    ['a tab', 'inst.text\tinit=/bin/sh', /control character \(0x09\)/],
    ['unicode', 'inst.lang=ru_RU ☃=1', /non-ASCII character \(U\+2603\)/],
    ['a UTF-8 character holding byte 0xA0 (the kernel splits on it)', 'x=Р', /non-ASCII/],
    ['a very long value', `x=${long}`, /bytes; at most 1024/],
    ['a name with markup', '<cmdline>=1', /expected a parameter name/],
    ['"--" handing the rest to init', 'inst.text -- /bin/sh', /goes to init/],
  ];
  for (const [what, line, message] of cases) {
    for (const shape of ['hand-made cloud-config', 'gzip base64 mime part']) {
      test(`${what} (${shape})`, (t) => {
        const dir = tempDir(t);
        const { original } = makeInstance(dir, handMadeShapes(line)[shape], {
          fixture: 'libvirt-kvm-cmdline.xml',
        });
        const text = refusal(() => runNcHook({ event: PRE_BOOT, instancePath: dir }));
        assert.match(text, message);
        assert.match(text, /libvirt\.xml was left unchanged/);
        assertUntouched(dir, original, ['instance.xml', 'libvirt.xml']);
      });
    }
  }

  test('a cmdline that would outgrow the kernel, with a long base cmdline', (t) => {
    const dir = tempDir(t);
    const base = `root=/dev/vda1 console=ttyS0 pad=${'p'.repeat(1200)}`;
    const text = fixtureText('libvirt-kvm-cmdline.xml').replace(
      'root=/dev/vda1 console=ttyS0',
      base,
    );
    const { original } = makeInstance(
      dir,
      handMadeShapes(`x=${'v'.repeat(900)}`)['base64 mime part'],
      {
        text,
      },
    );
    const bytes = base.length + ' x='.length + 900;
    assert.ok(bytes > 2047);
    assert.match(
      refusal(() => runNcHook({ event: PRE_BOOT, instancePath: dir })),
      new RegExp(`would be ${bytes} bytes; the kernel takes at most 2047`),
    );
    assertUntouched(dir, original, ['instance.xml', 'libvirt.xml']);
  });
});

describe('hostile but valid characters are contained in the <cmdline> text', () => {
  const cases: Array<[string, string]> = [
    ['XML metacharacters', `x=</cmdline><kernel>/evil</kernel><cmdline> y=a&b z='q' w=<!--`],
    ['entities stay literal', 'x=&amp;&lt;&#60;&#x3c;'],
    ['CDATA end and PI', 'x=]]> y=<?php'],
    ['slashes and backslashes', 'inst.repo=hd:LABEL=Fedora\\x2040:/a//b\\ y=\\\\'],
    ['sed and shell metacharacters', 'x=!s!a!b!g y=$(reboot) z=`id`;|*'],
    ['a quoted value with spaces', 'inst.ks=http://h/ks foo="a b  c"'],
  ];
  for (const [what, line] of cases) {
    test(what, (t) => {
      const dir = tempDir(t);
      const { libvirtFile, original } = makeInstance(
        dir,
        userDataShapes(line)['gzip cloud-config'],
        {
          fixture: 'libvirt-kvm-cmdline.xml',
        },
      );
      const plan = runNcHook({ event: PRE_BOOT, instancePath: dir });
      assert.equal(plan.bootparams, line, 'the parameters arrive as written');
      assertRewritten(libvirtFile, original, `root=/dev/vda1 console=ttyS0 ${line}`);
    });
  }
});

describe('malformed files are refused with the file named', () => {
  const cloudConfig = userDataShapes('inst.text')['cloud-config'];
  const cases: Array<[string, (dir: string) => void, RegExp]> = [
    [
      'instance.xml is not XML',
      (dir) => writeFileSync(path.join(dir, 'instance.xml'), '<instance><userData>'),
      /instance\.xml: not well-formed XML/,
    ],
    [
      'userData is not base64',
      (dir) =>
        writeFileSync(
          path.join(dir, 'instance.xml'),
          '<instance><userData>@@@</userData></instance>',
        ),
      /<userData> is not base64/,
    ],
    [
      'libvirt.xml is not XML',
      (dir) => writeFileSync(path.join(dir, 'libvirt.xml'), '<domain><os><kernel>/k</kernel>'),
      /libvirt\.xml: not well-formed XML/,
    ],
    [
      'libvirt.xml has a DOCTYPE (entity expansion)',
      (dir) =>
        writeFileSync(
          path.join(dir, 'libvirt.xml'),
          '<!DOCTYPE d [<!ENTITY a "aaaa">]><domain><os><kernel>/k</kernel></os></domain>',
        ),
      /has a DOCTYPE/,
    ],
    [
      'the domain boots from disk',
      (dir) =>
        writeFileSync(path.join(dir, 'libvirt.xml'), fixtureText('libvirt-kvm-disk-boot.xml')),
      /no <kernel>: the domain boots from its disk[\s\S]*EKI/,
    ],
    [
      'two bootparams lines',
      (dir) =>
        makeInstance(dir, Buffer.from('bootparams=inst.text\nbootparams=inst.ks=http://evil\n'), {
          fixture: 'libvirt-kvm-cmdline.xml',
        }),
      /carries 2 bootparams= lines/,
    ],
    [
      'a bootparams line away from the top of the cloud-config',
      (dir) =>
        makeInstance(dir, Buffer.from('#cloud-config\npackages: [git]\n# bootparams=inst.text\n'), {
          fixture: 'libvirt-kvm-cmdline.xml',
        }),
      /line 3: a bootparams= line must directly follow #cloud-config/,
    ],
    [
      'a gzip bomb',
      (dir) =>
        makeInstance(dir, gzipSync(Buffer.alloc(2 * 1024 * 1024, 0x20)), {
          fixture: 'libvirt-kvm-cmdline.xml',
        }),
      /inflates to more than 1048576 bytes/,
    ],
    [
      'truncated MIME',
      (dir) =>
        makeInstance(dir, userDataShapes('inst.text')['mime']!.subarray(0, 300), {
          fixture: 'libvirt-kvm-cmdline.xml',
        }),
      /no closing/,
    ],
  ];
  for (const [what, spoil, message] of cases) {
    test(what, (t) => {
      const dir = tempDir(t);
      makeInstance(dir, cloudConfig, { fixture: 'libvirt-kvm-cmdline.xml' });
      spoil(dir);
      const before = readFileSync(path.join(dir, 'libvirt.xml'));
      assert.match(
        refusal(() => runNcHook({ event: PRE_BOOT, instancePath: dir })),
        message,
      );
      assertUntouched(dir, before, ['instance.xml', 'libvirt.xml']);
    });
  }

  test('a missing instance path on pre-boot', () => {
    assert.match(
      refusal(() => runNcHook({ event: PRE_BOOT, eucaHome: '/' })),
      /needs the instance path/,
    );
  });
});

describe("the node's allowlist", () => {
  test('EUCA_HOME/etc/eucalyptus/gitstrap-bootparams.allow is enforced when present', (t) => {
    const home = tempDir(t);
    mkdirSync(path.join(home, 'etc/eucalyptus'), { recursive: true });
    writeFileSync(path.join(home, ALLOW_FILE), '# installer options only\ninst.*\nip\nconsole\n');
    const ok = tempDir(t);
    makeInstance(ok, userDataShapes('inst.ks=http://h/k inst.text ip=dhcp')['mime'], {
      fixture: 'libvirt-kvm-cmdline.xml',
    });
    assert.equal(
      runNcHook({ event: PRE_BOOT, eucaHome: home, instancePath: ok }).action,
      'rewritten',
    );

    const bad = tempDir(t);
    const { original } = makeInstance(bad, userDataShapes('inst.text init=/bin/sh')['mime'], {
      fixture: 'libvirt-kvm-cmdline.xml',
    });
    assert.match(
      refusal(() => runNcHook({ event: PRE_BOOT, eucaHome: home, instancePath: bad })),
      /init is not an allowed parameter/,
    );
    assertUntouched(bad, original, ['instance.xml', 'libvirt.xml']);
  });
});

test('the DOM digest sees every change but the cmdline (so "only <cmdline> changed" can fail)', () => {
  const xml = fixtureText('libvirt-kvm-cmdline.xml');
  const digest = domDigest(xml);
  assert.deepEqual(domDigest(xml.replace('console=ttyS0', 'console=tty0 x=1')), digest);
  for (const [from, to] of [
    ['/kernel</kernel>', '/evil</kernel>'],
    ['<type>hvm</type>', '<type>hvm</type><kernel>/k2</kernel>'],
    ['bus="virtio"', 'bus="ide"'],
    ['Written by', 'Rewritten by'],
    ['<acpi/>', '<acpi/><apic/>'],
    ['&amp; its', 'and its'],
  ] as const) {
    assert.notDeepEqual(domDigest(xml.replace(from, to)), digest, `${from} -> ${to}`);
  }
});
