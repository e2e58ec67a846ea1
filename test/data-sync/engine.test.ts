// The engine against a real git daemon on 127.0.0.1: first publish, unchanged, small change,
// reuse of idle folders, keep/prune, rollback, pins, tags, depth, sparse, partial clone, gitEnv.
import { existsSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { acquireSyncLock, dataLayout } from '../../data-sync/src/index.js';
import { silentLogger } from '../../src/lib/log.js';
import { commitFiles, git } from '../helpers/git.js';
import {
  assertTree,
  dataConfig,
  filesAt,
  gitSubcommands,
  makeEngine,
  servedCommit,
  startRemote,
  versionsIn,
} from './support.js';

const FILES = {
  'index.json': '{"ok":true}\n',
  'pages/a.html': '<p>a</p>\n',
  'pages/b.html': '<p>b</p>\n',
  'big/keep.txt': 'unchanged\n'.repeat(1000),
};

describe('data sync engine', () => {
  test('onSwap runs the moment current moves, before the publish is logged, pruned or notified', async (t) => {
    const remote = await startRemote(t, FILES);
    const seen: Array<{ commit: string; served: string; logged: boolean }> = [];
    const engine = makeEngine(t, dataConfig({ repo: remote.url }), {
      onSwap: (commit) =>
        seen.push({
          commit,
          served: readlinkSync(path.join(engine.dir, 'current')),
          logged: engine.logger.entries.some((e) => e.event === 'data.published'),
        }),
    });
    const first = await engine.sync.sync('startup');
    assert.equal(first.outcome, 'published', first.error);
    assert.deepEqual(seen, [
      { commit: remote.first, served: `versions/${remote.first}`, logged: false },
    ]);
  });

  test('publishes the first version, then reports unchanged without fetching', async (t) => {
    const remote = await startRemote(t, FILES);
    const { sync, dir, exec, logger } = makeEngine(t, dataConfig({ repo: remote.url }));

    const first = await sync.sync('startup');
    assert.equal(first.outcome, 'published', first.error);
    assert.equal(first.commit, remote.first);
    assert.equal(first.previous, undefined);
    assert.equal(readlinkSync(path.join(dir, 'current')), `versions/${remote.first}`);
    assertTree(path.join(dir, 'current'), filesAt(remote.work, remote.first));
    assert.deepEqual(sync.current(), {
      commit: remote.first,
      dir: path.join(dir, 'versions', remote.first),
    });
    assert.ok(
      logger.entries.some((e) => e.event === 'data.published' && e.commit === remote.first),
    );

    exec.calls.length = 0;
    const again = await sync.sync('schedule');
    assert.equal(again.outcome, 'unchanged');
    assert.equal(again.commit, remote.first);
    assert.deepEqual(
      gitSubcommands(exec.calls),
      ['ls-remote'],
      'one question, no fetch, no checkout',
    );
    assert.deepEqual(versionsIn(dir), [remote.first]);
    assert.deepEqual(
      sync.history().map((r) => r.outcome),
      ['unchanged', 'published'],
    );
    assert.deepEqual(sync.health(), {
      healthy: true,
      consecutiveFailures: 0,
      lastSuccessAt: again.finishedAt,
    });
  });

  test('fetches one ref, shallow, without tags', async (t) => {
    const remote = await startRemote(t, FILES);
    for (let i = 0; i < 5; i++) {
      commitFiles(remote.work, { 'n.txt': String(i) });
      git(remote.work, 'tag', `v${i}`);
    }
    git(remote.work, 'branch', 'other');
    const { sync, dir, exec } = makeEngine(t, dataConfig({ repo: remote.url }));
    assert.equal((await sync.sync('manual')).outcome, 'published');
    const fetch = exec.calls.find((c) => c.includes('fetch'))!;
    assert.ok(fetch.includes('--no-tags') && fetch.includes('--depth=1'), fetch.join(' '));
    const repo = path.join(dir, 'repo.git');
    assert.equal(git(repo, 'tag', '--list'), '');
    assert.equal(git(repo, 'for-each-ref', '--format=%(refname)'), 'refs/gitstrap/fetched');
    assert.equal(git(repo, 'rev-list', '--count', 'refs/gitstrap/fetched'), '1');
  });

  test('a small change is built in a recycled folder: only changed files are written', async (t) => {
    const remote = await startRemote(t, FILES);
    const { sync, dir } = makeEngine(t, dataConfig({ repo: remote.url, keep: 1 }));
    const commits = [remote.first];
    assert.equal((await sync.sync('manual')).outcome, 'published');
    for (let i = 2; i <= 3; i++) {
      commits.push(commitFiles(remote.work, { 'pages/a.html': `<p>a${i}</p>\n` }));
      const r = await sync.sync('manual');
      assert.equal(r.outcome, 'published', r.error);
      assert.equal(r.reusedFolder, false, 'no idle folder yet: a full checkout');
    }
    // keep: 1 -> current and one previous stay; the oldest became the folder the next build reuses.
    assert.deepEqual(versionsIn(dir), [commits[1], commits[2]].sort());
    const spare = path.join(dir, 'staging', 'next');
    const inode = statSync(path.join(spare, 'big/keep.txt')).ino;

    commits.push(
      commitFiles(remote.work, { 'pages/b.html': '<p>b4</p>\n', 'pages/new.html': 'new\n' }),
    );
    git(remote.work, 'rm', '-q', 'pages/a.html');
    git(remote.work, 'commit', '-q', '-m', 'remove a');
    const c5 = git(remote.work, 'rev-parse', 'HEAD');
    const r = await sync.sync('manual');
    assert.equal(r.outcome, 'published', r.error);
    assert.equal(r.commit, c5);
    assert.equal(r.reusedFolder, true);
    assert.ok(typeof r.servedAfterMs === 'number' && r.servedAfterMs <= r.durationMs);
    const served = path.join(dir, 'versions', c5);
    assertTree(served, filesAt(remote.work, c5));
    assert.equal(
      statSync(path.join(served, 'big/keep.txt')).ino,
      inode,
      'unchanged file not rewritten',
    );
    assert.deepEqual(versionsIn(dir), [commits[2], c5].sort());
    assert.ok(
      existsSync(path.join(dir, 'indexes', `${c5}.index`)),
      'index kept outside the folder',
    );
  });

  test('keeps `keep` previous versions and never deletes the one served', async (t) => {
    const remote = await startRemote(t, FILES);
    const { sync, dir } = makeEngine(t, dataConfig({ repo: remote.url, keep: 2 }));
    const commits = [remote.first];
    await sync.sync('manual');
    for (let i = 0; i < 5; i++) {
      commits.push(commitFiles(remote.work, { 'n.txt': String(i) }));
      assert.equal((await sync.sync('manual')).outcome, 'published');
      const served = servedCommit(dir)!;
      assert.equal(served, commits.at(-1));
      assert.ok(versionsIn(dir).includes(served));
      assert.ok(versionsIn(dir).length <= 3);
    }
    assert.deepEqual(versionsIn(dir), commits.slice(-3).sort());
    assert.deepEqual(
      JSON.parse(readFileSync(path.join(dir, 'journal.json'), 'utf8'))
        .published.slice(-3)
        .map((e: { commit: string }) => e.commit),
      commits.slice(-3),
    );
  });

  test('rollback points current at the previous version and holds until a new commit', async (t) => {
    const remote = await startRemote(t, FILES);
    const { sync, dir } = makeEngine(t, dataConfig({ repo: remote.url }));
    await sync.sync('manual');
    const second = commitFiles(remote.work, { 'index.json': '{"v":2}\n' });
    await sync.sync('manual');
    const third = commitFiles(remote.work, { 'index.json': '{"v":3}\n' });
    await sync.sync('manual');
    assert.equal(servedCommit(dir), third);

    const back = await sync.rollback();
    assert.equal(back.outcome, 'rolled-back', back.error);
    assert.equal(back.commit, second);
    assert.equal(back.previous, third);
    assertTree(path.join(dir, 'current'), filesAt(remote.work, second));

    const held = await sync.sync('schedule');
    assert.equal(held.outcome, 'unchanged');
    assert.match(held.note ?? '', /rolled back/);
    assert.equal(servedCommit(dir), second);

    const again = await sync.rollback();
    assert.equal(again.commit, remote.first, 'a second rollback goes one further back');

    const fourth = commitFiles(remote.work, { 'index.json': '{"v":4}\n' });
    const moved = await sync.sync('schedule');
    assert.equal(moved.outcome, 'published');
    assert.equal(moved.commit, fourth);
  });

  test('rollback with nothing to go back to fails clearly and changes nothing', async (t) => {
    const remote = await startRemote(t, FILES);
    const { sync, dir } = makeEngine(t, dataConfig({ repo: remote.url }));
    const none = await sync.rollback();
    assert.equal(none.outcome, 'failed');
    assert.equal(none.phase, 'rollback');
    assert.match(none.error ?? '', /nothing to roll back/);
    await sync.sync('manual');
    const only = await sync.rollback();
    assert.equal(only.outcome, 'failed');
    assert.match(only.error ?? '', /no earlier version is kept/);
    assert.equal(servedCommit(dir), remote.first);
  });

  test('a full SHA pins the data: no question to the host once it is served', async (t) => {
    const remote = await startRemote(t, FILES);
    const pinned = remote.first;
    commitFiles(remote.work, { 'index.json': '{"later":true}\n' });
    const { sync, dir, exec } = makeEngine(t, dataConfig({ repo: remote.url, ref: pinned }));
    const r = await sync.sync('manual');
    assert.equal(r.outcome, 'published', r.error);
    assert.equal(servedCommit(dir), pinned);
    assertTree(path.join(dir, 'current'), filesAt(remote.work, pinned));
    exec.calls.length = 0;
    assert.equal((await sync.sync('manual')).outcome, 'unchanged');
    assert.deepEqual(gitSubcommands(exec.calls), []);
  });

  test('follows a tag (annotated tags are peeled to their commit)', async (t) => {
    const remote = await startRemote(t, FILES);
    git(remote.work, 'tag', '-a', 'release', '-m', 'release');
    commitFiles(remote.work, { 'index.json': '{"after":1}\n' });
    const { sync, dir } = makeEngine(t, dataConfig({ repo: remote.url, ref: 'release' }));
    const r = await sync.sync('manual');
    assert.equal(r.outcome, 'published', r.error);
    assert.equal(servedCommit(dir), remote.first);
    assert.equal((await sync.sync('manual')).outcome, 'unchanged');
  });

  test('an unknown ref fails in fetch and says which', async (t) => {
    const remote = await startRemote(t, FILES);
    const { sync } = makeEngine(t, dataConfig({ repo: remote.url, ref: 'nope' }));
    const r = await sync.sync('manual');
    assert.equal(r.outcome, 'failed');
    assert.equal(r.phase, 'fetch');
    assert.match(r.error ?? '', /no branch or tag named nope/);
  });

  test('depth 0 fetches the full history', async (t) => {
    const remote = await startRemote(t, FILES);
    for (let i = 0; i < 3; i++) commitFiles(remote.work, { 'n.txt': String(i) });
    const { sync, dir } = makeEngine(t, dataConfig({ repo: remote.url, depth: 0 }));
    assert.equal((await sync.sync('manual')).outcome, 'published');
    const repo = path.join(dir, 'repo.git');
    assert.equal(git(repo, 'rev-list', '--count', 'refs/gitstrap/fetched'), '4');
    assert.equal(existsSync(path.join(repo, 'shallow')), false);
  });

  test('sparse paths check out only those folders; switching sparse off restores everything', async (t) => {
    const remote = await startRemote(t, {
      ...FILES,
      'deep/x/y/z.txt': 'z\n',
      'deep/x/other.txt': 'o\n',
    });
    const state = makeEngine(
      t,
      dataConfig({ repo: remote.url, sparse: ['pages', 'deep/x/y'], keep: 1 }),
    );
    assert.equal((await state.sync.sync('manual')).outcome, 'published');
    const all = filesAt(remote.work, remote.first);
    // Cone mode: the named folders in full, plus the files directly inside their parents.
    const dirOf = (n: string) => path.posix.dirname(n);
    const want = new Map(
      [...all].filter(
        ([n]) =>
          n.startsWith('pages/') ||
          n.startsWith('deep/x/y/') ||
          ['.', 'deep', 'deep/x'].includes(dirOf(n)),
      ),
    );
    assert.ok(!want.has('big/keep.txt') && want.has('deep/x/other.txt'));
    assertTree(path.join(state.dir, 'current'), want);

    // Same folder, sparse removed: the next builds (reusing folders) must hold every file again.
    const full = makeEngine(t, dataConfig({ repo: remote.url, keep: 1 }), { dir: state.dir });
    for (let i = 0; i < 3; i++) {
      const c = commitFiles(remote.work, { 'n.txt': String(i) });
      assert.equal((await full.sync.sync('manual')).outcome, 'published');
      assertTree(path.join(state.dir, 'current'), filesAt(remote.work, c));
    }
  });

  test('filter blob:none with sparse paths fetches only the blobs it checks out', async (t) => {
    const remote = await startRemote(t, {
      'pages/a.html': 'a\n',
      'other/big.bin': 'x'.repeat(50_000),
    });
    const { sync, dir } = makeEngine(
      t,
      dataConfig({ repo: remote.url, filter: 'blob:none', sparse: ['pages'] }),
    );
    const r = await sync.sync('manual');
    assert.equal(r.outcome, 'published', r.error);
    assertTree(path.join(dir, 'current'), new Map([['pages/a.html', 'a\n']]));
    const repo = path.join(dir, 'repo.git');
    const bigBlob = git(remote.work, 'rev-parse', 'HEAD:other/big.bin');
    const aBlob = git(remote.work, 'rev-parse', 'HEAD:pages/a.html');
    assert.equal(git(repo, 'cat-file', '-t', aBlob), 'blob');
    const missing = git(repo, 'rev-list', '--objects', '--missing=print', 'refs/gitstrap/fetched');
    assert.match(
      missing,
      new RegExp(`^\\?${bigBlob}$`, 'm'),
      'the blob outside the sparse paths was not fetched',
    );
  });

  test('passes gitEnv to git and never logs it', async (t) => {
    const remote = await startRemote(t, FILES);
    const traceDir = path.dirname(remote.base);
    const trace = path.join(remote.base, 'trace.log');
    const { sync, logger } = makeEngine(t, dataConfig({ repo: remote.url, ref: 'missing-ref' }), {
      gitEnv: { GIT_TRACE: trace, GITSTRAP_TEST_SECRET: 'hunter2-secret' },
    });
    const r = await sync.sync('manual');
    assert.equal(r.outcome, 'failed');
    assert.ok(existsSync(trace), `git ran with gitEnv (trace in ${traceDir})`);
    assert.doesNotMatch(JSON.stringify(logger.entries) + JSON.stringify(r), /hunter2/);
  });

  test('syncs in one process never overlap; syncs in two processes are locked', async (t) => {
    const remote = await startRemote(t, FILES);
    const a = makeEngine(t, dataConfig({ repo: remote.url }));
    const results = await Promise.all([a.sync.sync('manual'), a.sync.sync('webhook')]);
    assert.deepEqual(results.map((r) => r.outcome).sort(), ['published', 'unchanged']);

    // Another owner (as another process would be) holds the lock: the sync waits, then gives up.
    const layout = dataLayout(a.dir);
    const held = await acquireSyncLock(layout, { waitMs: 0, logger: silentLogger });
    const b = makeEngine(t, dataConfig({ repo: remote.url }), { dir: a.dir, lockWaitMs: 300 });
    commitFiles(remote.work, { 'n.txt': 'x' });
    const blocked = await b.sync.sync('manual');
    assert.equal(blocked.outcome, 'failed');
    assert.equal(blocked.phase, 'lock');
    assert.match(blocked.error ?? '', new RegExp(`pid ${process.pid}`));
    assert.equal(servedCommit(a.dir), results[0]!.commit);
    // Released while another sync waits: that one goes ahead.
    const waiting = b.sync.sync('manual');
    setTimeout(() => held.release(), 100);
    assert.equal((await waiting).outcome, 'published');
    assert.equal(existsSync(layout.lock), false, 'the lock is released');
  });
});
