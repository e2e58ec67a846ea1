// Fault tests against real components: the git host down, a connection cut mid-fetch, the ref
// force-pushed back and forward, history rewritten, the disk filling up during checkout. After
// each, `current` points at a complete version and the next sync recovers.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
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
import { startTcpProxy } from './tcp-proxy.js';

/** The data URL through a proxy in front of the remote's git daemon. */
async function proxied(t: TestContext, remote: Awaited<ReturnType<typeof startRemote>>) {
  const proxy = await startTcpProxy(remote.daemon.port);
  t.after(() => proxy.close());
  return { proxy, url: `git://127.0.0.1:${proxy.port}/data` };
}

/** Mounts a tmpfs of `size` on a new folder (we run as root); unmounted after the test. */
function mountTmpfs(t: TestContext, size: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gitstrap-tmpfs-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  if (mounted.status !== 0) {
    rmdirSync(dir);
    throw new Error(
      `this test mounts a small tmpfs to fill the disk and needs root (CAP_SYS_ADMIN): mount said ${mounted.stderr?.trim() || mounted.error?.message}`,
    );
  }
  t.after(() => {
    if (spawnSync('umount', [dir], { timeout: 10_000 }).status !== 0) {
      spawnSync('umount', ['-l', dir], { timeout: 10_000 });
    }
    rmdirSync(dir);
  });
  return dir;
}

describe('data sync under faults', () => {
  test('git host down: the sync fails in fetch, current stays, the next sync recovers', async (t) => {
    const remote = await startRemote(t, { 'a.txt': 'a' });
    const { proxy, url } = await proxied(t, remote);
    const { sync, dir } = makeEngine(t, dataConfig({ repo: url }));
    assert.equal((await sync.sync('manual')).outcome, 'published');
    const next = commitFiles(remote.work, { 'a.txt': 'a2' });

    await proxy.down();
    const failed = await sync.sync('schedule');
    assert.equal(failed.outcome, 'failed');
    assert.equal(failed.phase, 'fetch');
    assert.match(
      failed.error ?? '',
      /cannot ask git:\/\/127\.0\.0\.1:\d+\/data for main .*(refused|unable to connect)/i,
    );
    assert.match(failed.hint ?? '', /reachable/);
    assert.equal(servedCommit(dir), remote.first);
    assertTree(path.join(dir, 'current'), filesAt(remote.work, remote.first));

    await proxy.up();
    const back = await sync.sync('schedule');
    assert.equal(back.outcome, 'published', back.error);
    assert.equal(servedCommit(dir), next);
  });

  test('connection cut mid-fetch: nothing half-fetched is published; the next sync recovers', async (t) => {
    const remote = await startRemote(t, { 'a.txt': 'a' });
    const { proxy, url } = await proxied(t, remote);
    const { sync, dir } = makeEngine(t, dataConfig({ repo: url }));
    assert.equal((await sync.sync('manual')).outcome, 'published');
    const big = commitFiles(remote.work, { 'blob.bin': randomBytes(1_000_000), 'a.txt': 'a2' });

    proxy.cutAfter = 64 * 1024;
    for (let i = 0; i < 2; i++) {
      const cut = await sync.sync('schedule');
      assert.equal(cut.outcome, 'failed');
      assert.equal(cut.phase, 'fetch');
      assert.match(cut.error ?? '', /git fetch failed/);
      assert.equal(servedCommit(dir), remote.first);
      assertTree(path.join(dir, 'current'), filesAt(remote.work, remote.first));
    }
    proxy.cutAfter = undefined;
    const ok = await sync.sync('schedule');
    assert.equal(ok.outcome, 'published', ok.error);
    assertTree(path.join(dir, 'current'), filesAt(remote.work, big));
  });

  test('ref force-pushed back and forward: kept versions come back without a fetch', async (t) => {
    const remote = await startRemote(t, { 'a.txt': 'a1' });
    const { sync, dir, exec } = makeEngine(t, dataConfig({ repo: remote.url, keep: 3 }));
    await sync.sync('manual');
    const b = commitFiles(remote.work, { 'a.txt': 'a2' });
    await sync.sync('manual');
    const c = commitFiles(remote.work, { 'a.txt': 'a3', 'c.txt': 'c' });
    await sync.sync('manual');

    git(remote.work, 'reset', '-q', '--hard', remote.first);
    exec.calls.length = 0;
    const back = await sync.sync('manual');
    assert.equal(back.outcome, 'published', back.error);
    assert.equal(back.commit, remote.first);
    assert.deepEqual(gitSubcommands(exec.calls).slice(0, 1), ['ls-remote']);
    assert.ok(!gitSubcommands(exec.calls).includes('fetch'), 'no fetch for a kept version');
    assertTree(path.join(dir, 'current'), filesAt(remote.work, remote.first));

    git(remote.work, 'reset', '-q', '--hard', c);
    const forward = await sync.sync('manual');
    assert.equal(forward.commit, c);
    assertTree(path.join(dir, 'current'), filesAt(remote.work, c));

    git(remote.work, 'reset', '-q', '--hard', b);
    assert.equal((await sync.sync('manual')).commit, b);
    assertTree(path.join(dir, 'current'), filesAt(remote.work, b));
    assert.ok(versionsIn(dir).includes(c));
  });

  test('history rewritten: an unrelated history publishes (shallow and full fetches)', async (t) => {
    for (const depth of [1, 0]) {
      const remote = await startRemote(t, { 'a.txt': 'old', 'keep.txt': 'k' });
      for (let i = 0; i < 3; i++) commitFiles(remote.work, { 'n.txt': String(i) });
      const { sync, dir } = makeEngine(t, dataConfig({ repo: remote.url, depth }));
      assert.equal((await sync.sync('manual')).outcome, 'published');

      git(remote.work, 'checkout', '-q', '--orphan', 'rewritten');
      git(remote.work, 'rm', '-rq', '--cached', '.');
      execFileSync('git', ['clean', '-fdxq'], { cwd: remote.work });
      const rewritten = commitFiles(remote.work, { 'new.txt': 'new history' }, 'rewritten');
      git(remote.work, 'branch', '-M', 'main');
      const r = await sync.sync('manual');
      assert.equal(r.outcome, 'published', `depth ${depth}: ${r.error}`);
      assert.equal(servedCommit(dir), rewritten);
      assertTree(path.join(dir, 'current'), filesAt(remote.work, rewritten));
    }
  });

  test('the disk fills up during checkout: current stays intact, space is freed, then it recovers', async (t) => {
    const mount = mountTmpfs(t, '3m');
    const remote = await startRemote(t, { 'a.txt': 'small' });
    const dir = path.join(mount, 'data');
    const { sync } = makeEngine(t, dataConfig({ repo: remote.url }), { dir });
    assert.equal((await sync.sync('manual')).outcome, 'published');

    // 8 MB that compresses to a few KB: the fetch fits, the checkout does not.
    const huge = commitFiles(remote.work, { 'huge.txt': 'x'.repeat(8 * 1024 * 1024) });
    const full = await sync.sync('manual');
    assert.equal(full.outcome, 'failed');
    assert.equal(full.phase, 'checkout');
    assert.match(full.error ?? '', /unable to write|No space left on device/);
    assert.match(full.hint ?? '', /disk may be full/);
    assert.equal(servedCommit(dir), remote.first);
    assertTree(path.join(dir, 'current'), filesAt(remote.work, remote.first));
    assert.equal(
      existsSync(path.join(dir, 'staging', 'next')),
      false,
      'the half-built version was removed',
    );

    git(remote.work, 'rm', '-q', 'huge.txt');
    const fixed = commitFiles(remote.work, { 'a.txt': 'after' });
    assert.notEqual(fixed, huge);
    const r = await sync.sync('manual');
    assert.equal(r.outcome, 'published', r.error);
    assertTree(path.join(dir, 'current'), filesAt(remote.work, fixed));
  });
});
