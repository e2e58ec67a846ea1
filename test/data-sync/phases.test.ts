// The engine's phases (data-sync/src/phases/) and its history, each alone: the plan pinned by a
// golden table, the executors on a temp data folder with stand-in locks and git that record calls.
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { SyncResult } from '../../data-sync/src/api.js';
import { execCommand } from '../../data-sync/src/exec.js';
import { SyncFailure } from '../../data-sync/src/failure.js';
import type { Git } from '../../data-sync/src/git.js';
import {
  beginAttempt,
  engineContext,
  failedResult,
  isNoSpace,
  startClock,
  type Attempt,
} from '../../data-sync/src/phases/attempt.js';
import { checkStaged } from '../../data-sync/src/phases/check-version.js';
import { verifyFetched } from '../../data-sync/src/phases/fetch-target.js';
import { endedHold, planSync, unchangedNote } from '../../data-sync/src/phases/plan-sync.js';
import { pruneAfterPublish } from '../../data-sync/src/phases/prune-versions.js';
import { announceSwap, publishVersion } from '../../data-sync/src/phases/publish-version.js';
import { transformStaged } from '../../data-sync/src/phases/transform-version.js';
import { createBudget, resolveLimits } from '../../data-sync/src/limits.js';
import { createSyncHistory } from '../../data-sync/src/sync-history.js';
import { memoryLogger } from '../../src/lib/log.js';
import { assertGolden, goldenDir } from '../helpers/golden.js';
import { tempDir } from '../helpers/tmp.js';
import { dataConfig } from './support.js';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

/** An engine context on a temp folder, with a memory logger. */
function contextIn(dir: string, data: Record<string, unknown> = {}, onSwap?: () => void) {
  const logger = memoryLogger();
  const ctx = engineContext({
    dir,
    data: dataConfig({ repo: '/srv/d', ...data }),
    logger,
    now: () => new Date('2026-01-01T00:00:00Z'),
    ...(onSwap ? { onSwap } : {}),
  });
  return { ctx, logger };
}

/** An attempt with a lock that is (or is not) still held and a git that records its calls. */
function standInAttempt(held = true): Attempt & { gitCalls: string[][] } {
  const gitCalls: string[][] = [];
  const git: Git = {
    run: async (args) => {
      gitCalls.push([...args]);
      return { code: 1, stdout: '', stderr: 'no repo' } as never;
    },
    ok: async (_phase, args) => {
      gitCalls.push([...args]);
      return '';
    },
  };
  return {
    lock: {
      owner: {} as never,
      trackChild() {},
      untrackChild() {},
      stillHeld: () => held,
      release() {},
    },
    git,
    exec: execCommand,
    signal: undefined,
    phase: 'fetch',
    gitCalls,
  };
}

const result = (outcome: SyncResult['outcome'], finishedAt = '2026-01-01T00:00:01.000Z') =>
  ({ outcome, startedAt: finishedAt, finishedAt, durationMs: 1, trigger: 'schedule' }) as const;

describe('phase plan', () => {
  test('what a sync does with the commit the source names (golden)', () => {
    const cases = [
      { name: 'served already', commit: A, previous: A, held: undefined, kept: true },
      { name: 'held by a rollback', commit: B, previous: A, held: B, kept: true },
      { name: 'a kept version', commit: B, previous: A, held: undefined, kept: true },
      { name: 'new', commit: B, previous: A, held: undefined, kept: false },
      { name: 'first ever', commit: A, previous: undefined, held: undefined, kept: false },
      { name: 'served and held', commit: A, previous: A, held: A, kept: true },
    ];
    assertGolden(
      goldenDir('data-sync'),
      'sync-plan',
      cases.map(({ name, ...input }) => ({ name, decision: planSync(input) })),
    );
  });

  test('a held commit is named in the note; a hold ends when the source moves on', () => {
    assert.equal(unchangedNote('unchanged', A), undefined);
    assert.equal(
      unchangedNote('held', A),
      'held: aaaaaaaaaaaa was rolled back; waiting for a new commit',
    );
    const published = [{ commit: A, at: '2026-01-01T00:00:00Z' }];
    assert.equal(endedHold({ published, held: B }, B), undefined);
    assert.equal(endedHold({ published }, B), undefined);
    assert.deepEqual(endedHold({ published, held: B }, A), { published });
  });
});

describe('sync history', () => {
  test('counts failures in a row, a failed retry once, and keeps the newest results', () => {
    const history = createSyncHistory(2, 3);
    history.record(result('failed'));
    history.record(result('failed'), { retry: true });
    assert.deepEqual(history.health(), { healthy: true, consecutiveFailures: 1 });
    history.record(result('failed'));
    assert.deepEqual(history.health(), { healthy: false, consecutiveFailures: 2 });
    history.record(result('published', '2026-01-01T00:00:09.000Z'));
    assert.deepEqual(history.health(), {
      healthy: true,
      consecutiveFailures: 0,
      lastSuccessAt: '2026-01-01T00:00:09.000Z',
    });
    assert.deepEqual(
      history.list().map((r) => r.outcome),
      ['published', 'failed', 'failed'],
    );
    history.list().pop();
    assert.equal(history.list().length, 3, 'list() is a copy');
  });
});

describe('phase lock and failures', () => {
  test('an attempt takes the lock, recovers leftovers and starts in "fetch"', async (t) => {
    const dir = path.join(tempDir(t), 'data');
    const { ctx } = contextIn(dir);
    mkdirSync(path.join(dir, 'staging', 'next'), { recursive: true });
    const attempt = await beginAttempt(ctx, undefined);
    t.after(() => attempt.lock.release());
    assert.equal(attempt.phase, 'fetch');
    assert.equal(attempt.lock.stillHeld(), true);
    assert.ok(existsSync(ctx.layout.dir));
  });

  test('a failure names the phase it was in; a full disk says so and drops staging', async (t) => {
    const dir = path.join(tempDir(t), 'data');
    const { ctx, logger } = contextIn(dir);
    const start = startClock(ctx, 'webhook');
    const attempt = { ...standInAttempt(), phase: 'transform' as const };
    const plain = await failedResult(ctx, start, attempt, new Error('boom'));
    assert.deepEqual(
      [plain.outcome, plain.phase, plain.error, plain.hint],
      ['failed', 'transform', 'boom', undefined],
    );
    mkdirSync(ctx.layout.next, { recursive: true });
    const full = await failedResult(
      ctx,
      start,
      attempt,
      new SyncFailure('checkout', 'error: unable to write file x', 'is the disk full?'),
    );
    assert.equal(full.phase, 'checkout');
    assert.equal(full.hint, 'the disk may be full: free space on the data volume');
    assert.equal(existsSync(ctx.layout.next), false);
    const before = await failedResult(ctx, start, undefined, new Error('lock busy'));
    assert.equal(before.phase, 'lock');
    assert.deepEqual(
      logger.entries.map((e) => [e.event, e.phase]),
      [
        ['data.sync.failed', 'transform'],
        ['data.sync.failed', 'checkout'],
        ['data.sync.failed', 'lock'],
      ],
    );
    assert.equal(isNoSpace('ENOSPC: no space left on device'), true);
    assert.equal(isNoSpace('fatal: could not read Username'), false);
  });
});

describe('phase fetch (verify)', () => {
  test('without data.verify nothing is checked and the phase stays', async (t) => {
    const { ctx } = contextIn(path.join(tempDir(t), 'data'));
    const attempt = standInAttempt();
    await verifyFetched(ctx, attempt, A);
    assert.equal(attempt.phase, 'fetch');
    assert.deepEqual(attempt.gitCalls, []);
  });
});

describe('phases transform and check', () => {
  test('no transforms: the phase is named and nothing runs', async (t) => {
    const { ctx } = contextIn(path.join(tempDir(t), 'data'));
    const attempt = standInAttempt();
    await transformStaged(ctx, attempt, createBudget(resolveLimits(ctx.data.limits)));
    assert.equal(attempt.phase, 'transform');
    assert.equal(existsSync(ctx.layout.next), false);
  });

  test('a transform and a check run on staging/next, a failing check fails in "check"', async (t) => {
    const { ctx } = contextIn(path.join(tempDir(t), 'data'), {
      transform: [{ run: ['sh', '-c', 'echo made > made.txt'] }],
      check: [{ exists: 'made.txt' }, { exists: 'missing.txt' }],
    });
    mkdirSync(ctx.layout.next, { recursive: true });
    const attempt = standInAttempt();
    await transformStaged(ctx, attempt, createBudget(resolveLimits(ctx.data.limits)));
    assert.equal(readFileSync(path.join(ctx.layout.next, 'made.txt'), 'utf8'), 'made\n');
    await assert.rejects(checkStaged(ctx, attempt), (error: SyncFailure) => {
      assert.equal(error.phase, 'check');
      assert.match(error.message, /missing\.txt/);
      return true;
    });
    assert.equal(attempt.phase, 'check');
  });
});

describe('phase publish', () => {
  test('a lock taken over publishes nothing', async (t) => {
    const { ctx } = contextIn(path.join(tempDir(t), 'data'));
    const attempt = standInAttempt(false);
    await assert.rejects(publishVersion(ctx, attempt, A), {
      name: 'SyncFailure',
      message: 'the sync lock was taken over by another process; not publishing',
    });
    assert.equal(attempt.phase, 'publish');
    assert.equal(existsSync(ctx.layout.current), false);
  });

  test("the owner's onSwap failing is logged, never thrown", (t) => {
    const { ctx, logger } = contextIn(path.join(tempDir(t), 'data'), {}, () => {
      throw new Error('cache busy');
    });
    announceSwap(ctx, A);
    assert.deepEqual(
      logger.entries.map((e) => [e.event, e.commit, e.error]),
      [['data.on-swap.failed', A, 'cache busy']],
    );
  });
});

describe('phase prune', () => {
  const C = 'c'.repeat(40);
  /** versions A (served), B and C, each with its index; data.keep 1. */
  function threeVersions(t: Parameters<typeof tempDir>[0]) {
    const { ctx, logger } = contextIn(path.join(tempDir(t), 'data'), { keep: 1 });
    mkdirSync(ctx.layout.indexes, { recursive: true });
    for (const commit of [A, B, C]) {
      mkdirSync(path.join(ctx.layout.versions, commit), { recursive: true });
      writeFileSync(path.join(ctx.layout.indexes, `${commit}.index`), '');
    }
    symlinkSync(`versions/${A}`, ctx.layout.current);
    return { ctx, logger };
  }

  test('keeps the served and one previous version, recycles one for the next build', async (t) => {
    const { ctx, logger } = threeVersions(t);
    const attempt = standInAttempt();
    await pruneAfterPublish(ctx, attempt.git, undefined);
    assert.equal(readdirSync(ctx.layout.versions).length, 2);
    assert.ok(readdirSync(ctx.layout.versions).includes(A));
    assert.ok(existsSync(ctx.layout.next) && existsSync(ctx.layout.nextIndex));
    assert.deepEqual(attempt.gitCalls, [['update-index', '-q', '--refresh']]);
    assert.deepEqual(
      logger.entries.map((e) => e.event),
      ['data.pruned'],
    );
  });

  test('a prune that fails is logged; the publish stands', async (t) => {
    const { ctx, logger } = threeVersions(t);
    const git: Git = {
      run: () => Promise.reject(new Error('git is gone')),
      ok: () => Promise.reject(new Error('git is gone')),
    };
    await pruneAfterPublish(ctx, git, undefined);
    assert.deepEqual(
      logger.entries.map((e) => [e.event, e.error]),
      [['data.prune.failed', 'git is gone']],
    );
    assert.equal(readlinkSync(ctx.layout.current), `versions/${A}`);
  });
});
