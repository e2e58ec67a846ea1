// The npm agent source on first boot, for real: the user-data's first-boot script runs in the
// sandbox (test/userdata/sandbox.ts) with the real npm that Debian 12 and Ubuntu 24.04 ship (9.2,
// on Node 18.19) against a real registry on 127.0.0.1 (verdaccio) holding gitstrap as `npm pack`
// makes it; the installed gitstrap then runs the rest of first boot (`bootstrap first-boot`). Only
// system commands (apt-get, systemctl, curl, ...) are stand-ins.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { agentUnitText } from '../../src/userdata/agent-unit.js';
import { INSTANCE_PATHS } from '../../src/userdata/index.js';
import { freePort } from '../helpers/proc.js';
import { packGitstrap, startRegistry, type Registry } from '../helpers/registry.js';
import { tempDir } from '../helpers/tmp.js';
import { requireNode18, requireNpm9 } from '../helpers/tools.js';
import { PACKAGE_VERSION, render } from './helpers.js';
import { callsOf, runUserData, type SandboxRun } from './sandbox.js';

/** First boot of open-qa's user-data with agent.registry set, on a machine with git, curl, Node
 * 18.19 and npm 9.2 (npm's global prefix is the sandbox's /usr, its cache the sandbox's). */
async function firstBoot(t: Parameters<typeof tempDir>[0], registryUrl: string) {
  // The agent's health endpoint, as the installed gitstrap's `bootstrap first-boot` asks for it.
  const server = http.createServer((_req, res) => res.writeHead(200).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  const userData = render('open-qa', [`agent.registry=${registryUrl}`, `serve.port=${port}`], {
    healthTimeoutSeconds: 20,
  }).body;
  let root = '';
  const run = await runUserData(t, userData, {
    installed: ['git', 'curl'],
    realTools: { node: requireNode18(), npm: requireNpm9() },
    before: (r) => (root = r),
    envFor: (r) => ({
      npm_config_prefix: path.join(r, 'usr'),
      npm_config_cache: path.join(r, 'root/.npm'),
      // npm retries a refused connection for about a minute; the sandbox allows one.
      npm_config_fetch_retries: '0',
    }),
  });
  return { run, root };
}

const lastLine = (run: SandboxRun) =>
  run.output
    .split('\n')
    .filter((l) => l.startsWith('gitstrap: error: '))
    .pop();

describe('first boot installs the agent from an npm registry (real npm 9.2 on Node 18.19)', () => {
  let registry: Registry;
  const cleanups: Array<() => unknown> = [];
  const suite = { after: (fn: () => unknown) => void cleanups.push(fn) };
  before(async () => {
    registry = await startRegistry(suite);
    await registry.publish(packGitstrap(tempDir(suite)));
  });
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });

  test('the default source, gitstrap@VERSION from agent.registry: installed, linked, and it runs', async (t) => {
    const { run, root } = await firstBoot(t, registry.url);
    assert.equal(run.code, 0, run.output);
    assert.equal(run.result?.result, 'success', run.output);
    assert.match(run.output, /added 1 package/);
    // The script's step unit found the unit in the installed package's agent bundle, wrote it
    // and started it at once; the rest of first boot ran in the installed gitstrap (on Node
    // 18.19): it enabled the unit, joined the start and saw the agent answer.
    assert.match(run.output, /^gitstrap: step health: done$/m);
    assert.equal(
      readFileSync(path.join(root, INSTANCE_PATHS.agentUnit), 'utf8'),
      agentUnitText({ packages: true, carried: true }),
    );
    const unit = 'gitstrap@open-qa.service';
    assert.deepEqual(callsOf(run, 'systemctl'), [
      ['start', '--no-block', unit],
      ['enable', '--no-reload', unit],
      ['start', unit],
    ]);
    // The only download is gitstrap itself: it bundles its libraries. npm asks for the optional
    // AWS SDK's metadata (this registry has none) but --omit=optional installs none of it.
    assert.deepEqual(
      registry.requests().filter((r) => r.endsWith('.tgz')),
      [`/gitstrap/-/gitstrap-${PACKAGE_VERSION}.tgz`],
    );
    const bin = path.join(root, INSTANCE_PATHS.bin);
    assert.equal(realpathSync(bin), realpathSync(path.join(root, 'usr/bin/bootstrap')));
    const version = spawnSync(requireNode18(), [bin, '--version'], { encoding: 'utf8' });
    assert.equal(version.stdout.trim(), PACKAGE_VERSION, version.stderr);
  });
});

describe('first boot says why the agent could not be installed, in one line', () => {
  test('gitstrap is not on the registry: publish it, or host the bundle', async (t) => {
    const empty = await startRegistry(t);
    const { run } = await firstBoot(t, empty.url);
    assert.equal(run.result?.step, 'agent', run.output);
    assert.equal(
      lastLine(run),
      `gitstrap: error: gitstrap@${PACKAGE_VERSION} is not on ${empty.url}: publish it there (docs/releasing.md), or host the agent bundle yourself: bootstrap bundle prints the agent.source to set`,
    );
    assert.match(run.output, /^gitstrap: bootstrap failed at step agent$/m);
  });

  test('the registry cannot be reached: says which, and what to check', async (t) => {
    const closed = `http://127.0.0.1:${await freePort()}/`;
    const { run } = await firstBoot(t, closed);
    assert.equal(run.result?.step, 'agent', run.output);
    assert.equal(
      lastLine(run),
      `gitstrap: error: cannot reach ${closed} to install gitstrap@${PACKAGE_VERSION}: check the network path from this instance (subnet route, NAT, proxy, security group), or set agent.registry to a registry it can reach`,
    );
  });
});
