// The whole product on a real cloud-init boot: gitstrap's own user-data, rendered by the built CLI
// from a test recipe with --set pointing at a git daemon and a file server on the host, boots the
// cached Debian 12 image under QEMU. First boot installs the agent bundle (by URL and sha256),
// which clones the service and data repos, starts the service and keeps the data fresh.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { describe, test } from 'node:test';
import { AGENT_BUNDLE } from '../helpers/cli.js';
import { commitFiles, makeRepo, startGitDaemon } from '../helpers/git.js';
import { tempDir } from '../helpers/tmp.js';
import { withVm, type Vm } from './harness.js';
import { startFileServer, toGuestUrl } from './host-servers.js';
import {
  PRODUCT_NAME,
  PRODUCT_PORT,
  WEBHOOK_SECRET_FILE,
  callWebhook,
  hubSignature,
  makeProductService,
  problemsIn,
  readStatus,
  renderProductUserData,
  watchService,
} from './product.js';

const BOOT_TIMEOUT_MS = 8 * 60_000;
const RESULT_FILE = '/var/lib/gitstrap/bootstrap-result.json';

/** The repos and servers on the host, and the --set values that point the recipe at them. */
async function hostSide(t: Parameters<typeof tempDir>[0]) {
  const dir = tempDir(t);
  const token = randomBytes(6).toString('hex');
  makeProductService(path.join(dir, 'repos/service.git'));
  const dataRepo = path.join(dir, 'repos/data.git');
  const v1 = `v1 ${token}\n`;
  const v1Commit = makeRepo(dataRepo, { 'message.txt': v1 });
  const daemon = await startGitDaemon(t, path.join(dir, 'repos'));
  const files = await startFileServer(t, { 'gitstrap-agent.cjs': AGENT_BUNDLE });
  const sets: Record<string, string> = {
    'service.repo': toGuestUrl(daemon.url('service.git')),
    'data.repo': toGuestUrl(daemon.url('data.git')),
    'agent.source.url': files.guestUrl('gitstrap-agent.cjs'),
    'agent.source.sha256': files.sha256('gitstrap-agent.cjs'),
  };
  return { token, dataRepo, v1, v1Commit, sets, files };
}

/** bootstrap-result.json, first boot's marker. */
async function marker(vm: Vm): Promise<Record<string, unknown>> {
  return JSON.parse(await vm.run(['cat', RESULT_FILE])) as Record<string, unknown>;
}

describe('the whole product on a real cloud-init boot', () => {
  test(
    'serves the data; a push shows after the webhook and after a scheduled sync, with no error between; a reboot serves the same data',
    { timeout: 30 * 60_000 },
    async (t) => {
      const host = await hostSide(t);
      const userData = await renderProductUserData(host.sets);

      await withVm(t, { name: 'product', userData, forward: [PRODUCT_PORT] }, async (vm) => {
        const site = vm.url(PRODUCT_PORT, '/');
        const statusUrl = vm.url(PRODUCT_PORT, '/_gitstrap/status.json');
        const hookUrl = vm.url(PRODUCT_PORT, '/_gitstrap/hooks/sync');

        // The service answers on the forwarded port with content from the data repo.
        const first = await vm.waitForHttp(site, {
          timeoutMs: BOOT_TIMEOUT_MS,
          accept: (body) => body === host.v1,
        });
        t.diagnostic(`boot to first 200 with data: ${(first.ms / 1000).toFixed(1)} s`);
        assert.deepEqual(
          host.files.requests.map((r) => `${r.method} ${r.path} ${r.status}`),
          ['GET /gitstrap-agent.cjs 200'],
        );

        // cloud-init is done without errors; first boot's marker says success.
        const ci = await vm.run(['cloud-init', 'status', '--wait', '--long'], {
          timeoutMs: 300_000,
        });
        assert.match(ci, /^status: done$/m);
        const ciResult = JSON.parse(await vm.run(['cat', '/run/cloud-init/result.json'])) as {
          v1: { errors: unknown[] };
        };
        assert.deepEqual(ciResult.v1.errors, []);
        // The Node.js first boot reports is the guest's (Debian 12's nodejs package).
        const nodeVersion = (await vm.run(['node', '--version'])).trim();
        assert.match(
          vm.serialText(),
          new RegExp(
            `gitstrap: git version [\\d.]+; Node\\.js ${nodeVersion.replace(/\./g, '\\.')}`,
          ),
        );
        const success = await marker(vm);
        assert.equal(success.result, 'success', JSON.stringify(success));
        assert.equal(success.recipe, PRODUCT_NAME);
        // The first-boot script's step unit started the unit the agent carries (not the fallback
        // of bootstrap first-boot, which says so in the same line).
        assert.match(
          await vm.run(['head', '-n', '1', '/etc/systemd/system/gitstrap@.service']),
          /\(written at first boot by the first-boot script, from the agent bundle\)\.$/m,
        );
        // The agent runs as its own unprivileged user.
        const owner = await vm.run(['ps', '-o', 'user=', '-C', 'node']);
        assert.deepEqual([...new Set(owner.trim().split(/\s+/))], ['gitstrap']);

        // The operator puts the webhook secret on the instance (never in user-data).
        const secret = randomBytes(24).toString('hex');
        assert.ok(!userData.includes(secret));
        await vm.run([
          'sh',
          '-c',
          'umask 077 && printf %s "$1" >"$2" && chown gitstrap:gitstrap "$2"',
          'sh',
          secret,
          WEBHOOK_SECRET_FILE,
        ]);

        const watcher = watchService(site);
        let seen;
        try {
          // An unsigned call changes nothing.
          assert.equal(await callWebhook(hookUrl, '{}', undefined), 401);

          // Push v2 where no scheduled sync is near, so the webhook is what brings it.
          await awayFromScheduledSync(statusUrl);
          const v2 = `v2 ${host.token}\n`;
          const v2Commit = commitFiles(host.dataRepo, { 'message.txt': v2 }, 'v2');
          const body = JSON.stringify({ ref: 'refs/heads/main', after: v2Commit });
          const hookedAt = Date.now();
          assert.equal(await callWebhook(hookUrl, body, hubSignature(secret, body)), 202);
          await vm.waitForHttp(site, { timeoutMs: 60_000, accept: (b) => b === v2 });
          t.diagnostic(`webhook to new data served: ${Date.now() - hookedAt} ms`);
          assert.equal((await publishRecord(statusUrl, v2Commit))?.trigger, 'webhook');

          // Push v3 and call nothing: the schedule (every 20 s) brings it.
          const v3 = `v3 ${host.token}\n`;
          const v3Commit = commitFiles(host.dataRepo, { 'message.txt': v3 }, 'v3');
          await vm.waitForHttp(site, { timeoutMs: 120_000, accept: (b) => b === v3 });
          assert.equal((await publishRecord(statusUrl, v3Commit))?.trigger, 'schedule');
        } finally {
          seen = await watcher.stop();
        }
        const versions = [host.v1, `v2 ${host.token}\n`, `v3 ${host.token}\n`];
        const problems = problemsIn(seen, versions);
        if (problems.length) {
          // Say why: what the agent logged about the service and the proxy.
          const journal = await vm.run([
            'sh',
            '-c',
            'journalctl -o cat --no-pager -u "gitstrap@$1" | grep -E "proxy|service\\.|data\\." || true',
            'sh',
            PRODUCT_NAME,
          ]);
          problems.push('agent log:', ...journal.trim().split('\n').slice(-40));
        }
        assert.deepEqual(problems, [], 'every answer was a 200 with a version');
        assert.deepEqual(
          versions.map((v) => seen.some((s) => s.body === v)),
          [true, true, true],
        );
        t.diagnostic(`${seen.length} requests while syncing, all 200`);

        // After a guest reboot the agent comes back and serves the same data; first boot does not
        // run again.
        const before = await readStatus(statusUrl);
        await vm.reboot();
        await vm.waitForHttp(site, { timeoutMs: 5 * 60_000, accept: (b) => b === versions[2] });
        const after = await readStatus(statusUrl);
        assert.equal(after.data?.commit, before.data?.commit);
        assert.equal(after.service.commit, before.service.commit);
        assert.deepEqual(await marker(vm), success);
      });
    },
  );

  test(
    'a failing install step ends first boot with a marker naming it; the ttl still powers the machine off on time',
    { timeout: 30 * 60_000 },
    async (t) => {
      const host = await hostSide(t);
      const userData = await renderProductUserData({
        ...host.sets,
        'service.install': '[{name: build, run: [sh, -c, "echo compiling; exit 7"]}]',
        ttl: '3m',
      });

      await withVm(t, { name: 'failing', userData, forward: [PRODUCT_PORT] }, async (vm) => {
        // First boot ends as soon as the agent records the failure, not after its health timeout.
        const failure = await waitForMarker(vm, BOOT_TIMEOUT_MS);
        t.diagnostic(`failure marker after ${(vm.elapsed() / 1000).toFixed(1)} s`);
        assert.equal(failure.result, 'failure', JSON.stringify(failure));
        assert.equal(failure.step, 'install:build');
        assert.equal(failure.message, 'install step "build" failed: exit code 7');
        await vm.waitForSerial(/gitstrap: bootstrap failed at step install:build/, 10_000);
        const ci = await vm.exec(['cloud-init', 'status', '--wait', '--long'], {
          timeoutMs: 120_000,
        });
        assert.match(ci.stdout, /^status: error$/m, 'cloud-init reports the failed first boot');

        // The deployment's end, as first boot wrote it, and the guest clock against the host's.
        const expiresAt = Date.parse(
          (await vm.run(['cat', '/var/lib/gitstrap/expires-at'])).trim(),
        );
        const asked = Date.now();
        const guestNow = Number((await vm.run(['date', '+%s%3N'])).trim());
        const skew = guestNow - (asked + Date.now()) / 2;
        const due = expiresAt - skew; // the expiry on the host's clock
        assert.ok(due > Date.now(), 'the ttl has not run out before the failure was reported');

        const off = await vm.waitForPowerOff(due - Date.now() + 3 * 60_000);
        const offAt = Date.now();
        assert.equal(off.reason, 'guest-shutdown');
        t.diagnostic(`powered off ${((offAt - due) / 1000).toFixed(1)} s after the expiry`);
        assert.ok(offAt >= due - 2000, `powered off ${due - offAt} ms before the expiry`);
        assert.ok(offAt <= due + 90_000, `powered off ${offAt - due} ms after the expiry`);
      });
    },
  );
});

/** The publish of `commit` in the status history. */
function publishOf(status: Awaited<ReturnType<typeof readStatus>>, commit: string) {
  return status.data?.history.find((h) => h.outcome === 'published' && h.commit === commit);
}

/**
 * The history record of `commit`'s publish. The new version is served the moment it is swapped in;
 * the sync records its result after pruning and notifying, so the record may come a moment later.
 */
async function publishRecord(statusUrl: string, commit: string) {
  for (let i = 0; i < 40; i++) {
    const found = publishOf(await readStatus(statusUrl), commit);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 250));
  }
  return undefined;
}

/** Waits until the next scheduled sync is at least 12 s away (one just ran, or none is near). */
async function awayFromScheduledSync(statusUrl: string): Promise<void> {
  for (let i = 0; i < 10; i++) {
    const next = (await readStatus(statusUrl)).data?.nextSync;
    if (!next) throw new Error('status.json shows no next scheduled sync');
    const wait = Date.parse(next) - Date.now();
    if (wait >= 12_000) return;
    await new Promise((resolve) => setTimeout(resolve, Math.max(wait, 0) + 4000));
  }
  throw new Error('could not find a quiet moment between scheduled syncs');
}

/** Polls for first boot's marker. */
async function waitForMarker(vm: Vm, timeoutMs: number): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // Early in the boot the guest agent may not answer yet.
    const result = await vm
      .exec(['cat', RESULT_FILE], { timeoutMs: 20_000 })
      .catch(() => undefined);
    if (result?.exitCode === 0 && result.stdout.trim()) {
      return JSON.parse(result.stdout) as Record<string, unknown>;
    }
    if (Date.now() > deadline) throw new Error(`no ${RESULT_FILE} after ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}
