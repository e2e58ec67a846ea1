import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { runCommand } from '../../src/agent/run-command.js';
import { startSupervisor } from '../../src/agent/supervisor.js';
import { backoffDelay } from '../../src/lib/backoff.js';
import { memoryLogger } from '../../src/lib/log.js';
import { waitFor } from '../helpers/proc.js';
import { tempDir } from '../helpers/tmp.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const readPid = (file: string) =>
  waitFor(async () => Number(readFileSync(file, 'utf8')) || undefined, `pid in ${file}`, 5000, 50);

describe('runCommand', () => {
  test('gives the exit code and the last lines of output, stdout and stderr interleaved', async (t) => {
    const outcome = await runCommand(
      {
        argv: ['sh', '-c', 'for i in 1 2 3 4 5; do echo out$i; done; echo err >&2; exit 7'],
        cwd: tempDir(t),
        env: process.env,
        timeoutMs: 10_000,
      },
      { tailLines: 3 },
    );
    assert.equal(outcome.code, 7);
    assert.deepEqual(outcome.tail, ['out4', 'out5', 'err']);
  });

  test('a timeout kills the whole process group, grandchildren included', async (t) => {
    const dir = tempDir(t);
    const pidFile = path.join(dir, 'grandchild.pid');
    const outcome = await runCommand(
      {
        argv: ['sh', '-c', `sleep 300 & echo $! > ${pidFile}; sleep 300`],
        cwd: dir,
        env: process.env,
        timeoutMs: 500,
      },
      { killGraceMs: 1000 },
    );
    assert.equal(outcome.timedOut, true);
    assert.equal(outcome.signal, 'SIGTERM');
    const grandchild = await readPid(pidFile);
    await waitFor(
      async () => (alive(grandchild) ? undefined : true),
      'the grandchild to die',
      5000,
      50,
    );
  });

  test('a program that does not exist is an outcome, not a crash', async (t) => {
    const outcome = await runCommand({
      argv: ['no-such-program-xyz'],
      cwd: tempDir(t),
      env: process.env,
      timeoutMs: 1000,
    });
    assert.equal(outcome.startError, 'ENOENT');
  });
});

describe('supervisor', () => {
  test('backoff doubles and is capped', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelay(n, { baseMs: 500, capMs: 10_000 })),
      [500, 1000, 2000, 4000, 8000, 10_000, 10_000],
    );
  });

  test('restarts the service after kill -9, and stop() ends its whole group', async (t) => {
    const dir = tempDir(t);
    const logger = memoryLogger();
    const supervisor = startSupervisor({
      argv: ['sh', '-c', `sleep 300 & echo $! > child.pid; echo started; wait`],
      cwd: dir,
      env: process.env,
      logger,
      initialBackoffMs: 50,
      killGraceMs: 1000,
    });
    t.after(() => supervisor.stop());
    const first = await waitFor(async () => supervisor.pid(), 'the first start', 5000, 20);
    const firstChild = await readPid(path.join(dir, 'child.pid'));
    process.kill(first, 'SIGKILL');
    const second = await waitFor(
      async () => (supervisor.pid() && supervisor.pid() !== first ? supervisor.pid() : undefined),
      'a restart',
      5000,
      20,
    );
    assert.equal(supervisor.starts(), 2);
    await waitFor(
      async () => (alive(firstChild) ? undefined : true),
      "the dead service's leftover child to be killed",
      5000,
      50,
    );
    const secondChild = await waitFor(
      async () => {
        const pid = Number(readFileSync(path.join(dir, 'child.pid'), 'utf8'));
        return pid && pid !== firstChild ? pid : undefined;
      },
      'the new child',
      5000,
      50,
    );
    const exited = logger.entries.find((e) => e.event === 'service.exited');
    assert.equal(exited?.signal, 'SIGKILL');
    assert.ok(logger.entries.some((e) => e.event === 'service.output' && e.line === 'started'));

    await supervisor.stop();
    assert.equal(alive(second), false);
    await waitFor(
      async () => (alive(secondChild) ? undefined : true),
      'the child to be stopped',
      5000,
      50,
    );
    assert.equal(supervisor.pid(), undefined);
    assert.equal(supervisor.starts(), 2, 'no restart after stop');
  });

  test('a service that ignores SIGTERM is killed after the grace time', async (t) => {
    const supervisor = startSupervisor({
      argv: ['sh', '-c', "trap '' TERM; echo ready; while :; do sleep 1; done"],
      cwd: tempDir(t),
      env: process.env,
      logger: memoryLogger(),
      killGraceMs: 300,
    });
    const pid = await waitFor(async () => supervisor.pid(), 'start', 5000, 20);
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    await supervisor.stop();
    assert.equal(alive(pid), false);
    assert.ok(Date.now() - started >= 250, 'waited for the grace time');
  });
});
