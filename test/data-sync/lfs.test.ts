// Git LFS in a data repo (data.lfs) against real git and the real git-lfs client: the data repo
// served over git smart HTTP with an LFS batch API beside it (test/helpers/git-lfs-server.ts), on
// 127.0.0.1. What is downloaded is read from the server's own request log.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { authorizationHeader, tokenGitEnv } from '../../src/agent/auth/token.js';
import { commitFiles, git, makeRepo } from '../helpers/git.js';
import { startGitLfsServer, type GitLfsServer } from '../helpers/git-lfs-server.js';
import { tempDir } from '../helpers/tmp.js';
import { requireTool } from '../helpers/tools.js';
import { dataConfig, makeEngine, servedCommit, versionsIn } from './support.js';

type T = Parameters<typeof tempDir>[0];

/** Content of a given size that is not a pointer (and differs per seed). */
const blob = (size: number, seed: string) =>
  Buffer.from(seed.repeat(Math.ceil(size / seed.length)).slice(0, size));

/** The oid git-lfs gives an object. */
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * A data repo on an LFS host: `*.bin` tracked in LFS (git lfs track), `plain` files committed as
 * they are; its LFS objects pushed to the server (stored there, as `git lfs push` would).
 */
async function lfsRemote(
  t: T,
  lfsFiles: Record<string, Buffer>,
  plain: Record<string, string> = { 'index.json': '{"ok":true}\n' },
  options: { authorization?: string } = {},
) {
  requireTool('git-lfs', 'git-lfs');
  const base = tempDir(t, 'gitstrap-lfs-remote-');
  const work = path.join(base, 'data');
  makeRepo(work, plain);
  git(work, 'lfs', 'install', '--local');
  git(work, 'lfs', 'track', '*.bin', '*.tar.gz');
  const first = commitFiles(work, lfsFiles, 'LFS files');
  const server = await startGitLfsServer(t, base, options);
  server.storeFrom(work);
  return { base, work, server, first, url: server.url('data') };
}

/** Commits more LFS files and stores their objects on the server. */
function commitLfs(remote: { work: string; server: GitLfsServer }, files: Record<string, Buffer>) {
  const commit = commitFiles(remote.work, files);
  remote.server.storeFrom(remote.work);
  return commit;
}

const ONE = blob(5000, 'one-');
const TWO = blob(7000, 'two-');
const THREE = blob(3000, 'three-');

/** A gzipped tarball of `files` inside a top folder `top/`, made by tar as the QA server makes it. */
function tarball(t: T, top: string, files: Record<string, string>): Buffer {
  requireTool('tar', 'tar');
  const dir = tempDir(t, 'gitstrap-lfs-tar-');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, top, name)), { recursive: true });
    writeFileSync(path.join(dir, top, name), text);
  }
  return execFileSync('tar', ['-czf', '-', '-C', dir, top]);
}

describe('data in Git LFS', () => {
  test("open-qa's data flow with its tarball kept in LFS: the object is fetched, extracted, checked and served", async (t) => {
    const night = (day: string, result: string) =>
      tarball(t, 'cache_storage_for_open_qa', {
        [`this_date_test_list_${day}.lst`]: 'open_qa_smoke_UID_1\n',
        'open_qa_smoke_UID_1.cache': result,
      });
    const remote = await lfsRemote(
      t,
      { 'cache_storage_for_open_qa.tar.gz': night('2026-12-01', 'PASS\n') },
      {},
    );
    // The recipe's own data section (recipes/open-qa.yaml), with lfs on and this remote.
    const engine = makeEngine(
      t,
      dataConfig({
        repo: remote.url,
        lfs: true,
        mount: 'webcache',
        transform: [{ extract: 'cache_storage_for_open_qa.tar.gz', strip: 1 }],
        check: [{ run: ['sh', '-c', 'ls this_date_test_list_*.lst > /dev/null'] }],
      }),
    );
    const first = await engine.sync.sync('startup');
    assert.equal(first.outcome, 'published', first.error);
    const served = path.join(engine.dir, 'current');
    assert.equal(readFileSync(path.join(served, 'open_qa_smoke_UID_1.cache'), 'utf8'), 'PASS\n');
    assert.ok(existsSync(path.join(served, 'this_date_test_list_2026-12-01.lst')));
    // The next night's tarball: one new LFS object, downloaded once, extracted in place of the old.
    const next = night('2026-12-02', 'FAIL\n');
    const second = commitLfs(remote, { 'cache_storage_for_open_qa.tar.gz': next });
    const update = await engine.sync.sync('schedule');
    assert.equal(update.outcome, 'published', update.error);
    assert.equal(servedCommit(engine.dir), second);
    assert.equal(readFileSync(path.join(served, 'open_qa_smoke_UID_1.cache'), 'utf8'), 'FAIL\n');
    assert.ok(existsSync(path.join(served, 'this_date_test_list_2026-12-02.lst')));
    assert.equal(remote.server.downloaded().filter((oid) => oid === sha256(next)).length, 1);
  });

  test('publishes the objects, not the pointers, asked for through the batch API', async (t) => {
    const remote = await lfsRemote(t, { 'a/one.bin': ONE, 'b/two.bin': TWO });
    const engine = makeEngine(t, dataConfig({ repo: remote.url, lfs: true }));
    const result = await engine.sync.sync('startup');
    assert.equal(result.outcome, 'published', result.error);
    const version = path.join(engine.dir, 'versions', remote.first);
    assert.ok(readFileSync(path.join(version, 'a/one.bin')).equals(ONE));
    assert.ok(readFileSync(path.join(version, 'b/two.bin')).equals(TWO));
    // In git the files are pointers; the server was asked by oid and size, and sent both objects.
    assert.match(git(remote.work, 'show', 'HEAD:a/one.bin'), /^version https:\/\/git-lfs/);
    assert.deepEqual(remote.server.downloaded().sort(), [sha256(ONE), sha256(TWO)].sort());
    const batches = remote.server.requests.filter((r) => r.operation);
    assert.ok(batches.length >= 1);
    for (const b of batches) {
      assert.equal(b.path, '/data.git/info/lfs/objects/batch');
      assert.equal(b.operation, 'download');
      assert.equal(b.status, 200);
    }
    const lfs = {
      files: 2,
      objects: 2,
      bytes: 12000,
      downloaded: 2,
      outsideSparse: 0,
      outsideSparseBytes: 0,
    };
    assert.deepEqual(result.lfs, lfs);
    assert.deepEqual(engine.sync.current()?.lfs, lfs);
  });

  test('an object the server does not have: nothing is published, and the error names it', async (t) => {
    const remote = await lfsRemote(t, { 'a/one.bin': ONE, 'b/two.bin': TWO });
    remote.server.remove(sha256(TWO));
    const engine = makeEngine(t, dataConfig({ repo: remote.url, lfs: true }));
    const result = await engine.sync.sync('startup');
    assert.equal(result.outcome, 'failed');
    assert.equal(result.phase, 'lfs');
    assert.match(
      result.error ?? '',
      new RegExp(
        `^cannot fetch the Git LFS objects of b/two\\.bin \\(oid sha256:${sha256(TWO).slice(0, 12)}, 7000 bytes\\) from ${remote.url.replace(/\./g, '\\.')}\\.git/info/lfs; not publishing a version with pointer files in their place`,
      ),
    );
    assert.match(result.hint ?? '', /git lfs push --all origin/);
    assert.equal(servedCommit(engine.dir), undefined);
    assert.deepEqual(versionsIn(engine.dir), []);

    // Pushed later: the next sync publishes it.
    remote.server.storeFrom(remote.work);
    const again = await engine.sync.sync('manual');
    assert.equal(again.outcome, 'published', again.error);
    assert.ok(readFileSync(path.join(engine.dir, 'current', 'b/two.bin')).equals(TWO));
  });

  test('sparse paths: LFS objects outside them are never asked for nor downloaded', async (t) => {
    const remote = await lfsRemote(t, { 'a/one.bin': ONE, 'b/two.bin': TWO, 'top.bin': THREE });
    const engine = makeEngine(t, dataConfig({ repo: remote.url, lfs: true, sparse: ['a'] }));
    const result = await engine.sync.sync('startup');
    assert.equal(result.outcome, 'published', result.error);
    assert.deepEqual(remote.server.downloaded().sort(), [sha256(ONE), sha256(THREE)].sort());
    assert.ok(!remote.server.batched().includes(sha256(TWO)), 'b/two.bin was never asked for');
    assert.deepEqual(result.lfs, {
      files: 2,
      objects: 2,
      bytes: 8000,
      downloaded: 2,
      outsideSparse: 1,
      outsideSparseBytes: 7000,
    });
  });

  test("a one-object change downloads that object only; the cache keeps the served version's objects", async (t) => {
    const remote = await lfsRemote(t, { 'a/one.bin': ONE, 'b/two.bin': TWO });
    const engine = makeEngine(t, dataConfig({ repo: remote.url, lfs: true, keep: 1 }));
    assert.equal((await engine.sync.sync('startup')).outcome, 'published');
    for (let i = 2; i <= 4; i++) {
      const content = blob(5000, `one-v${i}-`);
      const before = remote.server.downloaded().length;
      commitLfs(remote, { 'a/one.bin': content });
      const result = await engine.sync.sync('manual');
      assert.equal(result.outcome, 'published', result.error);
      assert.deepEqual(remote.server.downloaded().slice(before), [sha256(content)], `change ${i}`);
      assert.equal(result.lfs?.downloaded, 1);
      assert.ok(readFileSync(path.join(engine.dir, 'current', 'a/one.bin')).equals(content));
      assert.ok(readFileSync(path.join(engine.dir, 'current', 'b/two.bin')).equals(TWO));
    }
    assert.equal(engine.sync.history()[0]?.reusedFolder, true, 'the last build reused a folder');
  });

  test('LFS files count against data.limits: over them, nothing is downloaded', async (t) => {
    const remote = await lfsRemote(t, { 'a/one.bin': ONE, 'b/two.bin': TWO });
    const engine = makeEngine(
      t,
      dataConfig({ repo: remote.url, lfs: true, limits: { max_bytes: '10kb' } }),
    );
    const result = await engine.sync.sync('startup');
    assert.equal(result.outcome, 'failed');
    assert.equal(result.phase, 'lfs');
    assert.equal(
      result.error,
      'the Git LFS files of this version (2 files) take 12000 bytes, more than data.limits.max_bytes (10kb); nothing was downloaded',
    );
    assert.deepEqual(remote.server.downloaded(), []);
    const files = makeEngine(
      t,
      dataConfig({ repo: remote.url, lfs: true, limits: { max_files: 1 } }),
    );
    const r2 = await files.sync.sync('startup');
    assert.match(r2.error ?? '', /take more files than data\.limits\.max_files \(1\)/);
  });

  test('.lfsconfig in the data repo cannot move the endpoint or exclude files', async (t) => {
    const remote = await lfsRemote(t, { 'a/one.bin': ONE });
    const elsewhere = await startGitLfsServer(t, tempDir(t));
    commitFiles(remote.work, {
      '.lfsconfig': `[lfs]\n\turl = ${elsewhere.url('x.git/info/lfs')}\n\tfetchexclude = *\n\tskipdownloaderrors = true\n[remote "origin"]\n\tlfsurl = ${elsewhere.url('y.git/info/lfs')}\n`,
    });
    const engine = makeEngine(t, dataConfig({ repo: remote.url, lfs: true }));
    const result = await engine.sync.sync('startup');
    assert.equal(result.outcome, 'published', result.error);
    assert.ok(readFileSync(path.join(engine.dir, 'current', 'a/one.bin')).equals(ONE));
    assert.deepEqual(elsewhere.requests, []);
  });

  test('a data repo on LFS without data.lfs is not published with pointer files', async (t) => {
    const remote = await lfsRemote(t, { 'a/one.bin': ONE });
    const engine = makeEngine(t, dataConfig({ repo: remote.url }));
    const result = await engine.sync.sync('startup');
    assert.equal(result.outcome, 'failed');
    assert.equal(result.phase, 'lfs');
    assert.match(
      result.error ?? '',
      /^the data repo keeps files in Git LFS \(its \.gitattributes says filter=lfs\), but data\.lfs is not set/,
    );
    assert.match(result.hint ?? '', /set data\.lfs: true/);
    assert.deepEqual(versionsIn(engine.dir), []);
    // Not even a filter git-lfs installed system-wide (Debian's package does) downloaded anything.
    assert.deepEqual(
      remote.server.requests.filter((r) => r.path.includes('/info/lfs/')),
      [],
    );
  });

  test("the data repo's token reaches the LFS server, never a log", async (t) => {
    const token = 'lfs-token-abcdef0123';
    const header = authorizationHeader(token).replace(/^Authorization: /, '');
    const remote = await lfsRemote(t, { 'a/one.bin': ONE }, undefined, { authorization: header });
    const engine = makeEngine(t, dataConfig({ repo: remote.url, lfs: true }), {
      gitEnv: tokenGitEnv(token),
    });
    const result = await engine.sync.sync('startup');
    assert.equal(result.outcome, 'published', result.error);
    assert.deepEqual(remote.server.downloaded(), [sha256(ONE)]);
    assert.equal(result.lfs?.files, 1);
    assert.doesNotMatch(JSON.stringify(engine.logger.entries), new RegExp(token));
  });
});
