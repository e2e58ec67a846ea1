// The pure planners, pinned by golden files: the questions to the git host, the fetch, the cache
// configuration, sparse patterns, tar members, signature verification, prune and rollback plans.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseLsRemote,
  planFetch,
  planRefQueries,
  planRepoConfig,
  planSparsePatterns,
} from '../../data-sync/src/fetch-plan.js';
import {
  withCurrent,
  withPublish,
  withRollback,
  type Journal,
} from '../../data-sync/src/journal.js';
import { planPrune, planRollback, rankVersions } from '../../data-sync/src/prune-plan.js';
import { planMember } from '../../data-sync/src/member-plan.js';
import { planAllowedSigners, planVerify } from '../../data-sync/src/verify.js';
import { fillArgv } from '../../src/lib/placeholders.js';
import { redactCredentials } from '../../data-sync/src/failure.js';
import { tempDir } from '../helpers/tmp.js';
import { assertGolden, goldenDir } from '../helpers/golden.js';

const GOLDEN = goldenDir('data-sync');

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);
const D = 'd'.repeat(40);
const E = 'e'.repeat(40);

describe('fetch planning (golden)', () => {
  test('ref queries: branches first, then tags; none for a pinned SHA', () => {
    assertGolden(GOLDEN, 'ref-queries', {
      main: planRefQueries('main'),
      'refs/heads/release/1': planRefQueries('refs/heads/release/1'),
      'refs/tags/v1': planRefQueries('refs/tags/v1'),
      'refs/pull/1/head': planRefQueries('refs/pull/1/head'),
      [A]: planRefQueries(A) ?? null,
    });
  });

  test('ls-remote output: exact names only, annotated tags peeled', () => {
    const out = [
      `${A}\trefs/heads/feature/main`,
      `${B}\trefs/heads/main`,
      `${C}\trefs/tags/v1`,
      `${D}\trefs/tags/v1^{}`,
      'garbage line',
    ].join('\n');
    assert.deepEqual(parseLsRemote(out, 'refs/heads/main'), {
      ref: 'refs/heads/main',
      object: B,
      commit: B,
    });
    assert.deepEqual(parseLsRemote(out, 'refs/tags/v1'), {
      ref: 'refs/tags/v1',
      object: C,
      commit: D,
    });
    assert.equal(parseLsRemote(out, 'refs/heads/nope'), undefined);
  });

  test('the fetch: one ref, no tags, depth, unshallow, filter', () => {
    assertGolden(GOLDEN, 'fetch', {
      default: planFetch({ depth: 1, filter: undefined }, { ref: 'refs/heads/main' }, false),
      deeper: planFetch({ depth: 50, filter: undefined }, { ref: 'refs/tags/v1' }, true),
      fullFromShallow: planFetch({ depth: 0, filter: undefined }, { ref: 'refs/heads/main' }, true),
      fullFresh: planFetch({ depth: 0, filter: undefined }, { ref: 'refs/heads/main' }, false),
      pinnedPartial: planFetch({ depth: 1, filter: 'blob:none' }, { commit: A }, false),
    });
  });

  test('cache configuration', () => {
    assertGolden(GOLDEN, 'repo-config', {
      plain: planRepoConfig({
        repo: 'https://example.invalid/d.git',
        filter: undefined,
        sparse: undefined,
      }),
      partialSparse: planRepoConfig({
        repo: 'git@example.invalid:d.git',
        filter: 'blob:none',
        sparse: ['a'],
      }),
    });
  });

  test('sparse patterns match what git sparse-checkout --cone writes', (t) => {
    const cases: string[][] = [['a/b', 'c', 'd/e/f', 'a/x'], ['pages'], ['a', 'a/b'], ['x/y/'], []];
    const golden: Record<string, string> = {};
    for (const paths of cases) {
      const ours = planSparsePatterns(paths);
      golden[paths.join(',') || '(none)'] = ours;
      if (!paths.length) continue;
      const repo = tempDir(t);
      execFileSync('git', ['init', '-q', repo]);
      execFileSync('git', ['sparse-checkout', 'set', '--cone', ...paths], { cwd: repo });
      const theirs = readFileSync(path.join(repo, '.git', 'info', 'sparse-checkout'), 'utf8');
      assert.equal(ours, theirs, paths.join(','));
    }
    assertGolden(GOLDEN, 'sparse', golden);
    assert.equal(planSparsePatterns(['we*ird']), '/*\n!/*/\n/we\\*ird/\n');
  });
});

describe('tar member plans (golden)', () => {
  test('names made safe (strip as GNU tar counts, "." dropped); links checked where they land', () => {
    const members: Array<[string, string, string?]> = [
      ['File', 'top/a.txt'],
      ['File', './top/a.txt'],
      ['File', 'top//sub/./b.txt'],
      ['Directory', 'top/'],
      ['Directory', './'],
      ['File', 'top'],
      ['File', '../x'],
      ['File', 'top/../../x'],
      ['File', '/etc/passwd'],
      ['SymbolicLink', 'top/l', 'a.txt'],
      ['SymbolicLink', 'top/up', '../../x'],
      ['SymbolicLink', 'top/sub/up', '../../x'],
      ['SymbolicLink', 'top/abs', '/etc'],
      ['Link', 'top/h', 'top/a.txt'],
      ['Link', 'top/h2', '../a.txt'],
      ['Link', 'top/h3', 'top'],
      ['CharacterDevice', 'top/null'],
      ['FIFO', 'top/fifo'],
      ['ContiguousFile', 'top/c'],
      ['GNUDumpDir', 'top/dump/'],
      ['File', './GNUSparseFile.1234/top/sparse.img'],
    ];
    const plans: Record<string, unknown> = {};
    for (const [strip, into] of [
      [0, '.'],
      [1, '.'],
      [1, 'out'],
    ] as const) {
      for (const [type, name, linkpath] of members) {
        plans[`strip ${strip} into ${into}: ${type} ${name}${linkpath ? ` -> ${linkpath}` : ''}`] =
          planMember({ path: name, type, linkpath }, strip, into);
      }
    }
    assertGolden(GOLDEN, 'tar-members', plans);
  });
});

describe('other plans (golden)', () => {
  test('verify, allowed signers, placeholders, redaction', () => {
    assertGolden(GOLDEN, 'commands', {
      verify: planVerify(A, '/d/allowed_signers'),
      allowedSigners: planAllowedSigners(['  a@x ssh-ed25519 AAAA ', 'b@x ssh-rsa BBBB']),
      placeholders: fillArgv(['x', '{data}/y', '{port}', '{unknown}', '{data}{data}'], {
        data: '/d',
        port: '8080',
      }),
    });
    assert.equal(
      redactCredentials('fatal: https://user:tok3n@example.invalid/x.git and ssh://git@h/x'),
      'fatal: https://***@example.invalid/x.git and ssh://git@h/x',
    );
  });

  test('prune: keep current and `keep` previous, recycle the newest idle, delete the rest', () => {
    let journal: Journal = { published: [] };
    for (const [i, c] of [A, B, C, D, E].entries()) journal = withPublish(journal, c, `t${i}`);
    const view = { versions: [A, B, C, D, E], current: E, journal, keep: 2, spareExists: false };
    assertGolden(GOLDEN, 'prune', {
      ranked: rankVersions([A, B, C, D, E, '0'.repeat(40)], journal),
      keep2: planPrune(view),
      keep2WithSpare: planPrune({ ...view, spareExists: true }),
      servedIsOld: planPrune({ ...view, current: A, keep: 1 }),
      keepMany: planPrune({ ...view, keep: 10 }),
    });
    for (const keep of [1, 2, 3]) {
      for (const current of [A, C, E]) {
        const plan = planPrune({ ...view, current, keep });
        assert.ok(plan.keep.includes(current), 'the served version is always kept');
        assert.ok(!plan.remove.includes(current) && plan.recycle !== current);
        assert.equal(plan.keep.length, keep + 1);
      }
    }
  });

  test('rollback: the previous kept version, skipping rolled-back and deleted ones', () => {
    let journal: Journal = { published: [] };
    for (const c of [A, B, C, D]) journal = withPublish(journal, c, 't');
    const versions = [A, B, C, D];
    assert.equal(planRollback({ versions, current: D, journal }), C);
    assert.equal(planRollback({ versions: [A, B, D], current: D, journal }), B);
    const rolled = withRollback(journal, D, C, 't');
    assert.equal(rolled.held, D);
    assert.equal(planRollback({ versions, current: C, journal: rolled }), B);
    assert.equal(planRollback({ versions, current: A, journal }), undefined);
    // Republishing D after it was rolled back from puts it last again and releases the hold.
    const again = withPublish(rolled, D, 't2');
    assert.equal(again.held, undefined);
    assert.equal(planRollback({ versions, current: D, journal: again }), C);
    // A crash after the swap, before the journal write: current is added back.
    assert.deepEqual(withCurrent({ published: [] }, A, 't').published, [{ commit: A, at: 't' }]);
  });
});
