// The one rule for paths under a root (served files, data checks and transforms): "..", absolute
// paths, symlinks out and in, dangling symlinks, NUL, dot-named entries, several allowed roots.
import assert from 'node:assert/strict';
import { mkdirSync, realpathSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { isInside, resolveInside } from '../../src/lib/resolve-inside.js';
import { writeFiles } from '../helpers/git.js';
import { tempDir } from '../helpers/tmp.js';

/** root/ with a file, a folder, a dotfile, links in, out and dangling; other/ beside it. */
function layout(t: Pick<TestContext, 'after'>): { root: string; other: string } {
  const base = realpathSync(tempDir(t, 'gitstrap-inside-'));
  const root = path.join(base, 'root');
  const other = path.join(base, 'other');
  writeFiles(root, { 'a/b.txt': 'b', '.env': 'secret', '.d/x.txt': 'x' });
  writeFiles(other, { 'o.txt': 'o' });
  symlinkSync('a/b.txt', path.join(root, 'in'));
  symlinkSync('../other', path.join(root, 'out'));
  symlinkSync('.env', path.join(root, 'to-dot'));
  symlinkSync('nowhere/x', path.join(root, 'dangling'));
  mkdirSync(path.join(root, 'empty'));
  return { root, other };
}

const WRITE = { dotFree: false, forWriting: true } as const;

describe('resolveInside', () => {
  test('a file, a folder and a link that stays inside resolve to their real paths', async (t) => {
    const { root } = layout(t);
    const file = await resolveInside(root, ['a', 'b.txt'], [root]);
    assert.equal(file.kind, 'file');
    assert.equal(file.kind === 'file' && file.path, path.join(root, 'a/b.txt'));
    assert.equal((await resolveInside(root, ['a'], [root])).kind, 'dir');
    const link = await resolveInside(root, ['in']);
    assert.deepEqual([link.kind, link.path], ['file', path.join(root, 'a/b.txt')]);
  });

  test('"..", an absolute path and a link out are refused, for reading and for writing', async (t) => {
    const { root, other } = layout(t);
    for (const options of [{}, WRITE]) {
      for (const rel of ['../other/o.txt', 'a/../../other', other, '/etc/passwd', 'out/o.txt']) {
        const found = await resolveInside(root, [rel], undefined, options);
        assert.equal(found.kind, 'refused', `${rel} ${JSON.stringify(options)}`);
      }
    }
    // ".." that stays inside is fine.
    assert.equal((await resolveInside(root, ['a/../a/b.txt'], undefined, WRITE)).kind, 'file');
  });

  test('a link out passes when its target is another allowed root (the data mount)', async (t) => {
    const { root, other } = layout(t);
    const found = await resolveInside(root, ['out', 'o.txt'], [root, other]);
    assert.deepEqual([found.kind, found.path], ['file', path.join(other, 'o.txt')]);
  });

  test('dot-named entries are refused unless dotFree is false', async (t) => {
    const { root } = layout(t);
    for (const rel of [['.env'], ['.d', 'x.txt'], ['to-dot']]) {
      assert.equal((await resolveInside(root, rel, [root])).kind, 'refused', rel.join('/'));
      assert.equal((await resolveInside(root, rel, [root], WRITE)).kind, 'file', rel.join('/'));
    }
  });

  test('for reading, a missing path is missing; for writing, its deepest existing part decides', async (t) => {
    const { root } = layout(t);
    assert.equal((await resolveInside(root, ['out', 'new.txt'], [root])).kind, 'missing');
    assert.equal((await resolveInside(root, ['dangling'], [root])).kind, 'missing');
    const fresh = await resolveInside(root, ['empty/new/deeper.txt'], undefined, WRITE);
    assert.deepEqual(
      [fresh.kind, fresh.path],
      ['missing', path.join(root, 'empty/new/deeper.txt')],
    );
    // Writing through a link out, or a dangling link, would land outside (or anywhere).
    assert.equal((await resolveInside(root, ['out/new.txt'], undefined, WRITE)).kind, 'refused');
    assert.equal((await resolveInside(root, ['dangling'], undefined, WRITE)).kind, 'refused');
    assert.equal((await resolveInside(root, ['dangling/y'], undefined, WRITE)).kind, 'refused');
    // Below a file ("not a directory"): nothing escapes, so it passes (the write itself fails).
    assert.equal((await resolveInside(root, ['a/b.txt/c'], undefined, WRITE)).kind, 'missing');
  });

  test('a NUL is missing for reading and refused for writing; a missing root is refused', async (t) => {
    const { root } = layout(t);
    assert.equal((await resolveInside(root, ['a\0b'], [root])).kind, 'missing');
    assert.equal((await resolveInside(root, ['a\0b'], undefined, WRITE)).kind, 'refused');
    const gone = path.join(root, 'no-such-folder');
    assert.equal((await resolveInside(gone, ['x'], undefined, WRITE)).kind, 'refused');
  });
});

describe('isInside', () => {
  test('the root itself and below it; not a sibling with the same prefix', () => {
    assert.equal(isInside('/r', '/r'), true);
    assert.equal(isInside('/r', '/r/a/b'), true);
    assert.equal(isInside('/r', '/rx/a'), false);
    assert.equal(isInside('/r', '/'), false);
    assert.equal(isInside('/r', '/r/.git/x'), true);
    assert.equal(isInside('/r', '/r/.git/x', true), false);
    assert.equal(isInside('/r', '/r/a/..b', true), false);
  });
});
