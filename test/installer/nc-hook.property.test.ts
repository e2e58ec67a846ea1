// Properties of the nc-hook rewrite over arbitrary libvirt-like domains (any quoting, spacing, line
// ends, comments, CDATA, empty elements, with or without <initrd> and <cmdline>) and arbitrary boot
// parameter strings: a refusal is always a GitstrapError and changes nothing; an accepted rewrite
// changes nothing outside <cmdline>, to the byte, adds no markup, and is idempotent from the
// original however often and with whatever parameters the hook runs.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { readCmdline } from '../../src/installer/libvirt-xml.js';
import { planNcHook, runNcHook, type NcHookPlan } from '../../src/installer/nc-hook.js';
import { GitstrapError } from '../../src/lib/errors.js';
import { checkProperty } from '../helpers/property.js';
import { tempDir } from '../helpers/tmp.js';
import { domDigest, instanceXml } from './support.js';

/** A generated domain: its text is `head + slot + tail`; the hook may change only `slot`. */
interface Domain {
  head: string;
  /** The original <cmdline> element, or '' where the hook must add one. */
  slot: string;
  tail: string;
  /** The white space before the element the new <cmdline> follows (when `slot` is ''). */
  indent: string;
}

const text = (d: Domain) => d.head + d.slot + d.tail;

const lineEnd = fc.constantFrom('\n', '\r\n', '\r');
const space = fc
  .tuple(fc.constantFrom('', '\n', '\r\n'), fc.constantFrom('', ' ', '  ', '\t', '    '))
  .map(([a, b]) => a + b);
const tagName = fc.constantFrom(
  'name',
  'uuid',
  'memory',
  'vcpu',
  'on_reboot',
  'x-y.z',
  'euca:meta',
);
const charData = fc
  .array(
    fc.constantFrom(
      'a',
      'Z',
      '0',
      ' ',
      '/',
      '=',
      '"',
      "'",
      '>',
      '&amp;',
      '&lt;',
      '&#60;',
      '&#x3E;',
    ),
    { maxLength: 8 },
  )
  .map((a) => a.join(''));
const quoted = fc
  .tuple(
    fc.constantFrom('"', "'"),
    fc.array(fc.constantFrom('a', ' ', '>', '/', '&amp;', '&quot;', '&apos;'), { maxLength: 5 }),
  )
  .map(([q, parts]) => q + parts.join('') + q);
const attributes = fc
  .uniqueArray(
    fc.tuple(
      fc.constantFrom('type', 'unit', 'arch', 'dev', 'bus', 'x'),
      space,
      fc.constantFrom('', ' '),
      quoted,
    ),
    { maxLength: 3, selector: ([name]) => name },
  )
  .map((list) =>
    list.map(([name, ws, eq, value]) => `${ws || ' '}${name}${eq}=${eq}${value}`).join(''),
  );
const misc = fc.oneof(
  charData.map((t) => `<!--${t.replace(/-/g, '')} -->`),
  charData.map((t) => `<![CDATA[${t}]]>`),
  fc.constant('<?gitstrap test?>'),
);
const leaf = fc
  .tuple(
    tagName,
    attributes,
    fc.oneof(charData, misc),
    fc.constantFrom('pair', 'empty-tag', 'empty-pair'),
  )
  .map(([name, attrs, body, form]) =>
    form === 'empty-tag'
      ? `<${name}${attrs}/>`
      : `<${name}${attrs}>${form === 'pair' ? body : ''}</${name}>`,
  )
  .map((el) =>
    el.includes('euca:') ? el.replace(/<euca:meta/, '<euca:meta xmlns:euca="urn:e"') : el,
  );
const nodes = fc
  .array(fc.tuple(space, fc.oneof(leaf, misc)), { maxLength: 4 })
  .map((list) => list.map(([ws, n]) => ws + n).join(''));
const nonEmptyPath = fc.constantFrom(
  '/k',
  '/var/lib/eucalyptus/i-1/kernel',
  ' /k&amp;1 ',
  '<![CDATA[/k]]>',
);

/** An existing <cmdline> element: its text (escaped, maybe with comments or CDATA) and tag form. */
const cmdlineElement = fc
  .tuple(
    fc.array(
      fc.constantFrom(
        'root=/dev/vda1',
        ' ',
        'console=ttyS0',
        'a=&amp;',
        '<!-- c -->',
        '<![CDATA[x=<y>]]>',
        '&#32;',
        '\n  ',
      ),
      { maxLength: 5 },
    ),
    fc.constantFrom('<cmdline>', '<cmdline >', '<cmdline\n>'),
    fc.boolean(),
  )
  .map(([parts, open, empty]) =>
    empty && parts.length === 0 ? '<cmdline/>' : `${open}${parts.join('')}</cmdline>`,
  );

/** A libvirt-like domain, with the place of <cmdline> (or where the hook must add it) marked. */
const domain: fc.Arbitrary<Domain> = fc
  .record({
    decl: fc.constantFrom('', '<?xml version="1.0" encoding="UTF-8"?>', "<?xml version='1.0'?>"),
    eol: lineEnd,
    before: nodes,
    after: nodes,
    domainAttrs: attributes,
    osAttrs: attributes,
    sp: fc.array(space, { minLength: 8, maxLength: 8 }),
    type: fc.boolean(),
    kernel: nonEmptyPath,
    initrd: fc.constantFrom(
      undefined,
      '<initrd/>',
      '<initrd>/r</initrd>',
      '<initrd><!--r-->/r</initrd>',
    ),
    osMisc: fc.oneof(fc.constant(''), misc),
    cmdline: fc.option(cmdlineElement, { nil: undefined, freq: 2 }),
    cmdlineFirst: fc.boolean(),
  })
  .map((g) => {
    const s = g.sp;
    const prolog = `${g.decl}${g.decl ? g.eol : ''}<!-- generated -->${g.eol}<domain${g.domainAttrs}>${g.before}${s[0]}<os${g.osAttrs}>`;
    const type = g.type ? `${s[1]}<type arch='x86_64'>hvm</type>` : '';
    const kernel = `${s[2]}<kernel>${g.kernel}</kernel>`;
    const initrd = g.initrd ? `${s[3]}${g.initrd}` : '';
    const rest = `${s[4]}${g.osMisc}${s[5]}</os>${g.after}${s[6]}</domain>${g.eol}`;
    if (g.cmdline === undefined) {
      return {
        head: prolog + type + kernel + initrd,
        slot: '',
        tail: rest,
        indent: g.initrd ? s[3]! : s[2]!,
      };
    }
    if (g.cmdlineFirst) {
      return {
        head: prolog + s[7],
        slot: g.cmdline,
        tail: type + kernel + initrd + rest,
        indent: '',
      };
    }
    return {
      head: prolog + type + kernel + initrd + s[7],
      slot: g.cmdline,
      tail: rest,
      indent: '',
    };
  });

/** Boot parameter lines: grammar-shaped ones (mostly accepted) and arbitrary text (mostly refused). */
const name = fc.oneof(
  {
    arbitrary: fc.constantFrom(
      'inst.ks',
      'inst.text',
      'ip',
      'x',
      'console',
      'inst.repo',
      'a.b-c_d',
    ),
    weight: 8,
  },
  { arbitrary: fc.constantFrom('ks', '-x', '--', 'a"b', '<n>'), weight: 1 },
);
/** Value text the grammar takes (XML and shell metacharacters included), and text it refuses. */
const valueText = fc.oneof(
  {
    arbitrary: fc
      .array(
        fc.constantFrom(
          'a',
          '1',
          '/',
          ':',
          '=',
          '&',
          '<',
          '>',
          ']]>',
          "'",
          '\\',
          '$(id)',
          ';',
          '`',
          '%',
          '?',
          '#',
          '&amp;',
        ),
        { maxLength: 6 },
      )
      .map((a) => a.join('')),
    weight: 8,
  },
  { arbitrary: fc.constantFrom('"a b"', '"x<y &z"', '""'), weight: 2 },
  { arbitrary: fc.constantFrom('a"b', '"open', 'x y', 'a\tb', 'é'), weight: 1 },
);
const paramToken = fc
  .tuple(name, fc.option(valueText, { nil: undefined }))
  .map(([n, value]) => (value === undefined ? n : `${n}=${value}`));
const bootparams = fc.oneof(
  {
    arbitrary: fc.array(paramToken, { minLength: 1, maxLength: 5 }).map((a) => a.join(' ')),
    weight: 4,
  },
  { arbitrary: fc.string({ maxLength: 40 }), weight: 1 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 20 }), weight: 1 },
);

/** User-data carrying `line` as its bootparams= line (undefined: no such line). */
function userData(line: string | undefined): Buffer {
  return Buffer.from(
    line === undefined
      ? '#cloud-config\nruncmd: [[true]]\n'
      : `#cloud-config\n# bootparams=${line}\n`,
  );
}

/** The plan, or the refusal; anything but a GitstrapError fails the property. */
function plan(input: Parameters<typeof planNcHook>[0]): NcHookPlan | GitstrapError {
  try {
    return planNcHook(input);
  } catch (error) {
    if (error instanceof GitstrapError) return error;
    throw error;
  }
}

const RUNS = 400;
const FILE_RUNS = 60;

describe('nc-hook rewrite, over arbitrary domains and parameters (fast-check)', () => {
  test('changes only the text of <cmdline>, escaped, or refuses cleanly', async (t) => {
    const seen = { refused: 0, rewritten: 0, added: 0 };
    await checkProperty(
      t,
      fc.property(domain, bootparams, (d, line) => {
        const original = text(d);
        const result = plan({ instanceXml: instanceXml(userData(line)), libvirtXml: original });
        if (result instanceof GitstrapError) {
          seen.refused++;
          // Only the parameters are refused: every generated domain boots a kernel directly.
          assert.match(result.message, /^user-data line 2: /);
          return;
        }
        if (result.action !== 'rewritten') {
          assert.equal(result.xml, undefined, `${result.action} writes nothing`);
          return;
        }
        const out = result.xml!;
        assert.ok(out.startsWith(d.head), 'the text before <cmdline> is kept to the byte');
        assert.ok(out.endsWith(d.tail), 'the text after <cmdline> is kept to the byte');
        const middle = out.slice(d.head.length, out.length - d.tail.length);
        const element = d.slot === '' ? middle.slice(d.indent.length) : middle;
        if (d.slot === '') assert.ok(middle.startsWith(d.indent), 'the new element is indented');
        const parts = /^(<cmdline\s*>)([^<]*)<\/cmdline>$/.exec(element);
        assert.ok(parts, `one <cmdline> holding only text: ${JSON.stringify(element)}`);
        if (d.slot.startsWith('<cmdline') && !d.slot.endsWith('/>')) {
          assert.ok(d.slot.startsWith(parts[1]!), 'its start tag is kept');
        }
        const base = (readCmdline(original) ?? '').trim();
        const expected = base === '' ? result.bootparams! : `${base} ${result.bootparams!}`;
        assert.equal(readCmdline(out), expected, 'the parameters arrive as text, unchanged');
        assert.equal(result.cmdline, expected);
        assert.deepEqual(domDigest(out), domDigest(original), 'no markup added or removed');
        seen.rewritten++;
        if (d.slot === '') seen.added++;
      }),
      RUNS,
    );
    // Not vacuous: both outcomes, and both kinds of rewrite, were exercised.
    assert.ok(
      seen.rewritten >= RUNS / 5,
      `only ${seen.rewritten} rewrites: ${JSON.stringify(seen)}`,
    );
    assert.ok(
      seen.added >= RUNS / 20,
      `only ${seen.added} added <cmdline>: ${JSON.stringify(seen)}`,
    );
    assert.ok(seen.refused >= RUNS / 10, `only ${seen.refused} refusals: ${JSON.stringify(seen)}`);
  });

  test('runs in any order and number give what one run on the original gives', async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'libvirt.xml');
    let rerun = 0;
    const runs = fc.array(fc.option(bootparams, { nil: undefined, freq: 4 }), {
      minLength: 1,
      maxLength: 4,
    });
    await checkProperty(
      t,
      fc.property(domain, runs, (d, lines) => {
        const original = text(d);
        writeFileSync(file, original);
        rmSync(`${file}.orig`, { force: true }); // each case starts without a kept original
        let last: { line: string | undefined; xml: string } | undefined;
        let applied = 0;
        for (const line of lines) {
          writeFileSync(path.join(dir, 'instance.xml'), instanceXml(userData(line)));
          const before = readFileSync(file, 'utf8');
          try {
            runNcHook({ event: 'euca-nc-pre-boot', instancePath: dir });
          } catch (error) {
            assert.ok(error instanceof GitstrapError, `a refusal, not a crash: ${String(error)}`);
            // Only parameters are refused: a file the hook wrote is never taken for a foreign one.
            assert.match(error.message, /^user-data line 2: /);
            assert.equal(readFileSync(file, 'utf8'), before, 'a refusal changes nothing');
            continue;
          }
          last = { line, xml: readFileSync(file, 'utf8') };
          applied++;
        }
        if (applied >= 2) rerun++;
        if (existsSync(`${file}.orig`)) {
          assert.equal(readFileSync(`${file}.orig`, 'utf8'), original, '.orig is the original');
        }
        if (last === undefined) {
          assert.equal(readFileSync(file, 'utf8'), original);
          return;
        }
        const once = plan({ instanceXml: instanceXml(userData(last.line)), libvirtXml: original });
        assert.ok(!(once instanceof GitstrapError), 'accepted once, accepted on the original');
        assert.equal(last.xml, once.xml ?? original, 'the same as one run on the original');
      }),
      FILE_RUNS,
    );
    assert.ok(rerun >= FILE_RUNS / 5, `only ${rerun} cases ran the hook twice or more`);
  });
});
