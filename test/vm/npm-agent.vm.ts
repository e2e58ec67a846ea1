// The default agent source on a real cloud-init boot: user-data with no agent.source installs
// gitstrap@VERSION from npm, here from a real registry on the test host (verdaccio, through the
// recipe's agent.registry) holding gitstrap as `npm pack` makes it. The guest's own npm (Debian
// 12's, on its Node.js 18) installs it; the agent then clones, serves and answers with the data.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { makeRepo, startGitDaemon } from '../helpers/git.js';
import { packGitstrap, startRegistry } from '../helpers/registry.js';
import { tempDir } from '../helpers/tmp.js';
import { projectRoot } from '../helpers/tools.js';
import { withVm } from './harness.js';
import { toGuestUrl } from './host-servers.js';
import { PRODUCT_PORT, makeProductService, renderProductUserData } from './product.js';

const RECIPE = path.join(projectRoot, 'test/vm/fixtures/vm-npm.yaml');
const VERSION = (
  JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string }
).version;

describe('the npm agent source on a real cloud-init boot', () => {
  test(
    'default user-data installs gitstrap from the registry agent.registry names; the service answers',
    { timeout: 30 * 60_000 },
    async (t) => {
      const dir = tempDir(t);
      const token = randomBytes(6).toString('hex');
      makeProductService(path.join(dir, 'repos/service.git'));
      makeRepo(path.join(dir, 'repos/data.git'), { 'message.txt': `npm ${token}\n` });
      const daemon = await startGitDaemon(t, path.join(dir, 'repos'));
      const registry = await startRegistry(t);
      await registry.publish(packGitstrap(dir));
      const userData = await renderProductUserData(
        {
          'service.repo': toGuestUrl(daemon.url('service.git')),
          'data.repo': toGuestUrl(daemon.url('data.git')),
          'agent.registry': toGuestUrl(registry.url),
        },
        RECIPE,
      );
      assert.ok(!userData.includes('source:'), 'the default agent source');

      await withVm(t, { name: 'npm-agent', userData, forward: [PRODUCT_PORT] }, async (vm) => {
        const first = await vm.waitForHttp(vm.url(PRODUCT_PORT, '/'), {
          timeoutMs: 10 * 60_000,
          accept: (body) => body === `npm ${token}\n`,
        });
        t.diagnostic(
          `boot to first 200 with data (agent from npm): ${(first.ms / 1000).toFixed(1)} s`,
        );
        // First boot's health step sees the agent answer too, then writes its marker.
        await vm.run(['cloud-init', 'status', '--wait'], { timeoutMs: 300_000 });
        const marker = JSON.parse(
          await vm.run(['cat', '/var/lib/gitstrap/bootstrap-result.json']),
        ) as Record<string, unknown>;
        assert.equal(marker.result, 'success', JSON.stringify(marker));
        // The first-boot script's step unit started the unit the agent carries (not the fallback
        // of bootstrap first-boot, which says so in the same line).
        assert.match(
          await vm.run(['head', '-n', '1', '/etc/systemd/system/gitstrap@.service']),
          /\(written at first boot by the first-boot script, from the agent bundle\)\.$/m,
        );
        await vm.waitForSerial(/gitstrap: agent installed \(npm\)/, 10_000);
        // The guest's npm installed gitstrap (one package: its libraries are bundled) globally.
        assert.equal((await vm.run(['bootstrap', '--version'])).trim(), VERSION);
        const listed = await vm.run(['npm', 'ls', '--global', '--parseable', '--depth=0']);
        assert.match(listed, /\/node_modules\/gitstrap$/m);
        assert.deepEqual(
          registry.requests().filter((r) => r.endsWith('.tgz')),
          [`/gitstrap/-/gitstrap-${VERSION}.tgz`],
        );
      });
    },
  );
});
