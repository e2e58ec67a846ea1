import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BOOTPARAMS_MAX,
  buildBootParams,
  formatBootParam,
  parseBootParams,
} from '../../src/installer/bootparams.js';
import { GitstrapError } from '../../src/lib/errors.js';

/** The message (and hint) a refused input gets. */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof GitstrapError, `expected a GitstrapError, got ${String(error)}`);
    return `${error.message}${error.hint ? ` | hint: ${error.hint}` : ''}`;
  }
  assert.fail('expected the input to be refused');
}

describe('parseBootParams: accepted input (golden)', () => {
  const cases: Array<[string, string, string[]?]> = [
    ['', ''],
    ['inst.text', 'inst.text'],
    ['  inst.text   ip=dhcp  ', 'inst.text ip=dhcp'],
    ['inst.ks=https://ks.example/a/b.ks?x=1&y=2', 'inst.ks=https://ks.example/a/b.ks?x=1&y=2'],
    [
      'ip=10.0.0.5::10.0.0.1:255.255.255.0:host:eth0:none nameserver=10.0.0.1',
      'ip=10.0.0.5::10.0.0.1:255.255.255.0:host:eth0:none nameserver=10.0.0.1',
    ],
    ['inst.repo=hd:LABEL=Fedora\\x2040:/x', 'inst.repo=hd:LABEL=Fedora\\x2040:/x'],
    ['console=ttyS0,115200n8 rd.break=pre-mount', 'console=ttyS0,115200n8 rd.break=pre-mount'],
    ['empty= quoted=""', 'empty= quoted='],
    ['a="no-spaces-need-no-quotes"', 'a=no-spaces-need-no-quotes'],
    ['inst.lang="en_US.UTF-8"', 'inst.lang=en_US.UTF-8'],
    ["x=<tag>&amp;'q'", "x=<tag>&amp;'q'"],
    ['modprobe.blacklist=a,b ipv6.disable=1', 'modprobe.blacklist=a,b ipv6.disable=1'],
  ];
  for (const [input, canonical, warnings = []] of cases) {
    test(JSON.stringify(input), () => {
      const parsed = parseBootParams(input);
      assert.equal(parsed.canonical, canonical);
      assert.deepEqual(parsed.warnings, warnings);
      // The canonical form is a fixed point: parsing it again changes nothing and warns of nothing.
      const again = parseBootParams(parsed.canonical);
      assert.equal(again.canonical, canonical);
      assert.deepEqual(again.params, parsed.params);
    });
  }

  test('params carry names and unquoted values', () => {
    assert.deepEqual(parseBootParams('inst.text foo="a b" bar= baz=1').params, [
      { name: 'inst.text' },
      { name: 'foo', value: 'a b' },
      { name: 'bar', value: '' },
      { name: 'baz', value: '1' },
    ]);
  });

  test('a quoted value with spaces keeps its quotes and warns how dracut reads it', () => {
    const parsed = parseBootParams('inst.text foo="a b"');
    assert.equal(parsed.canonical, 'inst.text foo="a b"');
    assert.equal(parsed.warnings.length, 1);
    assert.match(parsed.warnings[0]!, /dracut splits on spaces.*2 words/);
  });
});

describe('parseBootParams: deprecated Anaconda options are mapped, with a warning', () => {
  const cases: Array<[string, string, RegExp]> = [
    [
      'ks=http://h/ks.cfg',
      'inst.ks=http://h/ks.cfg',
      /ks=http:\/\/h\/ks.cfg is deprecated; using inst.ks=/,
    ],
    ['vnc', 'inst.vnc', /vnc is deprecated; using inst.vnc/],
    ['text', 'inst.text', /using inst.text/],
    ['repo=http://m/os', 'inst.repo=http://m/os', /using inst.repo=/],
    ['repo=nfsiso:srv:/isos', 'inst.repo=nfs:srv:/isos', /using inst.repo=nfs:srv:\/isos/],
    ['method=http://m/os', 'inst.repo=http://m/os', /method=.* deprecated; using inst.repo=/],
    ['dns=1.1.1.1,9.9.9.9', 'nameserver=1.1.1.1 nameserver=9.9.9.9', /one per server/],
    ['ksdevice=eth1', 'bootdev=eth1', /using bootdev=eth1/],
    ['ksdevice=ibft', 'ip=ibft', /using ip=ibft/],
    ['ksdevice=52:54:00:AB:cd:01', 'BOOTIF=52-54-00-AB-cd-01', /using BOOTIF=52-54-00-AB-cd-01/],
    ['ksdevice=link', '', /dropped: the first device with a link is the default/],
    ['ksdevice=bootif', '', /dropped: BOOTIF= is used/],
    ['blacklist=nouveau', 'modprobe.blacklist=nouveau', /using modprobe.blacklist=nouveau/],
    ['nofirewire', 'modprobe.blacklist=firewire_ohci', /nofirewire was removed/],
    ['serial', 'console=ttyS0', /serial was removed; using console=ttyS0/],
    ['noipv6', 'ipv6.disable=1', /using ipv6.disable=1/],
    ['inst.mediacheck', 'rd.live.check', /using rd.live.check/],
    ['updates=http://h/u.img', 'inst.updates=http://h/u.img', /using inst.updates=/],
    ['utf8', '', /utf8 was dropped/],
    ['askmethod', '', /askmethod was dropped/],
  ];
  for (const [input, canonical, warning] of cases) {
    test(input, () => {
      const parsed = parseBootParams(input);
      assert.equal(parsed.canonical, canonical);
      assert.equal(parsed.warnings.length, 1, parsed.warnings.join('\n'));
      assert.match(parsed.warnings[0]!, warning);
      assert.deepEqual(parseBootParams(parsed.canonical).warnings, []);
    });
  }

  test("the seed's own line becomes current Anaconda syntax", () => {
    const parsed = parseBootParams('ksdevice=link ip=dhcp vnc keymap=us lang=en_US console=ttyS0');
    assert.equal(parsed.canonical, 'ip=dhcp inst.vnc inst.keymap=us inst.lang=en_US console=ttyS0');
    assert.equal(parsed.warnings.length, 4);
  });

  test('advice on current options that are risky or outdated', () => {
    assert.match(
      parseBootParams('inst.vncpassword=x').warnings[0]!,
      /anyone on the instance or the node can read/,
    );
    assert.match(parseBootParams('gateway=10.0.0.1').warnings[0]!, /part of ip=/);
    assert.match(parseBootParams('ip=bootif').warnings[0]!, /not needed/);
  });

  test('ks=floppy is refused: Anaconda no longer has floppies', () => {
    assert.match(
      refusal(() => parseBootParams('ks=floppy')),
      /ks=floppy is no longer supported/,
    );
  });
});

describe('parseBootParams: refused input names the problem and its column', () => {
  const cases: Array<[string, RegExp]> = [
    ['a\nb', /a line break at column 2/],
    ['a=1\r', /a line break at column 4/],
    ['a=\u0000', /a NUL character at column 3/],
    ['a\tb', /a control character \(0x09\) at column 2/],
    ['a=\u001b[31m', /control character \(0x1b\) at column 3/],
    ['lang=café', /non-ASCII character \(U\+00E9\) at column 9.*0xA0/],
    ['x=\u00a0y', /non-ASCII character \(U\+00A0\)/],
    ['x=😀', /non-ASCII character \(U\+1F600\)/],
    ['a="b c', /unterminated quote at column 3 in a=/],
    ['a=b"c', /a double quote inside the value of a at column 4/],
    ['a="b"c', /unexpected "c" after the closing quote at column 6/],
    ['"a=b c"', /unexpected "\\"" at column 1; expected a parameter name/],
    ['=x', /unexpected "=" at column 1/],
    ['a<b=1', /unexpected "<" in the parameter name at column 2/],
    ['a/b', /unexpected "\/" in the parameter name/],
    ['-x', /parameter name "-x" at column 1 must start with/],
    ['inst.text -- init-arg', /"--" at column 11.*goes to init/],
    ['inst.ks=http://a inst.ks=http://b', /inst.ks is given more than once/],
    ['inst.ks=http://a ks=http://b', /inst.ks is given more than once/],
    [
      'inst.ks=http://a foo="x inst.ks=http://evil"',
      /a second kickstart \(inst.ks=\) inside the quoted value of foo/,
    ],
    [
      'inst.ks=http://a foo="x inst.ks=http://evil y"',
      /a second kickstart \(inst.ks=\) inside the quoted value of foo/,
    ],
  ];
  for (const [input, message] of cases) {
    test(JSON.stringify(input), () => {
      const text = refusal(() => parseBootParams(input, { source: '--bootparams' }));
      assert.match(text, /^--bootparams: /);
      assert.match(text, message);
      assert.match(text, / \| hint: /, 'every refusal says how to fix it');
    });
  }

  test('length limit: the default leaves room for the base command line', () => {
    const long = `x=${'a'.repeat(BOOTPARAMS_MAX - 2)}`;
    assert.equal(parseBootParams(long).canonical, long);
    assert.match(
      refusal(() => parseBootParams(long + 'a')),
      /is 1025 bytes; at most 1024/,
    );
    assert.match(
      refusal(() => parseBootParams('a'.repeat(5000))),
      /kernel command line holds 2047/,
    );
    assert.match(
      refusal(() => parseBootParams('x=12345', { maxLength: 4 })),
      /is 7 bytes; at most 4/,
    );
  });

  test('at most 32 parameters', () => {
    const many = Array.from({ length: 33 }, (_, i) => `p${i}`).join(' ');
    assert.match(
      refusal(() => parseBootParams(many)),
      /33 parameters; at most 32/,
    );
    assert.equal(parseBootParams(many.replace(/ p32$/, '')).params.length, 32);
  });
});

describe('parseBootParams: the allowlist', () => {
  const allow = ['inst.ks', 'inst.text', 'ip', 'console', 'rd.*'];
  test('accepts listed names and prefixes, after mapping deprecated ones', () => {
    assert.equal(
      parseBootParams('ks=http://h/k text ip=dhcp rd.debug console=ttyS0', { allow }).canonical,
      'inst.ks=http://h/k inst.text ip=dhcp rd.debug console=ttyS0',
    );
  });
  test('refuses others, naming them and the list', () => {
    assert.match(
      refusal(() => parseBootParams('inst.text init=/bin/sh', { allow })),
      /init is not an allowed parameter \| hint: allowed: inst.ks, inst.text, ip, console, rd\.\*/,
    );
  });
  test('applies to words hidden in a quoted value, as dracut sees them', () => {
    assert.match(
      refusal(() => parseBootParams('ip="dhcp init=/bin/sh"', { allow })),
      /init \(inside the quoted value of ip\) is not an allowed parameter/,
    );
  });
});

describe('buildBootParams', () => {
  test('puts inst.ks=URL first, then the extra parameters', () => {
    const built = buildBootParams({
      ks: 'https://ks.example/open-qa.ks',
      bootparams: 'inst.text ip=dhcp console=ttyS0',
    });
    assert.equal(
      built.canonical,
      'inst.ks=https://ks.example/open-qa.ks inst.text ip=dhcp console=ttyS0',
    );
    assert.deepEqual(built.warnings, []);
  });
  test('works with either part alone', () => {
    assert.equal(buildBootParams({ ks: 'http://h/k' }).canonical, 'inst.ks=http://h/k');
    assert.equal(buildBootParams({ bootparams: 'inst.text' }).canonical, 'inst.text');
  });
  test('refuses a second kickstart in the extra parameters, however it is spelled', () => {
    for (const extra of ['inst.ks=http://evil', 'ks=http://evil', 'inst.text inst.ks']) {
      assert.match(
        refusal(() => buildBootParams({ ks: 'http://h/k', bootparams: extra })),
        /inst.ks is given more than once/,
      );
    }
  });
  test('refuses a URL that would become more than one parameter', () => {
    assert.match(
      refusal(() => buildBootParams({ ks: 'http://h/k inst.text' })),
      /--ks: expected one URL/,
    );
    assert.match(
      refusal(() => buildBootParams({ ks: 'http://h/"k' })),
      /^--ks: a double quote/,
    );
  });
  test('applies the allowlist to both parts', () => {
    assert.match(
      refusal(() => buildBootParams({ ks: 'http://h/k', bootparams: 'vnc', allow: ['inst.ks'] })),
      /inst.vnc is not an allowed parameter/,
    );
  });
});

test('formatBootParam quotes only values with spaces', () => {
  assert.equal(formatBootParam({ name: 'a' }), 'a');
  assert.equal(formatBootParam({ name: 'a', value: '' }), 'a=');
  assert.equal(formatBootParam({ name: 'a', value: 'b c' }), 'a="b c"');
  assert.equal(formatBootParam({ name: 'a', value: 'b\\c' }), 'a=b\\c');
});
