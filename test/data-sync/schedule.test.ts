// Scheduled pulls with node-cron (6-field, every second), a tiny jitter, retries with backoff, the
// failure budget, no overlapping runs. Real engine, real git daemon.
import path from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSyncSchedule, type DataSync } from '../../data-sync/src/index.js';
import { memoryLogger } from '../../src/lib/log.js';
import { commitFiles } from '../helpers/git.js';
import { waitFor } from '../helpers/proc.js';
import { dataConfig, makeEngine, servedCommit, startRemote } from './support.js';
import { startTcpProxy } from './tcp-proxy.js';

describe('sync schedule', () => {
  test('publishes new data on the cron schedule, with a per-instance delay; stops cleanly', async (t) => {
    const remote = await startRemote(t, { 'a.txt': 'a' });
    const { sync, dir } = makeEngine(t, dataConfig({ repo: remote.url }));
    const logger = memoryLogger();
    const schedule = startSyncSchedule({
      sync,
      schedule: '* * * * * *',
      jitterMs: 200,
      logger,
      random: () => 0.5,
    });
    t.after(() => schedule.stop());
    assert.equal(schedule.delayMs, 100);
    const next = schedule.nextRun();
    assert.ok(
      next && next.getTime() - Date.now() <= 1200 && next.getTime() > Date.now() - 50,
      String(next),
    );

    await waitFor(
      async () => (servedCommit(dir) === remote.first ? true : undefined),
      'first publish',
      5000,
    );
    const second = commitFiles(remote.work, { 'a.txt': 'b' });
    await waitFor(
      async () => (servedCommit(dir) === second ? true : undefined),
      'second publish',
      5000,
    );
    assert.ok(sync.history().every((r) => r.trigger === 'schedule'));

    await schedule.stop();
    const third = commitFiles(remote.work, { 'a.txt': 'c' });
    await new Promise((r) => setTimeout(r, 2200));
    assert.equal(servedCommit(dir), second, 'nothing runs after stop()');
    assert.notEqual(third, second);
  });

  test('retries with backoff; a run and its retries count once against the failure budget', async (t) => {
    const remote = await startRemote(t, { 'a.txt': 'a' });
    const proxy = await startTcpProxy(remote.daemon.port);
    t.after(() => proxy.close());
    await proxy.down();
    const { sync, dir } = makeEngine(
      t,
      dataConfig({ repo: `git://127.0.0.1:${proxy.port}/data`, failure_budget: 2 }),
    );
    const logger = memoryLogger();
    const schedule = startSyncSchedule({
      sync,
      schedule: '*/2 * * * * *',
      retries: 2,
      backoffMs: 40,
      logger,
    });
    t.after(() => schedule.stop());

    await waitFor(
      async () =>
        logger.entries.some((e) => e.event === 'data.schedule.gave-up') ? true : undefined,
      'the first run to give up',
      6000,
    );
    const retries = logger.entries.filter((e) => e.event === 'data.schedule.retry');
    assert.deepEqual(
      retries.map((e) => e.attempt),
      [1, 2],
    );
    assert.ok(
      (retries[1]!.inMs as number) >= 40 && (retries[1]!.inMs as number) <= 80,
      'backoff doubles',
    );
    assert.equal(sync.history().length, 3, 'one run, two retries');
    assert.deepEqual(sync.health(), { healthy: true, consecutiveFailures: 1 });

    await waitFor(
      async () => (sync.health().consecutiveFailures === 2 ? true : undefined),
      'a second failed run',
      6000,
    );
    assert.equal(sync.health().healthy, false, 'over the failure budget');

    await proxy.up();
    // The result is recorded when the sync returns, a moment after `current` changes.
    await waitFor(async () => (sync.health().healthy ? true : undefined), 'recovery', 8000);
    assert.equal(servedCommit(dir), remote.first);
    assert.equal(sync.health().consecutiveFailures, 0);
  });

  test('runs never overlap: a tick during a long sync is skipped', async (t) => {
    const remote = await startRemote(t, { 'a.txt': 'a' });
    const slow = dataConfig({
      repo: remote.url,
      transform: [{ run: [process.execPath, '-e', 'setTimeout(() => {}, 1600)'] }],
    });
    const engine = makeEngine(t, slow);
    let running = 0;
    let most = 0;
    const counting: Pick<DataSync, 'sync'> = {
      async sync(trigger, options) {
        running++;
        most = Math.max(most, running);
        try {
          return await engine.sync.sync(trigger, options);
        } finally {
          running--;
        }
      },
    };
    const logger = memoryLogger();
    const schedule = startSyncSchedule({ sync: counting, schedule: '* * * * * *', logger });
    t.after(() => schedule.stop());
    await waitFor(
      async () => (servedCommit(engine.dir) === remote.first ? true : undefined),
      'the slow publish',
      8000,
    );
    await schedule.stop();
    assert.equal(most, 1);
    const run = engine.sync.history().at(-1)!;
    assert.ok(run.durationMs > 1100, `the run spanned a tick (${run.durationMs} ms)`);
    assert.equal(path.basename(engine.sync.current()!.dir), remote.first);
  });
});
