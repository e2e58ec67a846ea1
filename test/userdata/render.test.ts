// The renderer as a pure function: golden files for every recipe, the cloud-config's shape,
// gzip and size, boot parameters, refusals, and the templates' quoting discipline.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { parse } from 'yaml';
import { GitstrapError } from '../../src/lib/errors.js';
import { parseRecipe } from '../../src/recipe/load.js';
import type { Recipe } from '../../src/recipe/schema.js';
import { compactShell } from '../../src/userdata/compact.js';
import { planFirstBootArgs } from '../../src/userdata/first-boot.js';
import { EC2_USER_DATA_LIMIT, INSTANCE_PATHS, renderUserData } from '../../src/userdata/index.js';
import { buildMultipart } from '../../src/userdata/multipart.js';
import { recipeFileText } from '../../src/userdata/render.js';
import { quoteShell } from '../../src/userdata/shell-quote.js';
import {
  defaultTemplatesDir,
  findUnquotedValues,
  TEMPLATE_FILES,
} from '../../src/userdata/templates.js';
import {
  GOLDEN_DIR,
  GOLDEN_OPTIONS,
  makeCanaries,
  recipeNames,
  recipeOf,
  render,
} from './helpers.js';
import { assertGoldenText } from '../helpers/golden.js';

interface CloudConfigShape {
  write_files: Array<{
    path: string;
    content: string;
    owner: string;
    permissions: string;
    encoding?: string;
  }>;
  runcmd?: string[][];
}

const cloudConfigOf = (text: string) => parse(text) as CloudConfigShape;
const scriptOf = (text: string) => fileAt(cloudConfigOf(text), INSTANCE_PATHS.firstBoot);
const fileAt = (config: CloudConfigShape, file: string): string => {
  const entry = config.write_files.find((f) => f.path === file);
  assert.ok(entry, `write_files has ${file}`);
  if (entry.encoding === 'b64') return Buffer.from(entry.content, 'base64').toString();
  if (entry.encoding === 'gz+b64')
    return gunzipSync(Buffer.from(entry.content, 'base64')).toString();
  return entry.content;
};

describe('golden files', () => {
  // The first-boot script travels gzip+base64 in the user-data: its text has golden files of its own.
  const scripts = [
    {
      file: 'first-boot.sh',
      text: () => scriptOf(render('open-qa', [], { ...GOLDEN_OPTIONS }).text),
    },
    {
      file: 'first-boot-official-node.sh',
      text: () => scriptOf(render('open-qa', ['agent.node=official'], { ...GOLDEN_OPTIONS }).text),
    },
    {
      // A recipe that keeps data in Git LFS: the script installs git-lfs too.
      file: 'first-boot-git-lfs.sh',
      text: () => scriptOf(render('open-qa', ['data.lfs=true'], { ...GOLDEN_OPTIONS }).text),
    },
  ];
  const cases = [
    ...scripts,
    ...recipeNames().flatMap((name) => [
      {
        file: `${name}.cloud-config.yaml`,
        text: () => render(name, [], { ...GOLDEN_OPTIONS }).text,
      },
      {
        file: `${name}.mime.txt`,
        text: () => render(name, [], { version: GOLDEN_OPTIONS.version, format: 'mime' }).text,
      },
    ]),
  ];

  for (const { file, text } of cases) {
    test(`${file} matches its golden file`, () => {
      assertGoldenText(GOLDEN_DIR, file, text());
    });
  }

  test('no golden file is left over from a recipe that is gone', () => {
    const expected = new Set(cases.map((c) => c.file));
    const stale = readdirSync(GOLDEN_DIR).filter((f) => !expected.has(f));
    assert.deepEqual(stale, []);
  });
});

describe('cloud-config', () => {
  test('starts with #cloud-config and carries the recipe, the script and the runcmd', () => {
    const { text, format, gzipped } = render('open-qa');
    assert.equal(format, 'cloud-config');
    assert.equal(gzipped, false);
    assert.ok(text.startsWith('#cloud-config\n'));
    const config = cloudConfigOf(text);
    // cloud-init's defaults (owner root:root, permissions 0644) go without saying: the files as
    // cloud-init writes them are checked in cloud-init.test.ts.
    assert.deepEqual(
      config.write_files.map((f) => [f.path, f.owner, f.permissions]),
      [
        ['/etc/gitstrap/recipes/open-qa.yaml', undefined, undefined],
        [INSTANCE_PATHS.firstBoot, undefined, '0755'],
      ],
    );
    assert.deepEqual(config.runcmd, [
      [
        'sh',
        INSTANCE_PATHS.firstBoot,
        '--name',
        'open-qa',
        // The distribution's Node.js (agent.node: distro) is the script's default.
        '--agent',
        'npm',
        '--agent-spec',
        'gitstrap@0.1.0',
        // bootstrap first-boot's: the health host and timeout are its defaults; open-qa installs
        // OS packages, so the agent's unit runs bootstrap packages first.
        '--',
        '--port',
        '80',
        '--packages',
      ],
    ]);
  });

  test('the recipe on the instance is the resolved recipe, and reads back the same', () => {
    const sets = ['service.ref=v2', 'data.jitter=1m'];
    const recipe = recipeOf('open-qa', sets);
    const written = fileAt(
      cloudConfigOf(render('open-qa', sets).text),
      '/etc/gitstrap/recipes/open-qa.yaml',
    );
    assert.equal(written, recipeFileText(recipe));
    assert.deepEqual(parse(written), recipe);
    const reread = parseRecipe(written, 'open-qa.yaml');
    assert.deepEqual(reread.problems, []);
    assert.deepEqual(reread.recipe, recipe);
  });

  test('a ttl adds the expiry step to the script and the lifetime; expiresAt wins over the ttl', () => {
    const withTtl = cloudConfigOf(render('open-qa', ['ttl=2h']).text);
    assert.deepEqual(
      withTtl.write_files.map((f) => f.path),
      ['/etc/gitstrap/recipes/open-qa.yaml', INSTANCE_PATHS.firstBoot],
    );
    assert.match(scriptOf(render('open-qa', ['ttl=2h']).text), /^step_ttl\(\) \{$/m);
    assert.doesNotMatch(scriptOf(render('open-qa').text), /step_ttl|gitstrap-expire/);
    assert.deepEqual(withTtl.runcmd?.[0]?.slice(8, 11), ['--ttl-seconds', '7200', '--']);

    const fixed = cloudConfigOf(
      render('open-qa', ['ttl=2h'], { expiresAt: new Date('2031-05-06T07:08:09.999Z') }).text,
    );
    assert.deepEqual(fixed.runcmd?.[0]?.slice(8, 11), ['--expires-at', '1935817689', '--']);

    const none = cloudConfigOf(render('open-qa').text);
    assert.equal(none.write_files.length, 2);
    assert.ok(!none.runcmd?.[0]?.some((a) => a === '--ttl-seconds' || a === '--expires-at'));
  });

  test('every string is double-quoted, so YAML 1.1 readers never see booleans or numbers', () => {
    const { text } = render('open-qa', ['serve.host=yes', 'agent.source=npm:0755']);
    assert.match(text, /"--health-host", "yes"/);
    assert.match(text, /"--agent-spec", "0755"/);
    assert.match(text, /permissions: "0755"/);
  });

  test('a recipe whose text a literal block cannot hold goes base64, and reads back exactly', () => {
    const description = 'line\u2028separator\ufeff and a\rreturn';
    const { text } = render('open-qa', [`description=${description}`]);
    const config = cloudConfigOf(text);
    const entry = config.write_files[0]!;
    assert.equal(entry.encoding, 'b64');
    assert.equal((parse(fileAt(config, entry.path)) as Recipe).description, description);
  });

  test('the first-boot script is the template without its comments', () => {
    const full = readFileSync(path.join(defaultTemplatesDir(), TEMPLATE_FILES.firstBoot), 'utf8');
    const script = fileAt(cloudConfigOf(render('open-qa').text), INSTANCE_PATHS.firstBoot);
    assert.ok(script.startsWith('#!/bin/sh\n## gitstrap first boot'));
    assert.ok(script.length < full.length * 0.6);
    assert.ok(!script.split('\n').some((l) => /^\s*#( |$)/.test(l) && !l.includes('shellcheck')));
    assert.ok(!/\n\s*\n/.test(script), 'no blank lines');
  });
});

describe('agent source and node', () => {
  const argsOf = (sets: string[]) =>
    planFirstBootArgs(recipeOf('open-qa', sets), { version: '9.8.7', expiry: undefined });

  test('the default source is this version of gitstrap from npm', () => {
    assert.deepEqual(argsOf([]).slice(2, 6), ['--agent', 'npm', '--agent-spec', 'gitstrap@9.8.7']);
  });

  test('npm:<spec>, {url, sha256} and image', () => {
    assert.deepEqual(argsOf(['agent.source=npm:@acme/gitstrap@2']).slice(2, 6), [
      '--agent',
      'npm',
      '--agent-spec',
      '@acme/gitstrap@2',
    ]);
    const sha = 'ab'.repeat(32);
    assert.deepEqual(
      argsOf([`agent.source={url: "https://example.invalid/a.cjs", sha256: "${sha}"}`]).slice(2, 8),
      ['--agent', 'url', '--agent-url', 'https://example.invalid/a.cjs', '--agent-sha256', sha],
    );
    assert.deepEqual(argsOf(['agent.source=image']).slice(2, 4), ['--agent', 'image']);
  });

  test('an official Node.js build passes its version; a specific listen address is probed', () => {
    const args = argsOf(['agent.node=official', 'agent.node_version=22.1.0', 'serve.host=::1']);
    assert.deepEqual(args.slice(2, 6), ['--node', 'official', '--node-version', '22.1.0']);
    assert.deepEqual(args.slice(-6), ['--', '--port', '80', '--health-host', '::1', '--packages']);
  });
});

describe('MIME', () => {
  test('a cloud-config part without runcmd, and a shell part that runs first boot', () => {
    const { text, format } = render('open-qa', [], { format: 'mime' });
    assert.equal(format, 'mime');
    assert.match(
      text,
      /^Content-Type: multipart\/mixed; boundary="(==gitstrap-[0-9a-f]{24})"\nMIME-Version: 1\.0\n/,
    );
    assert.match(text, /Content-Type: text\/cloud-config; charset="utf-8"\n/);
    assert.match(text, /Content-Type: text\/x-shellscript; charset="utf-8"\n/);
    assert.match(
      text,
      /\nexec sh '\/usr\/local\/lib\/gitstrap\/first-boot\.sh' '--name' 'open-qa' '--agent' 'npm' /,
    );
    assert.ok(!text.includes('runcmd:'));
  });

  test('non-ASCII parts are base64; the cloud-config part stays ASCII for the bootparams line', () => {
    const { text } = render('open-qa', ['description=Café ✓', 'agent.source=npm:hôte'], {
      format: 'mime',
      bootparams: 'console=ttyS0',
    });
    assert.match(
      text,
      /Content-Transfer-Encoding: 7bit\n[^\n]*\n\n#cloud-config\n# bootparams=console=ttyS0\n/,
    );
    assert.match(
      text,
      /Content-Transfer-Encoding: base64\nContent-Disposition: attachment; filename="gitstrap-first-boot.sh"/,
    );
    assert.ok(/^[\x20-\x7e\n]*$/.test(text), 'the whole message is ASCII');
  });

  test('the boundary never occurs in a part', () => {
    const first = buildMultipart([
      { contentType: 'text/x-shellscript', filename: 'a', content: 'x\n' },
    ]);
    const boundary = /boundary="([^"]+)"/.exec(first)![1]!;
    const tricky = buildMultipart([
      { contentType: 'text/x-shellscript', filename: 'a', content: `${boundary}\n` },
    ]);
    const chosen = /boundary="([^"]+)"/.exec(tricky)![1]!;
    const body = tricky.split('\n\n').slice(1).join('\n\n');
    assert.equal(body.split(`--${chosen}`).length, 3, 'one opening and one closing delimiter');
  });
});

describe('boot parameters', () => {
  test('go on their own line right after #cloud-config', () => {
    const { text } = render('open-qa', [], {
      bootparams: 'inst.ks=http://10.0.2.2/ks.cfg ip=dhcp',
    });
    assert.ok(
      text.startsWith(
        '#cloud-config\n# bootparams=inst.ks=http://10.0.2.2/ks.cfg ip=dhcp\nwrite_files:\n',
      ),
    );
  });

  test('a newline or control character in them is refused', () => {
    assert.throws(
      () => render('open-qa', [], { bootparams: 'a\nruncmd: [[touch, /tmp/x]]' }),
      (e: unknown) => e instanceof GitstrapError && /one line of printable ASCII/.test(e.message),
    );
  });

  test('a credential in them is refused', () => {
    assert.throws(
      () =>
        render('open-qa', [], { bootparams: 'inst.ks=https://user:hunter2@example.invalid/ks' }),
      (e: unknown) =>
        e instanceof GitstrapError &&
        e.message ===
          'the bootparams option carries a credential (a user name or token in the URL); user-data is readable by anyone on the instance',
    );
  });
});

describe('refusals', () => {
  test('a credential in a recipe that bypassed the loader is refused, naming the key', () => {
    const recipe = recipeOf('open-qa');
    const leaky = {
      ...recipe,
      service: { ...recipe.service, env: { TOKEN: `ghp_${'a'.repeat(36)}` } },
    };
    assert.throws(
      () => renderUserData(leaky, { version: '0.1.0' }),
      (e: unknown) =>
        e instanceof GitstrapError &&
        e.message.startsWith(
          'recipe value service.env.TOKEN carries a credential (a GitHub token)',
        ) &&
        /auth\.token_file/.test(e.hint ?? ''),
    );
  });

  test('characters cloud-init cannot read are refused, naming the key', () => {
    for (const [char, code] of [
      ['\u007f', 'U+007F'],
      ['\u0085', 'U+0085'],
      ['\ufffe', 'U+FFFE'],
      ['\ud800', 'U+D800'],
    ] as const) {
      const recipe = { ...recipeOf('open-qa'), description: `a${char}b` };
      assert.throws(
        () => renderUserData(recipe, { version: '0.1.0' }),
        (e: unknown) =>
          e instanceof GitstrapError &&
          e.message ===
            `recipe value description contains ${code}, a character cloud-init cannot read in user-data`,
      );
    }
  });

  test('a version that is not one is refused', () => {
    assert.throws(() => render('open-qa', [], { version: '1.0; rm -rf /' }), GitstrapError);
  });
});

describe('size', () => {
  // Random hex digits: no credential shape, and they compress to about half.
  const hex = (n: number) => randomBytes(n / 2).toString('hex');

  test('small user-data is sent as is; --gzip gzips it; cloud-init decompresses the same text', () => {
    const plain = render('open-qa');
    assert.equal(plain.gzipped, false);
    assert.equal(plain.body.toString(), plain.text);
    assert.equal(plain.rawBytes, Buffer.byteLength(plain.text));
    assert.ok(plain.rawBytes <= EC2_USER_DATA_LIMIT);
    const gz = render('open-qa', [], { gzip: true });
    assert.equal(gz.gzipped, true);
    assert.deepEqual(gz.body.subarray(0, 2), Buffer.from([0x1f, 0x8b]));
    assert.equal(gunzipSync(gz.body).toString(), plain.text);
    assert.equal(gz.bytes, gz.body.length);
    assert.equal(gz.gzippedBytes, gz.bytes);
  });

  test('over 16,384 bytes it is gzipped automatically; never with gzip: false', () => {
    const sets = [`description=${hex(12_000)}`];
    const big = render('open-qa', sets);
    assert.ok(big.rawBytes > EC2_USER_DATA_LIMIT);
    assert.equal(big.gzipped, true);
    assert.ok(big.bytes <= EC2_USER_DATA_LIMIT);
    assert.throws(
      () => render('open-qa', sets, { gzip: false }),
      (e: unknown) =>
        e instanceof GitstrapError &&
        /^the user-data is [\d,]+ bytes; EC2 accepts at most 16,384$/.test(e.message),
    );
  });

  test('refused with a clear error when even gzipped it does not fit', () => {
    assert.throws(
      () => render('open-qa', [`description=${hex(60_000)}`]),
      (e: unknown) =>
        e instanceof GitstrapError &&
        /^the user-data is [\d,]+ bytes even gzipped \([\d,]+ raw\); EC2 accepts at most 16,384$/.test(
          e.message,
        ) &&
        /shorten the recipe/.test(e.hint ?? ''),
    );
  });

  test('every recipe in recipes/ fits as plain text, so it can be pasted into the EC2 console', () => {
    for (const name of recipeNames()) {
      const r = render(name, [], { ...GOLDEN_OPTIONS });
      assert.equal(r.gzipped, false, `${name}: ${r.rawBytes} bytes`);
    }
  });
});

describe('templates', () => {
  test('shell templates put every value through shq', () => {
    assert.deepEqual(findUnquotedValues('a={{shq a}}\n{{#each xs}} {{shq this}}{{/each}}'), []);
    assert.deepEqual(
      findUnquotedValues('a={{a}} b={{{b}}} c={{shq c d}} {{#if x}}{{y}}{{/if}} {{> p}}'),
      [
        '{{a}} at line 1',
        '{{b}} at line 1',
        '{{shq}} at line 1',
        '{{y}} at line 1',
        'a partial at line 1',
      ],
    );
    for (const file of Object.values(TEMPLATE_FILES).filter((f) => f.endsWith('.sh.hbs'))) {
      const source = readFileSync(path.join(defaultTemplatesDir(), file), 'utf8');
      assert.deepEqual(findUnquotedValues(source), [], file);
    }
  });

  test('scripts and units are ASCII', () => {
    const config = cloudConfigOf(render('open-qa', ['ttl=1d']).text);
    for (const entry of config.write_files.slice(1)) {
      assert.ok(/^[\t\n\x20-\x7e]*$/.test(entry.content), entry.path);
    }
  });

  test('the first-boot template has no here-documents (compactShell relies on it)', () => {
    const source = readFileSync(path.join(defaultTemplatesDir(), TEMPLATE_FILES.firstBoot), 'utf8');
    assert.ok(!source.includes('<<'));
  });

  test('compactShell keeps the #! line, "## " notes and shellcheck directives', () => {
    assert.equal(
      compactShell(
        '#!/bin/sh\n## note\n# comment\n\n  # indented\n# shellcheck disable=SC2086\necho "#x" # tail\n',
      ),
      '#!/bin/sh\n## note\n# shellcheck disable=SC2086\necho "#x" # tail\n',
    );
  });
});

describe('quoteShell', () => {
  test('a quoted value is one word that a real shell reads back unchanged', () => {
    const { value, oneLine, paths } = makeCanaries();
    for (const v of [value, oneLine, "it's", "''", '', '\\', '$HOME', 'a\nb', '-n', '*']) {
      const got = spawnSync('sh', ['-c', `printf '%s' ${quoteShell(v)}`], { encoding: 'utf8' });
      assert.equal(got.status, 0);
      assert.equal(got.stdout, v);
    }
    assert.deepEqual(
      paths.filter((p) => existsSync(p)),
      [],
    );
  });

  test('NUL cannot be quoted and is refused', () => {
    assert.throws(() => quoteShell('a\u0000b'), GitstrapError);
  });
});
