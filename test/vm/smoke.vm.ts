// The VM tier's smoke test: a real cloud-init boot of the cached Debian 12 image with a hand-written
// cloud-config that downloads a file from a host HTTP server (checked by sha256), clones a service
// from a host `git daemon` and starts it. It proves the harness end to end: port forwards, the
// guest reaching host servers as 10.0.2.2, cloud-init's completion, a clean guest reboot, detecting
// a power-off the guest starts itself, and that nothing is left running afterwards.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { startGitDaemon } from '../helpers/git.js';
import { tempDir } from '../helpers/tmp.js';
import { isProcessAlive, withVm } from './harness.js';
import { startFileServer, toGuestUrl } from './host-servers.js';
import {
  FINAL_MESSAGE_MARK,
  MINIMAL_SERVICE_PORT,
  makeMinimalService,
  planMinimalUserData,
} from './minimal-service.js';

const BOOT_TIMEOUT_MS = 6 * 60_000;

test(
  'a hand-written cloud-config boots, serves, reboots cleanly and powers itself off',
  { timeout: 20 * 60_000 },
  async (t) => {
    const dir = tempDir(t);
    const token = `smoke-${randomBytes(6).toString('hex')}`;
    const commit = makeMinimalService(path.join(dir, 'repos/svc.git'), token);
    const daemon = await startGitDaemon(t, path.join(dir, 'repos'));
    const extra = `extra-${randomBytes(6).toString('hex')}\n`;
    const files = await startFileServer(t, { 'extra.txt': Buffer.from(extra) });
    const userData = planMinimalUserData({
      repoUrl: toGuestUrl(daemon.url('svc.git')),
      download: { url: files.guestUrl('extra.txt'), sha256: files.sha256('extra.txt') },
    });

    let pid = 0;
    let hostPort = 0;
    await withVm(t, { name: 'smoke', userData, forward: [MINIMAL_SERVICE_PORT] }, async (vm) => {
      pid = vm.pid;
      hostPort = vm.hostPort(MINIMAL_SERVICE_PORT);

      // The service answers on the forwarded port with the content of the cloned repo.
      const first = await vm.waitForHttp(vm.url(MINIMAL_SERVICE_PORT, '/'), {
        timeoutMs: BOOT_TIMEOUT_MS,
        accept: (body) => body.includes(token),
      });
      t.diagnostic(`boot to first 200: ${(first.ms / 1000).toFixed(1)} s (${vm.accel})`);
      console.error(`smoke: boot to first 200 in ${(first.ms / 1000).toFixed(1)} s (${vm.accel})`);
      assert.equal(first.body, `${token}\n`);
      assert.equal((await vm.run(['git', '-C', '/opt/svc', 'rev-parse', 'HEAD'])).trim(), commit);

      // The file fetched from the host's HTTP server passed its sha256 check and is served.
      const fetched = await vm.waitForHttp(vm.url(MINIMAL_SERVICE_PORT, '/extra'), {
        timeoutMs: 10_000,
      });
      assert.equal(fetched.body, extra);
      assert.deepEqual(
        files.requests.map((r) => `${r.method} ${r.path} ${r.status}`),
        ['GET /extra.txt 200'],
      );

      // cloud-init reports done without errors, and its final_message reached the serial console.
      const status = await vm.run(['cloud-init', 'status', '--wait', '--long'], {
        timeoutMs: 120_000,
      });
      assert.match(status, /^status: done$/m);
      const result = JSON.parse(await vm.run(['cat', '/run/cloud-init/result.json'])) as {
        v1: { errors: unknown[]; datasource: string };
      };
      assert.deepEqual(result.v1.errors, []);
      assert.match(result.v1.datasource, /NoCloud/);
      await vm.waitForSerial(new RegExp(FINAL_MESSAGE_MARK), 10_000);

      // The guest reaches nothing but QEMU's user network: no default route, no name server.
      assert.equal((await vm.run(['ip', '-4', 'route', 'show', 'default'])).trim(), '');
      const lookup = await vm.exec(['getent', 'hosts', 'deb.debian.org'], { timeoutMs: 30_000 });
      assert.notEqual(lookup.exitCode, 0, `the guest resolved a name: ${lookup.stdout}`);

      // A clean reboot: the guest OS restarts (a new kernel boot, a new boot id); the transient
      // service is gone, the cloned checkout is still on disk.
      const bootId = await vm.bootId();
      const reboot = await vm.reboot();
      assert.notEqual(reboot.bootId, bootId);
      assert.equal(vm.bootCount(), 2);
      t.diagnostic(
        `reboot: reset at ${(reboot.resetMs / 1000).toFixed(1)} s, up at ${(reboot.upMs / 1000).toFixed(1)} s`,
      );
      assert.equal((await vm.run(['git', '-C', '/opt/svc', 'rev-parse', 'HEAD'])).trim(), commit);

      // A power-off the guest schedules for itself (as a deployment's ttl does) is detected on time.
      const scheduledAt = vm.elapsed();
      await vm.run([
        'systemd-run',
        '--on-active=5',
        '--unit=smoke-poweroff',
        'systemctl',
        'poweroff',
      ]);
      const off = await vm.waitForPowerOff(120_000);
      assert.equal(off.reason, 'guest-shutdown');
      assert.ok(
        off.ms >= scheduledAt + 5000,
        `powered off ${off.ms - scheduledAt} ms after scheduling`,
      );
      assert.equal(vm.running, false);
    });

    // Everything the test started is stopped: QEMU (and its port forward), the git daemon, the file server.
    assert.equal(isProcessAlive(pid), false, `QEMU (pid ${pid}) is still running`);
    await daemon.stop();
    await files.stop();
    for (const port of [hostPort, daemon.port, files.port]) {
      assert.equal(await accepts(port), false, `something still listens on 127.0.0.1:${port}`);
    }
  },
);

/** True when a TCP connection to 127.0.0.1:port is accepted. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(2000, () => (socket.destroy(), resolve(false)));
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}
