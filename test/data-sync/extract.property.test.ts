// Property tests of extraction: generated archives (names with "..", absolute names, links out of
// the version, link chains, hard links, long names, deep paths, duplicate names, a link then a file
// through it), extracted by the engine's transforms and checked by its checks, in a version folder
// with a sentinel folder beside it. Whatever the archive: no crash (only an operator's message naming
// the member, the archive or the link), nothing written outside the version, bounded time, and a
// version that passes holds no symlink resolving outside it. Replay: GITSTRAP_TEST_SEED=<seed>.
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { runChecks } from '../../data-sync/src/check.js';
import { execCommand } from '../../data-sync/src/exec.js';
import { SyncFailure } from '../../data-sync/src/failure.js';
import { applyTransforms } from '../../data-sync/src/transform.js';
import { checkProperty } from '../helpers/property.js';
import { tempDir } from '../helpers/tmp.js';
import { dataConfig } from './support.js';
import { makeTar, makeTgz, type TarMember } from './tar-writer.js';

function arbitraries(sentinel: string) {
  // Mostly plain names (so that some archives pass), sometimes ".", "..", "" or a long one.
  const segment = fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom('a', 'b', 'lnk', 'out', 'sentinel') },
    { weight: 1, arbitrary: fc.constantFrom('.', '..', '', 'x'.repeat(120)) },
  );
  const deep = fc.array(fc.constantFrom('d', 'dd'), { minLength: 20, maxLength: 60 });
  const name = fc.oneof(
    {
      weight: 20,
      arbitrary: fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join('/')),
    },
    { weight: 5, arbitrary: fc.constantFrom('a/', 'lnk/', 'lnk/pwned', 'out/pwned', 'a/b/c') },
    { weight: 2, arbitrary: deep.map((s) => s.join('/')) },
    { weight: 1, arbitrary: segment.map((s) => `/${s}`) },
    { weight: 1, arbitrary: segment.map((s) => `${sentinel}/${s}`) },
  );
  const target = fc.oneof(
    fc.constantFrom(
      '../sentinel',
      '../../sentinel',
      sentinel,
      'a',
      'a/b',
      '.',
      '..',
      '../..',
      'lnk/..',
      'lnk/../..',
      'a/../..',
      'sentinel',
      'x'.repeat(130),
    ),
    name,
  );
  const member: fc.Arbitrary<TarMember> = fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record({
        name,
        type: fc.constant('file' as const),
        content: fc.string({ maxLength: 40 }),
      }),
    },
    { weight: 3, arbitrary: fc.record({ name, type: fc.constant('dir' as const) }) },
    {
      weight: 4,
      arbitrary: fc.record({ name, type: fc.constant('symlink' as const), target }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ name, type: fc.constant('hardlink' as const), target: name }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ name, type: fc.constantFrom('fifo' as const, 'chardev' as const) }),
    },
  );
  const archive = fc.record({
    members: fc.array(member, { minLength: 1, maxLength: 8 }),
    gzip: fc.boolean(),
    strip: fc.integer({ min: 0, max: 2 }),
    into: fc.constantFrom('.', 'out', 'a/b', 'lnk'),
  });
  return { archive };
}

/** Every file under `dir` with its content or link target, links not followed. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      const full = path.join(dir, child);
      if (e.isDirectory()) {
        out[`${child}/`] = '';
        walk(child);
      } else if (e.isSymbolicLink()) out[child] = `-> ${readlinkSync(full)}`;
      else out[child] = readFileSync(full, 'utf8');
    }
  };
  walk('');
  return out;
}

/** The symlinks under `dir` (relative paths), not followed. */
function symlinks(dir: string, rel = ''): string[] {
  return readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) => {
    const child = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) return symlinks(dir, child);
    return e.isSymbolicLink() ? [child] : [];
  });
}

const OPERATOR_MESSAGE =
  /^(transform \d \(extract x\d\.tar(\.gz)?\): (member "|into "|the archive|\S+ leads outside the data folder)|the new version has (a symlink that leads outside it|".*", which is not a file))/;

/** Runs one generated case; returns how it ended. Asserts everything the property promises. */
async function runCase(
  base: string,
  archives: Array<{ members: TarMember[]; gzip: boolean; strip: number; into: string }>,
  preexisting: Array<[string, string]>,
): Promise<'published' | 'refused'> {
  const sentinel = path.join(base, 'sentinel');
  const version = path.join(base, 'version');
  const staging = path.join(base, 'staging');
  mkdirSync(sentinel);
  writeFileSync(path.join(sentinel, 'keep.txt'), 'keep');
  mkdirSync(path.join(sentinel, 'a'));
  mkdirSync(version);
  mkdirSync(staging);
  for (const [link, target] of preexisting) symlinkSync(target, path.join(version, link));
  const transforms = archives.map((a, i) => {
    const file = `x${i}.tar${a.gzip ? '.gz' : ''}`;
    writeFileSync(path.join(version, file), a.gzip ? makeTgz(a.members) : makeTar(a.members));
    return { extract: file, strip: a.strip, into: a.into };
  });
  const before = snapshot(sentinel);
  const ctx = { root: version, exec: execCommand, placeholders: {}, env: process.env };
  const started = Date.now();
  let outcome: 'published' | 'refused' = 'published';
  try {
    const config = dataConfig({ repo: 'https://example.invalid/d.git', transform: transforms });
    await applyTransforms(config.transform, ctx, {
      scratch: staging,
      limits: { maxBytes: 1024 * 1024, maxFiles: 200, maxBytesText: '1mb' },
    });
    await runChecks([], ctx);
  } catch (error) {
    assert.ok(error instanceof SyncFailure, `not an operator's message: ${String(error)}`);
    assert.match(error.message, OPERATOR_MESSAGE);
    assert.doesNotMatch(error.message, /\n\s+at /, 'no stack trace');
    outcome = 'refused';
  }
  assert.ok(Date.now() - started < 5000, 'bounded time');
  assert.deepEqual(snapshot(sentinel), before, 'nothing written beside the version');
  assert.deepEqual(readdirSync(base).sort(), ['sentinel', 'staging', 'version']);
  assert.deepEqual(readdirSync(staging), [], 'extraction folders removed');
  if (outcome === 'published') {
    const realVersion = realpathSync(version);
    for (const link of symlinks(version)) {
      let resolved: string;
      try {
        resolved = realpathSync(path.join(version, link));
      } catch {
        continue; // dangling: leads nowhere
      }
      assert.ok(
        resolved === realVersion || resolved.startsWith(realVersion + path.sep),
        `${link} -> ${readlinkSync(path.join(version, link))} resolves to ${resolved}`,
      );
    }
    for (const entry of Object.keys(snapshot(version))) {
      const stat = lstatSync(path.join(version, entry));
      assert.ok(stat.isFile() || stat.isDirectory() || stat.isSymbolicLink(), entry);
    }
  }
  return outcome;
}

describe('extraction properties (fast-check)', () => {
  test('generated archives, one or two in a row: published cleanly or refused by name; nothing escapes', async (t) => {
    const root = tempDir(t, 'gitstrap-prop-');
    let n = 0;
    const outcomes = { published: 0, refused: 0 };
    // The sentinel's absolute path is generated per case (each case has its own folder).
    const { archive } = arbitraries(path.join(root, '{case}', 'sentinel'));
    await checkProperty(
      t,
      fc.asyncProperty(fc.array(archive, { minLength: 1, maxLength: 2 }), async (archives) => {
        n += 1;
        const base = path.join(root, String(n));
        mkdirSync(base);
        const fix = (s: string | undefined) => s?.replaceAll(`${root}/{case}`, `${root}/${n}`);
        const concrete = archives.map((a) => ({
          ...a,
          members: a.members.map((m) => ({ ...m, name: fix(m.name)!, target: fix(m.target) })),
        }));
        outcomes[await runCase(base, concrete, [])] += 1;
      }),
      100,
    );
    t.diagnostic(`${outcomes.published} published, ${outcomes.refused} refused`);
    assert.ok(outcomes.published >= 5 && outcomes.refused >= 5, 'both outcomes were exercised');
  });

  test('a version that already has links (committed ones, in and out): nothing is written through them', async (t) => {
    const root = tempDir(t, 'gitstrap-prop-');
    let n = 0;
    const { archive } = arbitraries(path.join(root, 'elsewhere'));
    const preexisting = fc.subarray<[string, string]>(
      [
        ['lnk', '../sentinel'],
        ['out', 'a'],
        ['a', '../sentinel/a'],
      ],
      { minLength: 1 },
    );
    await checkProperty(
      t,
      fc.asyncProperty(archive, preexisting, async (a, links) => {
        n += 1;
        const base = path.join(root, String(n));
        mkdirSync(base);
        await runCase(base, [a], links);
      }),
      60,
    );
  });
});
