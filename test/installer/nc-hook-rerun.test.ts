// The hook run again and again, as a node controller may (an instance rebooted, its user-data's
// bootparams= changed): every run computes the command line from the original libvirt.xml (kept
// once as libvirt.xml.orig) and the current parameters, and changes nothing but the <cmdline> text.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { writeAtomic } from '../../src/installer/atomic-write.js';
import { readCmdline } from '../../src/installer/libvirt-xml.js';
import { runNcHook, type NcHookAction } from '../../src/installer/nc-hook.js';
import { GitstrapError } from '../../src/lib/errors.js';
import { tempDir } from '../helpers/tmp.js';
import {
  FIXTURES,
  handMadeShapes,
  instanceXml,
  listFiles,
  makeInstance,
  validateDomain,
} from './support.js';

const PRE_BOOT = 'euca-nc-pre-boot';
const fixtureText = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8');

/** Runs the hook in `dir` with user-data carrying `line` (undefined: no bootparams= line). */
function runWith(dir: string, line: string | undefined): NcHookAction {
  const userData =
    line === undefined
      ? Buffer.from('#cloud-config\nruncmd: [[true]]\n')
      : handMadeShapes(line)['hand-made cloud-config'];
  writeFileSync(path.join(dir, 'instance.xml'), instanceXml(userData));
  return runNcHook({ event: PRE_BOOT, instancePath: dir }).action;
}

/** libvirt.xml after one run of the hook on a fresh copy of `libvirt` with `line`. */
function oneRun(
  t: Parameters<typeof tempDir>[0],
  libvirt: { fixture: string } | { text: string },
  line: string | undefined,
): Buffer {
  const dir = tempDir(t);
  makeInstance(dir, undefined, libvirt);
  runWith(dir, line);
  return readFileSync(path.join(dir, 'libvirt.xml'));
}

describe('nc-hook run again with other boot parameters', () => {
  for (const fixture of ['libvirt-kvm-cmdline.xml', 'libvirt-kvm-no-cmdline.xml']) {
    test(`${fixture}: each run starts from the original`, (t) => {
      const dir = tempDir(t);
      const { libvirtFile, original } = makeInstance(dir, undefined, { fixture });
      const a = 'inst.ks=http://a/ks inst.text';
      const b = 'inst.ks=http://b/ks ip=dhcp';
      assert.equal(runWith(dir, a), 'rewritten');
      assert.equal(runWith(dir, b), 'rewritten');
      const cmdline = readCmdline(readFileSync(libvirtFile, 'utf8')) ?? '';
      assert.ok(cmdline.endsWith(b), cmdline);
      assert.doesNotMatch(cmdline, /http:\/\/a\//, 'the first run left no trace');
      assert.deepEqual(readFileSync(`${libvirtFile}.orig`), original, 'the original is kept');
      assert.deepEqual(readFileSync(libvirtFile), oneRun(t, { fixture }, b));
      assert.ok(validateDomain(libvirtFile).ok);

      assert.equal(runWith(dir, b), 'already-applied');
      assert.equal(runWith(dir, a), 'rewritten');
      assert.deepEqual(readFileSync(libvirtFile), oneRun(t, { fixture }, a));
      // The bootparams= line removed: the instance boots with the original command line.
      assert.equal(runWith(dir, undefined), 'restored');
      assert.deepEqual(readFileSync(libvirtFile), original);
      assert.equal(runWith(dir, undefined), 'no-bootparams');
      assert.deepEqual(readFileSync(`${libvirtFile}.orig`), original);
      assert.deepEqual(listFiles(dir), ['instance.xml', 'libvirt.xml', 'libvirt.xml.orig']);
    });
  }

  test('a libvirt.xml the node controller wrote anew (not from .orig) is refused, untouched', (t) => {
    const dir = tempDir(t);
    const { libvirtFile } = makeInstance(dir, undefined, { fixture: 'libvirt-kvm-cmdline.xml' });
    runWith(dir, 'inst.text');
    const fresh = fixtureText('libvirt-kvm-cmdline.xml').replace(
      '<vcpu>2</vcpu>',
      '<vcpu>4</vcpu>',
    );
    writeFileSync(libvirtFile, fresh);
    const orig = readFileSync(`${libvirtFile}.orig`);
    let message = '';
    try {
      runWith(dir, 'inst.text');
    } catch (error) {
      assert.ok(error instanceof GitstrapError, String(error));
      message = [error.message, ...error.details, error.hint ?? ''].join('\n');
    }
    assert.match(message, /libvirt\.xml differs from libvirt\.xml\.orig outside <cmdline>/);
    assert.match(message, /remove libvirt\.xml\.orig/);
    assert.equal(readFileSync(libvirtFile, 'utf8'), fresh);
    assert.deepEqual(readFileSync(`${libvirtFile}.orig`), orig);
  });
});

describe('nc-hook changes nothing but the text of <cmdline>, to the byte', () => {
  const params = 'inst.ks=http://h/ks?a=1&b=2 x=</cmdline><kernel>';
  const escaped = 'inst.ks=http://h/ks?a=1&amp;b=2 x=&lt;/cmdline&gt;&lt;kernel&gt;';

  test('an existing <cmdline>: only its text changes', (t) => {
    const original = fixtureText('libvirt-kvm-cmdline.xml');
    const expected = original.replace(
      '<cmdline>root=/dev/vda1 console=ttyS0</cmdline>',
      `<cmdline>root=/dev/vda1 console=ttyS0 ${escaped}</cmdline>`,
    );
    assert.equal(oneRun(t, { text: original }, params).toString(), expected);
  });

  test('no <cmdline>: one is added after <initrd>, single-quoted attributes stay as they are', (t) => {
    const original = fixtureText('libvirt-kvm-no-cmdline.xml');
    const expected = original.replace(
      /(<initrd>[^<]*<\/initrd>)/,
      `$1\n    <cmdline>${escaped}</cmdline>`,
    );
    assert.notEqual(expected, original);
    assert.equal(oneRun(t, { text: original }, params).toString(), expected);
  });

  test('empty elements, CRLF line ends, comments and odd spacing are kept', (t) => {
    const original = [
      "<?xml version='1.0'?>",
      '<domain  type = "kvm" >',
      '  <description></description>',
      "  <os><type arch='x86_64'>hvm</type><kernel >/k</kernel><initrd/><!-- ram --></os>",
      '  <features><acpi></acpi><apic/></features>',
      '</domain>',
      '',
    ].join('\r\n');
    const expected = original.replace('<initrd/>', `<initrd/><cmdline>${escaped}</cmdline>`);
    assert.equal(oneRun(t, { text: original }, params).toString(), expected);
    const withCmdline = original.replace('<initrd/>', '<initrd/><cmdline >a=1 </cmdline>');
    assert.equal(
      oneRun(t, { text: withCmdline }, params).toString(),
      original.replace('<initrd/>', `<initrd/><cmdline >a=1 ${escaped}</cmdline>`),
    );
  });

  test('the samples rewritten still pass virt-xml-validate', (t) => {
    for (const fixture of ['libvirt-kvm-cmdline.xml', 'libvirt-kvm-no-cmdline.xml']) {
      const dir = tempDir(t);
      makeInstance(dir, handMadeShapes(params)['gzip base64 mime part'], { fixture });
      runNcHook({ event: PRE_BOOT, instancePath: dir });
      const result = validateDomain(path.join(dir, 'libvirt.xml'));
      assert.ok(result.ok, `${fixture}: ${result.output}`);
    }
  });
});

describe('the files the hook reads and writes', () => {
  test('a libvirt.xml that is not UTF-8 is refused (a splice could not keep its bytes)', (t) => {
    const dir = tempDir(t);
    const latin1 = Buffer.from(
      fixtureText('libvirt-kvm-cmdline.xml').replace('&amp; its', 'caf\u00e9'),
      'latin1',
    );
    const { libvirtFile } = makeInstance(dir, undefined, { fixture: 'libvirt-kvm-cmdline.xml' });
    writeFileSync(libvirtFile, latin1);
    assert.throws(() => runWith(dir, 'inst.text'), /libvirt\.xml: not UTF-8 text/);
    assert.deepEqual(readFileSync(libvirtFile), latin1);
    assert.deepEqual(listFiles(dir), ['instance.xml', 'libvirt.xml']);
  });

  test('libvirt.xml.orig is created, never replaced', (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'libvirt.xml.orig');
    writeAtomic(file, Buffer.from('first'), 0o600, { create: true });
    assert.throws(
      () => writeAtomic(file, Buffer.from('second'), 0o600, { create: true }),
      /cannot write .*libvirt\.xml\.orig: EEXIST/,
    );
    assert.equal(readFileSync(file, 'utf8'), 'first');
    assert.deepEqual(listFiles(dir), ['libvirt.xml.orig'], 'no temp file left');
  });
});
