// The pure planners of `bootstrap publish`, pinned by golden files: the inverse of the shipped
// recipes' transforms, the data repo's tree for a folder, archive member times, the history kept,
// the push; and the deterministic tar writer read back by the library the agents extract with.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { indexArchive, type ArchiveIndex } from '../../src/publish/archive-index.js';
import { PublishError } from '../../src/publish/errors.js';
import { branchOf, planPush, planTipFetch, planTipQuery } from '../../src/publish/git-plan.js';
import {
  identityEnv,
  parseCommit,
  planHistory,
  type CommitInfo,
} from '../../src/publish/history-plan.js';
import { planMembers } from '../../src/publish/mtime-plan.js';
import { planPacking } from '../../src/publish/packing-plan.js';
import { trailer } from '../../src/publish/publish.js';
import {
  describeTree,
  planSnapshot,
  type Entry,
  type Tree,
} from '../../src/publish/snapshot-plan.js';
import { gzipDeterministic, writeTar } from '../../src/publish/tar-writer.js';
import { data as dataSchema } from '../../src/recipe/schema.js';
import { assertGolden, goldenDir } from '../helpers/golden.js';
import { projectRoot } from '../helpers/tools.js';

const GOLDEN = goldenDir('publish');

const file = (sha: string, exec = false) => ({
  kind: 'file' as const,
  exec,
  size: 1,
  sha256: sha.repeat(64).slice(0, 64),
  source: `/folder/${sha}`,
});
const dir = { kind: 'dir' as const };

/** A folder as the QA server leaves it. */
function qaFolder(): Tree {
  return new Map<string, Entry>([
    ['this_date_test_list_2024-05-01.lst', file('a')],
    ['open_qa_smoke_UID_1.cache', file('b')],
    ['logs', dir],
    ['logs/run.sh', file('c', true)],
    ['logs/latest', { kind: 'symlink' as const, target: 'run.sh' }],
  ]);
}

function shippedData(name: string) {
  const recipe = parse(readFileSync(path.join(projectRoot, 'recipes', `${name}.yaml`), 'utf8')) as {
    data: unknown;
  };
  return dataSchema.parse(recipe.data);
}

function refusal(work: () => unknown): PublishError {
  try {
    work();
  } catch (error) {
    assert.ok(error instanceof PublishError, `expected a PublishError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a refusal');
}

describe('packing: the inverse of data.transform', () => {
  test('open-qa: the folder goes into cache_storage_for_open_qa.tar.gz under cache_storage_for_open_qa/ (strip: 1)', () => {
    const data = shippedData('open-qa');
    const steps = planPacking(data);
    assertGolden(GOLDEN, 'packing-open-qa', steps);
    assertGolden(GOLDEN, 'snapshot-open-qa', describeTree(planSnapshot(qaFolder(), steps)));
  });

  test('extract into a folder, copy and move are undone in reverse order', () => {
    const data = dataSchema.parse({
      repo: '/x',
      mount: 'data',
      transform: [
        { extract: 'results.tar', into: 'results', strip: 2 },
        { copy: { from: 'results/summary.json', to: 'summary.json' } },
        { move: { from: 'raw', to: 'archive/raw' } },
      ],
    });
    const folder: Tree = new Map<string, Entry>([
      ['results', dir],
      ['results/summary.json', file('s')],
      ['results/day.json', file('d')],
      ['summary.json', file('s')],
      ['archive', dir],
      ['archive/raw', dir],
      ['archive/raw/1.log', file('l')],
      ['README', file('r')],
    ]);
    const steps = planPacking(data);
    assertGolden(GOLDEN, 'snapshot-mixed', {
      steps,
      tree: describeTree(planSnapshot(folder, steps)),
    });
  });

  test('run transforms and sparse checkouts are refused with the key and what to do', () => {
    const run = refusal(() =>
      planPacking(dataSchema.parse({ repo: '/x', mount: 'd', transform: [{ run: ['make'] }] })),
    );
    assert.equal(run.key, 'data.transform[0]');
    assert.match(run.message, /^data\.transform\[0\] \(run make\) cannot be inverted/);
    assert.match(run.hint ?? '', /extract, copy and move/);
    const sparse = refusal(() =>
      planPacking(dataSchema.parse({ repo: '/x', mount: 'd', sparse: ['a'] })),
    );
    assert.equal(sparse.key, 'data.sparse');
  });

  test('a folder the transforms could not have made is refused, naming the paths', () => {
    const copy = planPacking(
      dataSchema.parse({ repo: '/x', mount: 'd', transform: [{ copy: { from: 'a', to: 'b' } }] }),
    );
    const differs = refusal(() =>
      planSnapshot(
        new Map<string, Entry>([
          ['a', file('1')],
          ['b', file('2')],
        ]),
        copy,
      ),
    );
    assert.match(
      differs.message,
      /^b differs from a, but data\.transform\[0\] \(copy a to b\) makes them equal/,
    );
    const move = planPacking(
      dataSchema.parse({ repo: '/x', mount: 'd', transform: [{ move: { from: 'a', to: 'b' } }] }),
    );
    assert.match(
      refusal(() =>
        planSnapshot(
          new Map<string, Entry>([
            ['a', file('1')],
            ['b', file('1')],
          ]),
          move,
        ),
      ).message,
      /the folder has a, which data\.transform\[0\] \(move a to b\) takes away/,
    );
    const extract = planPacking(
      dataSchema.parse({
        repo: '/x',
        mount: 'd',
        transform: [{ extract: 'in/data.tgz', into: 'out' }],
      }),
    );
    assert.match(
      refusal(() =>
        planSnapshot(
          new Map<string, Entry>([
            ['in', dir],
            ['in/data.tgz', file('1')],
            ['out', dir],
          ]),
          extract,
        ),
      ).message,
      /the folder has a file in\/data\.tgz, where data\.transform\[0\] reads its archive/,
    );
  });
});

describe('archive members: times carried over when the content is the same', () => {
  test('unchanged members keep their time, changed and new ones get the publish time, folders the newest beneath', () => {
    const members: Tree = new Map<string, Entry>([
      ['same.txt', file('a')],
      ['changed.txt', file('b')],
      ['new.txt', file('c')],
      ['sub', dir],
      ['sub/same.txt', file('d')],
      ['empty', dir],
      ['link', { kind: 'symlink' as const, target: 'same.txt' }],
    ]);
    const previous: ArchiveIndex = new Map([
      [
        'top/same.txt',
        { kind: 'file' as const, sha256: file('a').sha256, exec: false, mtime: 100 },
      ],
      [
        'top/changed.txt',
        { kind: 'file' as const, sha256: file('x').sha256, exec: false, mtime: 100 },
      ],
      [
        'top/sub/same.txt',
        { kind: 'file' as const, sha256: file('d').sha256, exec: false, mtime: 50 },
      ],
      ['top/empty', { kind: 'dir' as const, mtime: 70 }],
      ['top/link', { kind: 'symlink' as const, target: 'same.txt', mtime: 60 }],
    ]);
    const planned = planMembers(members, ['top'], previous, 999);
    assertGolden(
      GOLDEN,
      'member-times',
      planned.map((m) => `${m.kind} ${m.name} ${m.mtime}`),
    );
    // The same folder over the archive it made: every time carried, so the same bytes.
    const again = planMembers(
      members,
      ['top'],
      new Map(
        planned.map((m) => [
          m.name,
          { kind: m.kind, sha256: m.file?.sha256, exec: m.exec, target: m.target, mtime: m.mtime },
        ]),
      ),
      2000,
    );
    assert.deepEqual(again, planned);
  });
});

describe('history: publish.keep_history', () => {
  const commit = (n: number, parents: number[]): CommitInfo => ({
    sha: String(n).repeat(40).slice(0, 40),
    tree: `t${n}`.padEnd(40, '0'),
    parents: parents.map((p) => String(p).repeat(40).slice(0, 40)),
    author: `QA Server <qa@example.invalid> ${1_700_000_000 + n} +0100`,
    committer: `QA Server <qa@example.invalid> ${1_700_000_000 + n} +0100`,
    message: `results ${n}\n`,
  });

  test('kept under the limit, trimmed past it: the newest K-1 re-created on a new root', () => {
    const chain = [commit(5, [4]), commit(4, [3]), commit(3, [2])];
    assertGolden(GOLDEN, 'history', {
      keepAll: planHistory(chain, 0, false),
      underLimit: planHistory([commit(1, [])], 3, true),
      atLimit: planHistory(chain, 3, false),
      one: planHistory(chain, 1, false),
      firstPublish: planHistory([], 3, true),
    });
  });

  test('commit objects are parsed, signatures dropped, identities kept with their dates', () => {
    const raw =
      'tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nparent 1111111111111111111111111111111111111111\n' +
      'author QA Server <qa@example.invalid> 1700000000 +0100\ncommitter Pub <p@example.invalid> 1700000001 -0500\n' +
      'gpgsig -----BEGIN SSH SIGNATURE-----\n U1NIU0lH\n -----END SSH SIGNATURE-----\n\nresults of the night\n\nmore\n';
    const c = parseCommit('2'.repeat(40), raw);
    assert.equal(c.tree, '4b825dc642cb6eb9a060e54bf8d69288fbee4904');
    assert.deepEqual(c.parents, ['1'.repeat(40)]);
    assert.equal(c.message, 'results of the night\n\nmore\n');
    assert.deepEqual(identityEnv('COMMITTER', c.committer), {
      GIT_COMMITTER_NAME: 'Pub',
      GIT_COMMITTER_EMAIL: 'p@example.invalid',
      GIT_COMMITTER_DATE: '1700000001 -0500',
    });
  });
});

describe('git: the branch, the tip, the push with a lease', () => {
  test('the commands, pinned', () => {
    const tip = 'a'.repeat(40);
    assertGolden(GOLDEN, 'git-commands', {
      tipQuery: planTipQuery('master'),
      tipFetchAll: planTipFetch(tip, 0),
      tipFetchKeep30: planTipFetch(tip, 30),
      push: planPush('master', 'b'.repeat(40), tip),
      firstPush: planPush('main', 'b'.repeat(40), undefined),
    });
  });

  test('data.ref must name a branch', () => {
    assert.equal(branchOf('refs/heads/live'), 'live');
    for (const ref of ['v1.0'.replace('v1.0', 'refs/tags/v1'), 'c'.repeat(40), 'refs/notes/x']) {
      const e = refusal(() => branchOf(ref));
      assert.equal(e.key, 'data.ref');
    }
  });

  test('the snapshot trailer is read back from a message', () => {
    assert.equal(trailer('Publish x\n\nGitstrap-Snapshot: sha256:abc\n'), 'sha256:abc');
    assert.equal(trailer('Publish x\n'), undefined);
  });
});

describe('the tar writer', () => {
  test("the same members give the same bytes; long names survive (pax), as the agents' tar reader reads them", async () => {
    const long = `deep/${'n'.repeat(120)}/${'f'.repeat(110)}.json`;
    const members = [
      { name: 'top', kind: 'dir' as const, mtime: 10 },
      { name: 'top/a.txt', kind: 'file' as const, mtime: 11, data: Buffer.from('hello\n') },
      {
        name: 'top/run.sh',
        kind: 'file' as const,
        mtime: 12,
        exec: true,
        data: Buffer.from('#!/bin/sh\n'),
      },
      { name: `top/${long}`, kind: 'file' as const, mtime: 13, data: Buffer.from('{}') },
      { name: 'top/link', kind: 'symlink' as const, mtime: 14, target: 'a.txt' },
    ];
    const one = gzipDeterministic(writeTar(members));
    const two = gzipDeterministic(writeTar(members));
    assert.ok(one.equals(two), 'the same members, the same bytes');
    assert.equal(writeTar(members).length % 10240, 0, 'whole 10 KiB records, as GNU tar writes');
    const index = await indexArchive(one, 1 << 20);
    assert.deepEqual(
      [...index].map(([name, m]) => [
        name,
        m.kind,
        m.mtime,
        m.exec ?? null,
        m.target?.length ?? null,
      ]),
      [
        ['top', 'dir', 10, null, null],
        ['top/a.txt', 'file', 11, false, null],
        ['top/run.sh', 'file', 12, true, null],
        [`top/${long}`, 'file', 13, false, null],
        ['top/link', 'symlink', 14, null, 5],
      ],
    );
  });
});
