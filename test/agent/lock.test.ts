import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { acquireLock } from '../../src/agent/lock.js';
import { isProcessAlive, procProbe } from '../../src/lib/pid-lock.js';
import { startProcess } from '../helpers/proc.js';
import { tempDir } from '../helpers/tmp.js';

describe('agent lock', () => {
  test('takes the lock, refuses a second taker while the owner lives, releases', (t) => {
    const file = path.join(tempDir(t), 'agent.lock');
    const lock = acquireLock(file);
    const owner = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(owner.pid, process.pid);
    assert.equal(owner.startTicks, procProbe.startTicks(process.pid));
    assert.throws(
      () => acquireLock(file, { pid: 999_999 }),
      (error: Error) => {
        assert.match(
          error.message,
          new RegExp(
            `^an agent is already running for this state root \\(pid ${process.pid}, since `,
          ),
        );
        return true;
      },
    );
    assert.deepEqual(
      JSON.parse(readFileSync(file, 'utf8')),
      owner,
      'the refused taker changed nothing',
    );
    lock.release();
    assert.equal(existsSync(file), false);
  });

  test("refuses while another live process holds it (that process's start time matches)", async (t) => {
    const file = path.join(tempDir(t), 'agent.lock');
    const other = startProcess(t, 'sleep', ['30']);
    acquireLock(file, { pid: other.pid });
    assert.throws(() => acquireLock(file), new RegExp(`pid ${other.pid}`));
  });

  test("takes over a dead owner's lock", async (t) => {
    const file = path.join(tempDir(t), 'agent.lock');
    const other = startProcess(t, 'true', []);
    await other.exited;
    acquireLock(file, { pid: other.pid });
    const lock = acquireLock(file);
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).pid, process.pid);
    lock.release();
  });

  test('takes over a lock from an earlier boot, or whose PID now belongs to another process', (t) => {
    const file = path.join(tempDir(t), 'agent.lock');
    const bootId = procProbe.bootId();
    writeFileSync(
      file,
      JSON.stringify({ pid: process.pid, bootId: 'another-boot', startedAt: 'then' }),
    );
    assert.equal(
      isProcessAlive({ pid: process.pid, bootId: 'another-boot' }),
      bootId === undefined,
    );
    acquireLock(file).release();
    const reused = { pid: process.pid, startTicks: '1', startedAt: 'then' };
    assert.equal(isProcessAlive(reused), false);
    writeFileSync(file, JSON.stringify(reused));
    acquireLock(file).release();
  });

  test('an unreadable (half-written) lock counts as stale; release leaves a lock that is not ours', (t) => {
    const file = path.join(tempDir(t), 'agent.lock');
    writeFileSync(file, '{"pi');
    const lock = acquireLock(file);
    writeFileSync(file, JSON.stringify({ pid: 1, startedAt: 'later' }));
    lock.release();
    assert.ok(existsSync(file));
  });
});
