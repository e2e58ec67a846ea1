// The agent's phases (src/agent/phases/) and its state views (src/agent/agent-state.ts), each alone:
// the pure deciders with exact values and a golden status, the executors with stand-ins that fail.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import express from 'express';
import type { DataSync, SyncResult } from '../../data-sync/src/api.js';
import { healthOf, initialState, statusOf, type AgentState } from '../../src/agent/agent-state.js';
import type { DataEngine } from '../../src/agent/data-engine.js';
import { layoutOf } from '../../src/agent/layout.js';
import {
  checkoutServiceAndData,
  firstDataError,
  firstDataNeedsService,
} from '../../src/agent/phases/checkout.js';
import { placeholdersOf } from '../../src/agent/phases/install.js';
import { isProxied, listen, loopbackFor } from '../../src/agent/phases/listen.js';
import { lockStateRoot } from '../../src/agent/phases/lock-state-root.js';
import { checkProgram, healthUrlOf, startService } from '../../src/agent/phases/start-service.js';
import { CleanupStack, endFailedRun, serveUntilAborted } from '../../src/agent/phases/stop.js';
import { keepDataFresh } from '../../src/agent/phases/keep-data-fresh.js';
import { ExitCode, GitstrapError } from '../../src/lib/errors.js';
import { memoryLogger } from '../../src/lib/log.js';
import { parseRecipe } from '../../src/recipe/load.js';
import type { Recipe } from '../../src/recipe/schema.js';
import type { AgentServerOptions } from '../../src/serve/types.js';
import { assertGolden, goldenDir } from '../helpers/golden.js';
import { tempDir } from '../helpers/tmp.js';

const recipeOf = (yaml: string): Recipe => {
  const { recipe, problems } = parseRecipe(yaml, 'r.yaml');
  assert.deepEqual(problems, []);
  return recipe!;
};
const staticRecipe = recipeOf(
  'name: qa\nservice: { repo: /srv/s, runtime: static }\ndata: { repo: /srv/d, mount: results }\n',
);
const processRecipe = recipeOf(
  "name: pp\nservice: { repo: /srv/s, runtime: process, start: ['./serve', '{port}'] }\nserve: { health: /ping }\n",
);
const nodeRecipe = recipeOf('name: nn\nservice: { repo: /srv/s, runtime: node, module: app.js }\n');

const synced: SyncResult = {
  outcome: 'published',
  commit: 'd'.repeat(40),
  startedAt: '2026-01-01T00:00:00.000Z',
  finishedAt: '2026-01-01T00:00:01.000Z',
  durationMs: 1000,
  trigger: 'startup',
};

/** A data engine stand-in: serves `current` (when given), remembers `history`. */
function fakeEngine(current?: string, history: SyncResult[] = []): DataEngine {
  const sync: DataSync = {
    sync: async () => history[0] ?? { ...synced, outcome: 'failed', error: 'no' },
    rollback: async () => synced,
    current: () => (current ? { commit: current, dir: `/v/${current}` } : undefined),
    history: () => history,
    health: () => ({ healthy: true, consecutiveFailures: history.length ? 0 : 3 }),
  };
  return { sync };
}

describe('agent state', () => {
  test('healthz says why while starting, and counts the failed syncs', () => {
    const state: AgentState = { ...initialState(), engine: fakeEngine() };
    assert.deepEqual(healthOf(staticRecipe, state).reasons, [
      'agent is cloning the service',
      'service not answering 2xx',
      'no data version live yet',
      '3 data syncs failed in a row (failure budget 3)',
    ]);
  });

  test('a running service without a process reads "restarting"; the status is golden', () => {
    const state: AgentState = {
      service: 'running',
      commit: 'c'.repeat(40),
      supervisor: {
        pid: () => undefined,
        starts: () => 2,
        signal: () => true,
        stop: async () => {},
      },
      engine: fakeEngine(synced.commit, [synced]),
      schedule: { stop() {}, nextRun: () => new Date('2026-01-01T01:00:00Z') },
    };
    const status = statusOf(staticRecipe, state, {
      startedAt: new Date('2026-01-01T00:00:00Z'),
      expiresAt: new Date('2026-01-02T00:00:00Z'),
      version: '9.9.9',
    });
    assert.equal(status.service.state, 'restarting');
    assertGolden(goldenDir('agent'), 'status-running', status);
    const up = { ...state, supervisor: { ...state.supervisor!, pid: () => 42 } };
    assert.equal(statusOf(staticRecipe, up, { startedAt: new Date(0) }).service.state, 'running');
  });
});

describe('phase lock', () => {
  test('names the state root it cannot create', async (t) => {
    const file = path.join(tempDir(t), 'file');
    writeFileSync(file, '');
    await assert.rejects(lockStateRoot(layoutOf(path.join(file, 'root'))), (error: Error) => {
      assert.ok(error instanceof GitstrapError);
      assert.equal(error.message, `cannot create the state root ${file}/root (ENOTDIR)`);
      return true;
    });
  });

  test('takes the lock once per state root', async (t) => {
    const layout = layoutOf(path.join(tempDir(t), 'root'));
    const lock = await lockStateRoot(layout);
    t.after(() => lock.release());
    assert.ok(existsSync(layout.lock));
    await assert.rejects(lockStateRoot(layout), /agent/);
  });
});

describe('phase listen', () => {
  test('proxies process runtimes and node with a start; probes loopback for a wildcard host', () => {
    assert.equal(isProxied(processRecipe), true);
    assert.equal(isProxied(nodeRecipe), false);
    assert.equal(isProxied(staticRecipe), false);
    assert.deepEqual(['0.0.0.0', '::', '', '10.0.0.5'].map(loopbackFor), [
      '127.0.0.1',
      '127.0.0.1',
      '127.0.0.1',
      '10.0.0.5',
    ]);
  });

  const input = (createServer: (o: AgentServerOptions) => never | ReturnType<never>) => ({
    recipe: processRecipe,
    layout: layoutOf('/tmp/none'),
    logger: memoryLogger(),
    now: () => new Date(0),
    createServer,
    serviceDir: () => undefined,
    serviceRunning: () => false,
    app: express.Router(),
    status: () => ({}) as never,
    health: () => ({ ok: false, reasons: [] }),
    webhook: () => undefined,
  });

  test('a failure to bind is a run-time failure naming host and port', async () => {
    const logger = memoryLogger();
    const failing = {
      ...input(() => ({}) as never),
      logger,
      createServer: () => ({
        listen: () => Promise.reject(new Error('EADDRINUSE')),
        invalidate() {},
        close: async () => {},
      }),
    };
    await assert.rejects(listen(failing), (error: Error) => {
      assert.ok(error instanceof GitstrapError);
      assert.equal(error.message, 'cannot listen on 0.0.0.0:80: Error: EADDRINUSE');
      assert.equal(error.exitCode, ExitCode.failed);
      return true;
    });
    assert.deepEqual(logger.entries, []);
  });

  test('binds, proxies only while the service runs, and reports both ports', async () => {
    let options: AgentServerOptions | undefined;
    let running = false;
    const listening = await listen({
      ...input(() => ({}) as never),
      serviceRunning: () => running,
      createServer: (o) => {
        options = o;
        return {
          listen: async () => ({ address: '127.0.0.1', family: 'IPv4', port: 4321 }),
          invalidate() {},
          close: async () => {},
        };
      },
    });
    assert.equal(listening.selfUrl, 'http://127.0.0.1:4321');
    assert.ok(listening.proxyPort !== undefined && listening.proxyPort !== 4321);
    assert.equal(listening.servicePort, listening.proxyPort);
    const proxyPort = options?.proxyPort;
    assert.ok(typeof proxyPort === 'function');
    assert.equal(proxyPort(), undefined);
    running = true;
    assert.equal(proxyPort(), listening.proxyPort);
  });
});

describe('phase checkout', () => {
  test('the first data sync waits for the checkout only when the data steps name {service}', () => {
    assert.equal(firstDataNeedsService(staticRecipe), false);
    assert.equal(firstDataNeedsService(nodeRecipe), false);
    const needs = recipeOf(
      "name: qa\nservice: { repo: /srv/s, runtime: static }\ndata: { repo: /srv/d, mount: results, check: [{ run: ['{service}/check'] }] }\n",
    );
    assert.equal(firstDataNeedsService(needs), true);
  });

  test('a first sync that left nothing to serve says where it failed', () => {
    const error = firstDataError('/srv/d', {
      ...synced,
      outcome: 'failed',
      phase: 'fetch',
      error: 'refused',
    });
    assert.equal(
      error.message,
      'could not get the first data version from /srv/d (fetch): refused',
    );
    assert.match(error.hint ?? '', /check data.repo/);
  });

  test('a clone that fails is recorded as "clone", even while the first sync runs beside it', async (t) => {
    const root = tempDir(t);
    const recipe = recipeOf(
      `name: qa\nservice: { repo: ${root}/missing.git, runtime: static }\ndata: { repo: /srv/d, mount: results }\n`,
    );
    const stages: string[] = [];
    const engines: DataEngine[] = [];
    await assert.rejects(
      checkoutServiceAndData({
        recipe,
        layout: layoutOf(path.join(root, 'state')),
        logger: memoryLogger(),
        env: process.env,
        signal: new AbortController().signal,
        now: () => new Date(0),
        servicePort: 1234,
        createDataEngine: () => fakeEngine(synced.commit, [synced]),
        servicePid: () => undefined,
        onSwap() {},
        onStage: (stage) => stages.push(stage),
        onEngine: (engine) => engines.push(engine),
      }),
    );
    assert.deepEqual(stages, ['clone']);
    assert.equal(engines.length, 1, 'the first data sync ran beside the clone');
  });
});

describe('phase install', () => {
  test('the placeholders name the port, the checkout, the served data and the state root', () => {
    assert.deepEqual(placeholdersOf(8123, '/s/service/abc', layoutOf('/s')), {
      port: 8123,
      service: '/s/service/abc',
      data: '/s/data/current',
      state: '/s',
    });
  });
});

describe('phase serve', () => {
  test('probes the proxied service directly, else through the agent', () => {
    assert.equal(
      healthUrlOf(processRecipe, 5000, 'http://127.0.0.1:80'),
      'http://127.0.0.1:5000/ping',
    );
    assert.equal(healthUrlOf(staticRecipe, undefined, 'http://10.0.0.5:80'), 'http://10.0.0.5:80/');
  });

  test('a start program that does not exist fails before anything starts', async (t) => {
    const dir = tempDir(t);
    assert.throws(() => checkProgram('./serve', dir, process.env), {
      message: 'service.start: "./serve" is not installed or not on PATH',
    });
    const cleanup = new CleanupStack(memoryLogger());
    const pushed: string[] = [];
    cleanup.push = (what) => void pushed.push(what);
    await assert.rejects(
      startService({
        recipe: processRecipe,
        checkoutDir: dir,
        placeholders: placeholdersOf(5000, dir, layoutOf(dir)),
        env: process.env,
        logger: memoryLogger(),
        proxyPort: 5000,
        selfUrl: 'http://127.0.0.1:80',
        app: express.Router(),
        cleanup,
      }),
      /"\.\/serve" is not installed/,
    );
    assert.deepEqual(pushed, []);
  });
});

describe('phase sync', () => {
  test('starts the schedule only when the engine has one, and registers its stop', async () => {
    const logger = memoryLogger();
    const cleanup = new CleanupStack(logger);
    assert.equal(keepDataFresh(undefined, cleanup), undefined);
    assert.equal(keepDataFresh(fakeEngine(), cleanup), undefined);
    let stopped = 0;
    const engine = {
      ...fakeEngine(),
      startSchedule: () => ({ stop: () => void stopped++, nextRun: () => undefined }),
    };
    assert.ok(keepDataFresh(engine, cleanup));
    await cleanup.runAll();
    assert.equal(stopped, 1);
  });
});

describe('phase stop', () => {
  test('cleanups run last first, once each, and a failing one is logged', async () => {
    const logger = memoryLogger();
    const cleanup = new CleanupStack(logger);
    const ran: string[] = [];
    cleanup.push('lock', () => void ran.push('lock'));
    cleanup.push('server', () => {
      throw new Error('busy');
    });
    cleanup.push('probe', () => void ran.push('probe'));
    await cleanup.runAll();
    await cleanup.runAll();
    assert.deepEqual(ran, ['probe', 'lock']);
    assert.deepEqual(
      logger.entries.map((e) => [e.event, e.what]),
      [['agent.cleanup_failed', 'server']],
    );
  });

  test('serves until the signal, then says why it stops', async () => {
    const logger = memoryLogger();
    const controller = new AbortController();
    let stopping = false;
    const done = serveUntilAborted(controller.signal, logger, () => (stopping = true));
    controller.abort(new Error('SIGTERM'));
    assert.equal(await done, ExitCode.ok);
    assert.equal(stopping, true);
    assert.deepEqual(
      logger.entries.map((e) => [e.event, e.reason]),
      [['agent.stop', 'SIGTERM']],
    );
  });

  test('a failed install step is recorded by name; an interrupted start records nothing', (t) => {
    const root = tempDir(t);
    const logger = memoryLogger();
    const run = {
      signal: new AbortController().signal,
      logger,
      root,
      stage: 'install' as const,
      installStep: 'deps',
      now: () => new Date('2026-01-01T00:00:00.123Z'),
    };
    const error = new GitstrapError('npm ci failed', { exitCode: ExitCode.failed });
    assert.throws(() => endFailedRun(error, run), error);
    assert.deepEqual(JSON.parse(readFileSync(path.join(root, 'start-failure.json'), 'utf8')), {
      result: 'failure',
      step: 'install:deps',
      exitCode: ExitCode.failed,
      at: '2026-01-01T00:00:00Z',
      message: 'npm ci failed',
    });
    assert.deepEqual(
      logger.entries.map((e) => [e.event, e.error]),
      [['agent.failed', 'npm ci failed']],
    );

    const other = tempDir(t);
    const aborted = new AbortController();
    aborted.abort();
    assert.equal(
      endFailedRun(error, { ...run, root: other, signal: aborted.signal }),
      ExitCode.interrupted,
    );
    assert.equal(existsSync(path.join(other, 'start-failure.json')), false);
  });
});
