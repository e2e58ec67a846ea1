// The host side of the VM tier without a guest: the file server the guest downloads from, and the
// QMP client against a real QEMU that runs no machine (it starts in milliseconds).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { describe, test } from 'node:test';
import { startProcess } from '../helpers/proc.js';
import { tempDir } from '../helpers/tmp.js';
import { requireTool } from '../helpers/tools.js';
import { startFileServer } from './host-servers.js';
import { QmpClient } from './qmp.js';

describe('startFileServer', () => {
  test('serves exactly the named files with their sha256, and records every request', async (t) => {
    const body = Buffer.from('#!/usr/bin/env node\nconsole.log(1)\n');
    const files = await startFileServer(t, { 'gitstrap-agent.cjs': body });
    assert.equal(
      files.sha256('gitstrap-agent.cjs'),
      createHash('sha256').update(body).digest('hex'),
    );
    assert.equal(
      files.guestUrl('gitstrap-agent.cjs'),
      `http://10.0.2.2:${files.port}/gitstrap-agent.cjs`,
    );

    const ok = await fetch(files.hostUrl('gitstrap-agent.cjs'));
    assert.equal(ok.status, 200);
    assert.deepEqual(Buffer.from(await ok.arrayBuffer()), body);
    for (const miss of ['/', '/../package.json', '/.git/config', '/gitstrap-agent.cjs/x']) {
      const res = await fetch(`http://127.0.0.1:${files.port}${miss}`);
      assert.equal(res.status, 404, miss);
    }
    const post = await fetch(files.hostUrl('gitstrap-agent.cjs'), { method: 'POST' });
    assert.equal(post.status, 405);
    assert.deepEqual(
      files.requests.map((r) => `${r.method} ${r.status}`),
      ['GET 200', 'GET 404', 'GET 404', 'GET 404', 'GET 404', 'POST 405'],
    );
    assert.throws(() => files.sha256('other'), /does not serve other/);
    await files.stop();
    await assert.rejects(fetch(files.hostUrl('gitstrap-agent.cjs')));
  });

  test('refuses a name that is not a plain file name', async (t) => {
    await assert.rejects(
      startFileServer(t, { '../x': Buffer.from('') }),
      /expected a plain file name/,
    );
  });
});

describe('QmpClient', () => {
  test('runs commands on a real QEMU and records the SHUTDOWN event of a quit', async (t) => {
    const qemu = requireTool('qemu-system-x86_64', 'qemu-system-x86');
    const socket = path.join(tempDir(t), 'qmp.sock');
    const proc = startProcess(t, qemu, [
      '-machine',
      'none',
      '-nodefaults',
      '-display',
      'none',
      '-qmp',
      `unix:${socket},server=on,wait=off`,
    ]);
    const qmp = await QmpClient.connect(socket);
    t.after(() => qmp.close());
    const status = (await qmp.execute('query-status')) as { status: string; running: boolean };
    assert.equal(status.running, true);
    await assert.rejects(
      qmp.execute('no-such-command'),
      /QMP: The command no-such-command has not been found/,
    );
    await qmp.execute('quit');
    const shutdown = await qmp.waitForEvent((e) => e.event === 'SHUTDOWN', 5000, 0, 'SHUTDOWN');
    assert.equal(shutdown.data.guest, false);
    assert.equal(shutdown.data.reason, 'host-qmp-quit');
    assert.equal(await proc.exited, 0);
    await assert.rejects(qmp.execute('query-status'), /QMP connection closed/);
  });
});
