// The sync lock and crash recovery: a dead owner's lock is taken over and the processes it left
// behind are killed; a live owner's lock is waited for; a reused PID does not hold a lock; what a
// killed sync left (git lock files, temp symlinks, orphan indexes, a damaged cache) is cleaned up.
import { mkdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dataLayout } from '../../data-sync/src/index.js';
import { isProcessAlive } from '../../src/lib/pid-lock.js';
import { commitFiles } from '../helpers/git.js';
import { startProcess } from '../helpers/proc.js';
import {
  assertTree,
  dataConfig,
  filesAt,
  makeEngine,
  servedCommit,
  startRemote,
} from './support.js';

/** The PID of a process that has exited (and been reaped). */
async function deadPid(t: Parameters<typeof startProcess>[0]): Promise<number> {
  const p = startProcess(t, process.execPath, ['-e', '0']);
  await p.exited;
  return p.pid;
}

describe('sync lock and recovery', () => {
  test("a dead owner's lock is taken over and the children it left are killed", async (t) => {
    const remote = await startRemote(t, { 'a.txt': 'a' });
    const { sync, dir, logger } = makeEngine(t, dataConfig({ repo: remote.url }));
    const layout = dataLayout(dir);
    mkdirSync(dir, { recursive: true });
    const orphan = startProcess(t, 'sleep', ['30']);
    const dead = await deadPid(t);
    writeFileSync(layout.lock, JSON.stringify({ pid: dead, token: 'old', since: 'then' }));
    writeFileSync(
      layout.lockChildren,
      JSON.stringify({ token: 'old', children: [{ pid: orphan.pid }] }),
    );
    assert.equal(isProcessAlive({ pid: orphan.pid }), true);

    const r = await sync.sync('manual');
    assert.equal(r.outcome, 'published', r.error);
    assert.equal(await orphan.exited, 'SIGKILL');
    const events = logger.entries.map((e) => e.event);
    assert.ok(events.includes('data.lock.stale'));
    assert.ok(events.includes('data.lock.orphan-killed'));
  });

  test('a live owner is waited for; a reused PID (other start time) holds nothing', async (t) => {
    const remote = await startRemote(t, { 'a.txt': 'a' });
    const { sync, dir } = makeEngine(t, dataConfig({ repo: remote.url }), { lockWaitMs: 400 });
    const layout = dataLayout(dir);
    mkdirSync(dir, { recursive: true });
    const live = startProcess(t, 'sleep', ['30']);
    writeFileSync(layout.lock, JSON.stringify({ pid: live.pid, token: 'x', since: 'now' }));
    const started = Date.now();
    const blocked = await sync.sync('manual');
    assert.equal(blocked.phase, 'lock');
    assert.ok(Date.now() - started >= 350, 'it waited');
    assert.match(blocked.error ?? '', new RegExp(`pid ${live.pid}`));
    assert.equal(isProcessAlive({ pid: live.pid }), true, 'a live owner is never killed');

    writeFileSync(
      layout.lock,
      JSON.stringify({ pid: live.pid, startTicks: '1', token: 'x', since: 'long ago' }),
    );
    assert.equal((await sync.sync('manual')).outcome, 'published');
    assert.equal(isProcessAlive({ pid: live.pid }), true);
  });

  test('an unreadable lock is taken over once it is old', async (t) => {
    const remote = await startRemote(t, { 'a.txt': 'a' });
    const { sync, dir } = makeEngine(t, dataConfig({ repo: remote.url }), { lockWaitMs: 200 });
    const layout = dataLayout(dir);
    mkdirSync(dir, { recursive: true });
    writeFileSync(layout.lock, '{"pid": 12');
    assert.equal((await sync.sync('manual')).phase, 'lock', 'a fresh damaged lock is respected');
    const old = new Date(Date.now() - 60_000);
    utimesSync(layout.lock, old, old);
    assert.equal((await sync.sync('manual')).outcome, 'published');
  });

  test('leftovers of a killed sync are cleaned and a damaged cache is rebuilt', async (t) => {
    const remote = await startRemote(t, { 'a.txt': 'a' });
    const { sync, dir, logger } = makeEngine(t, dataConfig({ repo: remote.url }));
    const layout = dataLayout(dir);
    assert.equal((await sync.sync('manual')).outcome, 'published');

    // What git and the engine leave when killed at the wrong moment.
    writeFileSync(path.join(layout.repo, 'shallow.lock'), '');
    mkdirSync(path.join(layout.repo, 'refs', 'gitstrap'), { recursive: true });
    writeFileSync(path.join(layout.repo, 'refs', 'gitstrap', 'fetched.lock'), '');
    symlinkSync('versions/nowhere', `${layout.current}.tmp-99999-abcd`);
    mkdirSync(layout.staging, { recursive: true });
    writeFileSync(`${layout.nextIndex}.lock`, '');
    writeFileSync(path.join(layout.indexes, `${'f'.repeat(40)}.index`), '');
    mkdirSync(path.join(layout.trash, 'old'), { recursive: true });
    const second = commitFiles(remote.work, { 'a.txt': 'b' });
    const r = await sync.sync('manual');
    assert.equal(r.outcome, 'published', r.error);
    const recovered = logger.entries.find((e) => e.event === 'data.recovered');
    assert.ok(recovered, 'recovery was logged');
    assert.deepEqual((recovered.removed as string[]).sort(), [
      'current.tmp-99999-abcd',
      `indexes/${'f'.repeat(40)}.index`,
      'repo.git/refs/gitstrap/fetched.lock',
      'repo.git/shallow.lock',
      'staging/next.index.lock',
    ]);

    // A cache damaged beyond use (HEAD gone) is rebuilt, configured, and fetched into.
    rmSync(path.join(layout.repo, 'HEAD'));
    const third = commitFiles(remote.work, { 'a.txt': 'c' });
    const rebuilt = await sync.sync('manual');
    assert.equal(rebuilt.outcome, 'published', rebuilt.error);
    assert.equal(servedCommit(dir), third);
    assertTree(layout.current, filesAt(remote.work, third));
    assert.notEqual(second, third);
  });
});
