// Properties of URL-to-file resolution (request-path.ts, then resolve-file.ts) over arbitrary
// request targets: percent-encodings (upper and lower case, double), dot segments, NULs, backslashes,
// encoded separators, symlinks out of the root or onto dotfiles. A real folder is served, with
// sentinels outside it and in dotfiles and .git: no target reaches them, none throws, and the
// agent server itself never answers one of them (or a 500).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import fc from 'fast-check';
import { checkRequestPath, segmentsOf } from '../../src/serve/request-path.js';
import { realFolder, resolveInside } from '../../src/serve/resolve-file.js';
import { writeFiles } from '../helpers/git.js';
import { checkProperty } from '../helpers/property.js';
import { tempDir } from '../helpers/tmp.js';
import { rawGet, startServer } from './helpers.js';

const SECRET = 'SENTINEL-must-never-be-served';

/** A served root with ordinary files, and secrets beside it, in dotfiles and in .git. */
function layout(t: Pick<TestContext, 'after'>): { root: string; files: Map<string, string> } {
  const base = tempDir(t, 'gitstrap-resolve-');
  const root = path.join(base, 'root');
  const files = {
    'index.html': '<p>home</p>',
    'a/b.txt': 'b',
    'a/index.html': '<p>a</p>',
    '100%.txt': 'percent',
    'sp ace.txt': 'space',
  };
  writeFiles(root, {
    ...files,
    '.env': SECRET,
    '.git/config': SECRET,
    '.git/HEAD': SECRET,
    'a/.hidden': SECRET,
    '.dir/inner.txt': SECRET,
    '..x': SECRET, // a name starting with "." is a dotfile, however it goes on
  });
  writeFiles(base, { 'outside.txt': SECRET, 'root-sibling/x.txt': SECRET });
  symlinkSync('../outside.txt', path.join(root, 'link-out'));
  symlinkSync('.env', path.join(root, 'link-dot'));
  symlinkSync('.git', path.join(root, 'link-git'));
  symlinkSync('../root-sibling', path.join(root, 'link-dir'));
  symlinkSync('a/b.txt', path.join(root, 'link-ok'));
  mkdirSync(path.join(root, 'empty'));
  const real = realFolder(root)!;
  return { root: real, files: new Map(Object.entries(files).map(([k, v]) => [k, v])) };
}

const NAMES = [
  'a',
  'b.txt',
  'index.html',
  '100%.txt',
  'sp ace.txt',
  '..x',
  'empty',
  'link-ok',
  '.',
  '..',
  '...',
  '.env',
  '.git',
  'config',
  'HEAD',
  '.hidden',
  '.dir',
  'inner.txt',
  'link-out',
  'link-dot',
  'link-git',
  'link-dir',
  'x.txt',
  'outside.txt',
  'root-sibling',
  '',
];

/** Percent-encodes some characters of `s` (upper or lower hex), maybe twice. */
const encodeSome = (s: string, picks: readonly number[]): string =>
  Array.from(s)
    .map((c, i) => {
      const pick = picks[i % Math.max(picks.length, 1)] ?? 0;
      if (pick < 5) return c;
      const hex = Buffer.from(c)
        .toString('hex')
        .replace(/../g, (h) => `%${pick % 2 ? h.toUpperCase() : h}`);
      return pick >= 8 ? hex.replace(/%/g, '%25') : hex;
    })
    .join('');

const segment = fc.oneof(
  {
    arbitrary: fc
      .tuple(fc.constantFrom(...NAMES), fc.array(fc.nat(9), { maxLength: 6 }))
      .map(([n, p]) => encodeSome(n, p)),
    weight: 6,
  },
  {
    arbitrary: fc.constantFrom(
      '%00',
      '%2e',
      '%2E%2e',
      '%252e%252e',
      '%2f',
      '%5C',
      '\\',
      '..\\..',
      '%c0%ae',
      '%',
      '%zz',
      '\u0000',
      '\u00e9',
      '%e9',
      '\t',
    ),
    weight: 2,
  },
  { arbitrary: fc.string({ maxLength: 6 }), weight: 1 },
);
const separator = fc.constantFrom('/', '/', '/', '//', '\\', '%2f', '/./');
const hostile = fc
  .tuple(
    fc.constantFrom('/', '/', '/', '', '//', '\\'),
    fc.array(fc.tuple(segment, separator), { minLength: 1, maxLength: 5 }),
    fc.constantFrom('', '', '/', '?q=../../.env', '#frag', '?%00'),
  )
  .map(
    ([lead, parts, tail]) =>
      lead + parts.map(([s, sep], i) => (i === parts.length - 1 ? s : s + sep)).join('') + tail,
  );
/** Paths to the served files and their neighbours, some characters percent-encoded. */
const plain = fc
  .tuple(
    fc.array(
      fc.constantFrom(
        'a',
        'b.txt',
        'index.html',
        '100%25.txt',
        'sp%20ace.txt',
        '..x',
        'link-ok',
        'empty',
        '.env',
        'link-dot',
      ),
      { minLength: 1, maxLength: 3 },
    ),
    fc.constantFrom('', '/', '?x=1'),
  )
  .map(([parts, tail]) => `/${parts.join('/')}${tail}`);
const target = fc.oneof({ arbitrary: plain, weight: 1 }, { arbitrary: hostile, weight: 2 });

/** A checked (decoded) path: no dot segment, backslash or control character. */
function assertHarmless(decoded: string, url: string): void {
  assert.ok(
    decoded.split('/').every((s) => !s.startsWith('.')),
    `${JSON.stringify(url)} passed with a dot segment: ${JSON.stringify(decoded)}`,
  );
  // eslint-disable-next-line no-control-regex -- control characters are what is checked
  assert.doesNotMatch(decoded, /[\\\u0000-\u001f\u007f]/, `${JSON.stringify(url)} passed`);
}

/** True when `real` lies in `root` with no dot-named entry on the way (checked independently). */
function cleanlyInside(root: string, real: string): boolean {
  const rel = path.relative(root, real);
  if (rel === '') return true;
  if (rel.startsWith('..') || path.isAbsolute(rel)) return false;
  return rel.split(path.sep).every((s) => !s.startsWith('.'));
}

describe('URL-to-file resolution over arbitrary targets (fast-check)', () => {
  test('checkRequestPath + resolveInside never leave the root nor reach a dotfile', async (t) => {
    const { root, files } = layout(t);
    const seen = { refused: 0, served: 0, missing: 0 };
    await checkProperty(
      t,
      fc.asyncProperty(target, async (url) => {
        const checked = checkRequestPath(url);
        if (!checked.ok) {
          seen.refused++;
          assert.ok([400, 404].includes(checked.status));
          return;
        }
        assert.ok(checked.path.startsWith('/'));
        assertHarmless(checked.path, url);
        // Nor can a service that decodes the path once more find what the agent refuses.
        let again: string | undefined;
        try {
          again = decodeURIComponent(checked.path);
        } catch {
          again = undefined; // a literal "%" in a name
        }
        if (again !== undefined) {
          assertHarmless(again, url);
          assert.equal(
            again.split('/').length,
            checked.path.split('/').length,
            `${url}: a new "/"`,
          );
        }
        const segments = segmentsOf(checked.path);
        if (checked.path.endsWith('/')) segments.push('index.html');
        const found = await resolveInside(root, segments, [root]);
        if (found.kind === 'missing' || found.kind === 'refused') {
          seen.missing++;
          return;
        }
        assert.ok(cleanlyInside(root, found.path), `${url} → ${found.path}`);
        if (found.kind === 'file') {
          const body = readFileSync(found.path, 'utf8');
          assert.ok(!body.includes(SECRET), `${url} reached a secret: ${found.path}`);
          assert.equal(body, files.get(path.relative(root, found.path)), `${url} → ${found.path}`);
          seen.served++;
        }
      }),
      RUNS,
    );
    assert.ok(
      seen.served >= RUNS / 100,
      `only ${seen.served} files served: ${JSON.stringify(seen)}`,
    );
    assert.ok(seen.refused >= RUNS / 10, `only ${seen.refused} refused: ${JSON.stringify(seen)}`);
  });

  test('the agent server answers no target with a secret or a 500', async (t) => {
    const { root } = layout(t);
    const { port } = await startServer(t, {
      runtime: 'static',
      serviceDir: () => root,
      listing: true,
    });
    const statuses = new Map<number, number>();
    await checkProperty(
      t,
      fc.asyncProperty(target, async (url) => {
        // The request line is written as given; a line break would only start a new header line.
        const { status, answer } = await rawGet(port, url.replace(/[\r\n]/g, ''));
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        assert.ok(!answer.includes(SECRET), `${JSON.stringify(url)} answered a secret`);
        assert.ok([200, 301, 400, 404].includes(status), `${JSON.stringify(url)}: ${status}`);
      }),
      SERVER_RUNS,
    );
    const summary = JSON.stringify(Object.fromEntries(statuses));
    assert.ok((statuses.get(200) ?? 0) >= SERVER_RUNS / 100, `too few 200s: ${summary}`);
    assert.ok((statuses.get(400) ?? 0) + (statuses.get(404) ?? 0) >= SERVER_RUNS / 10, summary);
  });
});

const RUNS = 2000;
const SERVER_RUNS = 400;
