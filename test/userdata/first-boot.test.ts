// The first boot, run: user-data staged by cloud-init's own code into a sandbox and its scripts run
// with stand-in system commands (test/userdata/sandbox.ts). Each case is a kind of machine or a
// recipe choice; the result file and the console lines are what a launcher or a person reads. The
// script's part ends by handing over to `bootstrap first-boot` (a stand-in here, the real built CLI
// in the last cases; its own tests: first-boot-finish.test.ts).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { START_FAILURE_FILE } from '../../src/lib/instance-paths.js';
import { agentUnitText } from '../../src/userdata/agent-unit.js';
import { INSTANCE_PATHS } from '../../src/userdata/index.js';
import { AGENT_BUNDLE, BIN } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { requireNode18 } from '../helpers/tools.js';
import { render } from './helpers.js';
import { verifyUnits } from './real-tools.js';
import { callsOf, linkTarget, runUserData, type SandboxRun } from './sandbox.js';

/** The built agent bundle (npm test builds it first). */
function builtAgentBundle(): string {
  assert.ok(existsSync(AGENT_BUNDLE), `${AGENT_BUNDLE} is missing: run npm run build`);
  return AGENT_BUNDLE;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const at = (run: SandboxRun, file: string) => path.join(run.root, file);
const read = (run: SandboxRun, file: string) => readFileSync(at(run, file), 'utf8');
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** The script's part succeeded and handed over to bootstrap first-boot (a stand-in). */
function assertHandedOver(run: SandboxRun, args: string[] = HANDOVER): void {
  assert.equal(run.code, 0, run.output);
  assert.deepEqual(firstBootCalls(run), [args], run.output);
  assert.equal(run.result, undefined, 'bootstrap first-boot writes the result');
  assert.doesNotMatch(run.output, /bootstrap failed/);
}

/** The arguments open-qa's user-data gives bootstrap first-boot. */
const HANDOVER = ['first-boot', '--recipe', 'open-qa', '--port', '80', '--packages'];

/** The calls of bootstrap first-boot (through the stand-in bootstrap or the bundle's wrapper). */
const firstBootCalls = (run: SandboxRun) =>
  run.calls
    .map((c) => (c[0] === 'node' && c[1]?.endsWith('.cjs') ? c.slice(2) : c.slice(1)))
    .filter((args) => args[0] === 'first-boot');

function assertFailure(run: SandboxRun, step: string, exitCode: number): void {
  assert.equal(run.code, exitCode, run.output);
  assert.deepEqual(Object.keys(run.result ?? {}), ['result', 'step', 'exitCode', 'at']);
  assert.equal(run.result?.result, 'failure');
  assert.equal(run.result?.step, step);
  assert.equal(run.result?.exitCode, exitCode);
  assert.match(String(run.result?.at), ISO);
  assert.match(run.output, new RegExp(`^gitstrap: bootstrap failed at step ${step}$`, 'm'));
  assert.doesNotMatch(run.output, /bootstrap succeeded/);
}

/** The steps the script started, in order. */
const stepsOf = (run: SandboxRun) =>
  [...run.output.matchAll(/^gitstrap: step (\w+): started$/gm)].map((m) => m[1]);

describe('a fresh Debian machine with the default agent source', () => {
  for (const shell of ['dash', 'bash', 'busybox'] as const) {
    test(`installs what is missing and the agent from npm, then hands over to bootstrap first-boot (sh = ${shell})`, async (t) => {
      const run = await runUserData(t, render('open-qa').body, { shell });
      assertHandedOver(run);
      assert.deepEqual(stepsOf(run), ['args', 'packages', 'user', 'agent', 'unit']);
      assert.deepEqual(callsOf(run, 'apt-get'), [
        ['-q', '-o', 'DPkg::Lock::Timeout=300', 'update'],
        [
          '-q',
          '-y',
          '-o',
          'DPkg::Lock::Timeout=300',
          'install',
          '--no-install-recommends',
          'git',
          'nodejs',
          'npm',
          'curl',
        ],
      ]);
      assert.deepEqual(callsOf(run, 'useradd'), [
        [
          '--system',
          '--user-group',
          '--home-dir',
          '/var/lib/gitstrap',
          '--no-create-home',
          '--shell',
          '/usr/sbin/nologin',
          '--comment',
          'gitstrap agent',
          'gitstrap',
        ],
      ]);
      assert.deepEqual(callsOf(run, 'npm'), [
        [
          'install',
          '--global',
          '--omit=optional',
          '--no-audit',
          '--no-fund',
          '--no-update-notifier',
          '--',
          'gitstrap@0.1.0',
        ],
        ['prefix', '--global'],
      ]);
      assert.equal(linkTarget(at(run, INSTANCE_PATHS.bin)), at(run, '/usr/bin/bootstrap'));
      // This stand-in agent carries no unit (the real one does: see "the unit the agent carries"
      // below), so the script asks systemd nothing without a ttl: bootstrap first-boot writes the
      // unit and starts it.
      assert.deepEqual(callsOf(run, 'systemctl'), []);
      assert.ok(!existsSync(at(run, INSTANCE_PATHS.agentUnit)));
      assert.deepEqual(callsOf(run, 'bootstrap'), [HANDOVER]);
      assert.equal(statSync(at(run, '/var/lib/gitstrap')).mode & 0o777, 0o755);
      assert.ok(!existsSync(at(run, INSTANCE_PATHS.expiresAt)), 'no ttl, no expiry');
      assert.match(run.output, /^gitstrap: git version 2\.39\.5; Node\.js v20\.11\.1$/m);
    });
  }
});

describe('other machines and agent sources', () => {
  test('dnf, with git and Node.js 18 already there: installs only npm', async (t) => {
    const run = await runUserData(t, render('open-qa').body, {
      packageManager: 'dnf',
      installed: ['git', 'node', 'curl'],
      env: { FAKE_NODE_VERSION: '18.19.0' },
    });
    assertHandedOver(run);
    assert.deepEqual(callsOf(run, 'dnf'), [['-y', '-q', 'install', 'npm']]);
  });

  test('the agent already on the image: no package manager, no download', async (t) => {
    const run = await runUserData(t, render('open-qa', ['agent.source=image']).body, {
      installed: ['git', 'node', 'curl', 'bootstrap'],
    });
    assertHandedOver(run);
    assert.deepEqual(callsOf(run, 'apt-get'), []);
    assert.deepEqual(callsOf(run, 'npm'), []);
    assert.ok(linkTarget(at(run, INSTANCE_PATHS.bin))?.endsWith('/fakebin/bootstrap'));
  });

  test('agent.source image without the agent on the image fails at step agent', async (t) => {
    const run = await runUserData(t, render('open-qa', ['agent.source=image']).body, {
      installed: ['git', 'node'],
    });
    assertFailure(run, 'agent', 1);
    assert.match(run.output, /agent\.source is image, but this image has no bootstrap command/);
  });

  for (const version of ['16.20.2', '18.13.0']) {
    test(`a distribution Node.js older than 18.19 (${version}) fails at step packages and says what to set`, async (t) => {
      const run = await runUserData(t, render('open-qa').body, {
        installed: ['git', 'node', 'npm'],
        env: { FAKE_NODE_VERSION: version },
      });
      assertFailure(run, 'packages', 1);
      assert.match(
        run.output,
        new RegExp(
          `^gitstrap: error: this distribution's Node\\.js is v${version.replace(/\./g, '\\.')}, but gitstrap needs Node\\.js 18\\.19 or newer: set agent\\.node: official in the recipe`,
          'm',
        ),
      );
      assert.deepEqual(callsOf(run, 'useradd'), [], 'later steps do not run');
      assert.deepEqual(callsOf(run, 'systemctl'), []);
    });
  }

  test('Node.js 18.19.0 (Debian 12) is enough', async (t) => {
    const run = await runUserData(t, render('open-qa').body, {
      installed: ['git', 'node', 'npm', 'curl'],
      env: { FAKE_NODE_VERSION: '18.19.0' },
    });
    assertHandedOver(run);
  });

  test('a failing package manager fails at step packages with its exit code', async (t) => {
    const run = await runUserData(t, render('open-qa').body, { env: { FAKE_PACKAGES_FAIL: '1' } });
    assertFailure(run, 'packages', 100);
  });
});

describe('an official Node.js build', () => {
  const arch = os.arch() === 'arm64' ? 'arm64' : 'x64';
  const tarball = `node-v20.18.1-linux-${arch}.tar.gz`;

  test('is downloaded, checked against SHASUMS256.txt, unpacked and put first on PATH', async (t) => {
    const run = await runUserData(t, render('open-qa', ['agent.node=official']).body, {
      installed: ['git', 'curl'],
      env: {
        FAKE_TARBALL: 'a node tarball',
        FAKE_SHASUMS: `${sha256('other')}  node-v20.18.1-linux-armv7l.tar.gz\n${sha256('a node tarball')}  ${tarball}\n`,
      },
    });
    assertHandedOver(run);
    assert.deepEqual(
      callsOf(run, 'curl').map((c) => c.at(-1)),
      [
        'https://nodejs.org/dist/v20.18.1/SHASUMS256.txt',
        `https://nodejs.org/dist/v20.18.1/${tarball}`,
      ],
    );
    const [tar] = callsOf(run, 'tar');
    assert.deepEqual(tar?.slice(2), ['-C', at(run, INSTANCE_PATHS.nodeRoot)]);
    assert.equal(
      linkTarget(at(run, '/usr/local/bin/node')),
      at(run, `${INSTANCE_PATHS.nodeRoot}/node-v20.18.1-linux-${arch}/bin/node`),
    );
    assert.ok(!callsOf(run, 'apt-get').some((c) => c.includes('nodejs')), 'no distro Node.js');
  });

  test('a checksum mismatch fails at step packages and installs nothing', async (t) => {
    const run = await runUserData(t, render('open-qa', ['agent.node=official']).body, {
      installed: ['git', 'curl'],
      env: { FAKE_TARBALL: 'tampered', FAKE_SHASUMS: `${sha256('a node tarball')}  ${tarball}\n` },
    });
    assertFailure(run, 'packages', 1);
    assert.match(run.output, new RegExp(`sha256 of ${tarball} is ${sha256('tampered')}, expected`));
    assert.deepEqual(callsOf(run, 'tar'), []);
  });
});

describe('the agent bundle from a URL, with a ttl (MIME user-data)', () => {
  const bundle = '#!/usr/bin/env node\nconsole.log("agent")\n';
  const source = (sha: string) =>
    `agent.source={url: "https://example.invalid/gitstrap-agent.cjs", sha256: "${sha}"}`;

  test('is verified and installed with its wrapper; the expiry timer comes first; systemd accepts its units', async (t) => {
    const before = Date.now();
    const userData = render('open-qa', [source(sha256(bundle)), 'ttl=3h'], { format: 'mime' }).body;
    const run = await runUserData(t, userData, {
      installed: ['git', 'node', 'curl'],
      env: { FAKE_BUNDLE: bundle },
    });
    assertHandedOver(run);
    assert.deepEqual(stepsOf(run), ['args', 'ttl', 'packages', 'user', 'agent', 'unit']);
    assert.equal(read(run, INSTANCE_PATHS.agentBundle), bundle);
    assert.equal(
      read(run, INSTANCE_PATHS.bin),
      `#!/bin/sh\n# gitstrap: runs the agent bundle (written at first boot).\nexec node ${INSTANCE_PATHS.agentBundle} "$@"\n`,
    );
    assert.equal(statSync(at(run, INSTANCE_PATHS.bin)).mode & 0o777, 0o755);
    const [curl] = callsOf(run, 'curl');
    assert.deepEqual(curl?.slice(0, 11), [
      '-fsSL',
      '--proto',
      '=https,http',
      '--retry',
      '5',
      '--retry-delay',
      '3',
      '--connect-timeout',
      '30',
      '--max-time',
      '900',
    ]);
    assert.equal(curl?.[11], '-o');
    assert.match(curl?.[12] ?? '', /\/var\/tmp\/gitstrap-first-boot\.\w+\/gitstrap-agent\.cjs$/);
    assert.ok(curl?.[12]?.startsWith(run.root), 'downloads inside the machine');
    assert.deepEqual(curl?.slice(13), ['--url', 'https://example.invalid/gitstrap-agent.cjs']);

    const expires = read(run, INSTANCE_PATHS.expiresAt).trim();
    assert.match(expires, ISO);
    const ms = Date.parse(expires) - before;
    assert.ok(ms > 3 * 3600_000 - 120_000 && ms < 3 * 3600_000 + 120_000, `expires ${expires}`);
    const calendar = expires.replace('T', ' ').replace('Z', ' UTC');
    assert.match(
      read(run, INSTANCE_PATHS.expireTimer),
      new RegExp(`^OnCalendar=${calendar}$`, 'm'),
    );
    assert.match(read(run, INSTANCE_PATHS.expireTimer), /^Persistent=true$/m);
    assert.match(
      read(run, INSTANCE_PATHS.expireService),
      /^ExecStart=\/usr\/bin\/systemctl --no-block poweroff$/m,
    );
    // A fresh machine: systemd reads the new units as they start, without a daemon-reload.
    assert.deepEqual(callsOf(run, 'systemctl').slice(0, 3), [
      ['--quiet', 'is-active', 'gitstrap-expire.timer'],
      ['enable', '--no-reload', 'gitstrap-expire.timer'],
      ['start', 'gitstrap-expire.timer'],
    ]);
    assert.ok(
      run.calls.findIndex((c) => c[1] === 'start' && c[2] === 'gitstrap-expire.timer') <
        run.calls.findIndex((c) => c[0] === 'useradd'),
    );

    const verify = verifyUnits(
      run.root,
      ['gitstrap-expire.timer', 'gitstrap-expire.service'],
      ['/usr/bin/systemctl'],
    );
    assert.equal(verify.status, 0, verify.output);
    assert.equal(verify.output, '');
  });

  test('a bundle whose sha256 does not match fails at step agent and installs nothing', async (t) => {
    const run = await runUserData(t, render('open-qa', [source(sha256('the real one'))]).body, {
      installed: ['git', 'node', 'curl'],
      env: { FAKE_BUNDLE: bundle },
    });
    assertFailure(run, 'agent', 1);
    assert.match(
      run.output,
      new RegExp(
        `sha256 of the agent bundle from https://example\\.invalid/gitstrap-agent\\.cjs is ${sha256(bundle)}, expected ${sha256('the real one')}; refusing to install it`,
      ),
    );
    assert.ok(!existsSync(at(run, INSTANCE_PATHS.agentBundle)));
    assert.ok(!existsSync(at(run, INSTANCE_PATHS.bin)));
  });

  test('curl is installed when it is missing: the download uses it', async (t) => {
    const run = await runUserData(t, render('open-qa', [source(sha256(bundle))]).body, {
      installed: ['git', 'node'],
      env: { FAKE_BUNDLE: bundle },
    });
    assertHandedOver(run);
    assert.deepEqual(callsOf(run, 'apt-get')[1]?.slice(-1), ['curl']);
    assert.equal(callsOf(run, 'curl')[0]?.at(-1), 'https://example.invalid/gitstrap-agent.cjs');
  });
});

describe('the expiry', () => {
  test('an absolute expiry from the launcher is written as given', async (t) => {
    const expiresAt = new Date('2031-02-03T04:05:06Z');
    const run = await runUserData(t, render('open-qa', [], { expiresAt }).body, {
      installed: ['git', 'node', 'npm'],
    });
    assertHandedOver(run);
    assert.equal(read(run, INSTANCE_PATHS.expiresAt), '2031-02-03T04:05:06Z\n');
    assert.equal(
      read(run, INSTANCE_PATHS.expireTimer),
      '[Unit]\nDescription=gitstrap: the end of this deployment\n[Timer]\nOnCalendar=2031-02-03 04:05:06 UTC\nPersistent=true\nAccuracySec=1s\n[Install]\nWantedBy=timers.target\n',
    );
  });

  test('a re-run on a machine whose timer runs already reloads systemd for the new end', async (t) => {
    const expiresAt = new Date('2031-02-03T04:05:06Z');
    const run = await runUserData(t, render('open-qa', [], { expiresAt }).body, {
      installed: ['git', 'node', 'npm'],
      env: { FAKE_ACTIVE: '1' },
    });
    assertHandedOver(run);
    assert.deepEqual(callsOf(run, 'systemctl').slice(0, 4), [
      ['--quiet', 'is-active', 'gitstrap-expire.timer'],
      ['daemon-reload'],
      ['enable', '--no-reload', 'gitstrap-expire.timer'],
      ['start', 'gitstrap-expire.timer'],
    ]);
  });

  test('a deployment already expired at first boot powers off and records step ttl', async (t) => {
    const run = await runUserData(
      t,
      render('open-qa', [], { expiresAt: new Date(Date.now() - 60_000) }).body,
    );
    assertFailure(run, 'ttl', 1);
    assert.deepEqual(callsOf(run, 'systemctl').at(-1), [
      '--no-block',
      'start',
      'gitstrap-expire.service',
    ]);
    assert.match(run.output, /this deployment expired at .*, before its first boot: powering off/);
    assert.deepEqual(callsOf(run, 'apt-get'), [], 'nothing else is installed');
  });
});

describe('the unit the agent carries (the built agent bundle, by URL)', () => {
  const bundle = readFileSync(builtAgentBundle(), 'utf8');
  const userData = (recipe: string) =>
    render(recipe, [
      `agent.source={url: "https://example.invalid/gitstrap-agent.cjs", sha256: "${sha256(bundle)}"}`,
    ]).body;
  const boot = (
    t: Parameters<typeof runUserData>[0],
    recipe: string,
    before?: (root: string) => void,
    shell: 'dash' | 'bash' | 'busybox' = 'dash',
  ) =>
    runUserData(t, userData(recipe), {
      shell,
      installed: ['git', 'node', 'curl'],
      env: { FAKE_BUNDLE_FILE: AGENT_BUNDLE },
      ...(before ? { before } : {}),
    });

  for (const [recipe, packages, shell] of [
    ['open-qa', true, 'dash'],
    ['open-qa', true, 'busybox'],
    ['fundraiser-auction', false, 'bash'],
  ] as const) {
    test(`${recipe}: step unit writes it${packages ? ' with its package step' : ', without a package step'} and starts it before bootstrap first-boot runs (sh = ${shell})`, async (t) => {
      const run = await boot(t, recipe, undefined, shell);
      assert.equal(run.code, 0, run.output);
      assert.deepEqual(stepsOf(run).slice(-2), ['agent', 'unit']);
      assert.equal(read(run, INSTANCE_PATHS.agentUnit), agentUnitText({ packages, carried: true }));
      assert.equal(statSync(at(run, INSTANCE_PATHS.agentUnit)).mode & 0o777, 0o644);
      assert.ok(!existsSync(`${at(run, INSTANCE_PATHS.agentUnit)}.tmp`));
      // Started without waiting (its package step may take minutes), then handed over.
      const unit = `gitstrap@${recipe}.service`;
      const agentCalls = callsOf(run, 'systemctl').filter((c) => c.at(-1) === unit);
      assert.deepEqual(agentCalls, [['start', '--no-block', unit]]);
      const started = run.calls.findIndex((c) => c[0] === 'systemctl' && c.at(-1) === unit);
      const handedOver = run.calls.findIndex((c) => c[0] === 'node' && c[2] === 'first-boot');
      assert.ok(started >= 0 && started < handedOver, JSON.stringify(run.calls));
      const verify = verifyUnits(run.root, [unit], [INSTANCE_PATHS.bin]);
      assert.equal(verify.status, 0, verify.output);
      assert.equal(verify.output, '');
    });
  }

  test("an earlier run's start-failure record goes before the start; an operator's own unit is kept and started", async (t) => {
    const record = path.join('var/lib/gitstrap/open-qa', START_FAILURE_FILE);
    const own =
      '[Service]\nExecStart=/usr/local/bin/bootstrap run --recipe /etc/gitstrap/recipes/%i.yaml\n';
    const run = await boot(t, 'open-qa', (root) => {
      mkdirSync(path.join(root, path.dirname(record)), { recursive: true });
      writeFileSync(path.join(root, record), '{"result":"failure","step":"clone"}\n');
      writeFileSync(path.join(root, INSTANCE_PATHS.agentUnit), own);
    });
    assert.equal(run.code, 0, run.output);
    assert.equal(read(run, INSTANCE_PATHS.agentUnit), own);
    assert.ok(!existsSync(at(run, record)));
    assert.deepEqual(callsOf(run, 'systemctl'), [
      ['start', '--no-block', 'gitstrap@open-qa.service'],
    ]);
  });
});

describe('the hand-over to bootstrap first-boot', () => {
  test('bootstrap first-boot failing without a result (it could not run) ends at step first-boot', async (t) => {
    const run = await runUserData(t, render('open-qa').body, {
      installed: ['git', 'node', 'npm', 'curl'],
      env: { FAKE_FIRST_BOOT_EXIT: '2' },
    });
    assertFailure(run, 'first-boot', 2);
  });

  test('a result left by an earlier run is removed before the hand-over', async (t) => {
    const run = await runUserData(t, render('open-qa').body, {
      installed: ['git', 'node', 'npm', 'curl'],
      env: { FAKE_FIRST_BOOT_EXIT: '1' },
      before: (root) => {
        mkdirSync(path.join(root, 'var/lib/gitstrap'), { recursive: true });
        writeFileSync(path.join(root, INSTANCE_PATHS.result), '{"result":"success"}\n');
      },
    });
    assertFailure(run, 'first-boot', 1);
  });
});

describe('the whole first boot, with the real bootstrap first-boot (built CLI on Node 18.19)', () => {
  /** User-data whose agent is "on the image": the built CLI, run by Node 18.19. */
  async function bootWithRealCli(
    t: Parameters<typeof runUserData>[0],
    sets: string[],
    options: { env?: Record<string, string> } = {},
  ) {
    const dir = tempDir(t);
    const wrapper = path.join(dir, 'bootstrap');
    writeFileSync(wrapper, `#!/bin/sh\nexec '${requireNode18()}' '${BIN}' "$@"\n`);
    chmodSync(wrapper, 0o755);
    return runUserData(t, render('open-qa', ['agent.source=image', ...sets]).body, {
      installed: ['git', 'node', 'curl'],
      realTools: { bootstrap: wrapper },
      ...(options.env ? { env: options.env } : {}),
    });
  }

  test('writes the unit, starts it, sees the agent answer on loopback, records success', async (t) => {
    const requests: string[] = [];
    const server = http.createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      res.writeHead(200).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;
    const run = await bootWithRealCli(t, [`serve.port=${port}`]);
    assert.equal(run.code, 0, run.output);
    assert.deepEqual(run.result, { result: 'success', recipe: 'open-qa', at: run.result?.at });
    assert.match(String(run.result?.at), ISO);
    assert.deepEqual(
      [...run.output.matchAll(/^gitstrap: step (\w+): started$/gm)].map((m) => m[1]),
      ['args', 'packages', 'user', 'agent', 'unit', 'recipe', 'service', 'health'],
    );
    assert.match(run.output, /^gitstrap: bootstrap succeeded$/m);
    assert.deepEqual(requests, ['GET /_gitstrap/healthz']);
    assert.deepEqual(callsOf(run, 'systemctl'), [
      ['enable', '--no-reload', 'gitstrap@open-qa.service'],
      ['start', 'gitstrap@open-qa.service'],
    ]);
    assert.match(read(run, INSTANCE_PATHS.agentUnit), /^ExecStartPre=\+/m);
    // This agent (a wrapper on the image) carries no unit: bootstrap first-boot wrote it.
    assert.match(read(run, INSTANCE_PATHS.agentUnit), /^## .* by bootstrap first-boot\)\.$/m);
    assert.equal(statSync(at(run, INSTANCE_PATHS.result)).mode & 0o777, 0o644);
  });

  test('an agent that records a failing install step ends first boot at once, naming the step', async (t) => {
    const record = {
      result: 'failure',
      step: 'install:build',
      exitCode: 3,
      at: '2026-11-22T08:00:00Z',
      message: 'install step "build" failed: exit code 2',
    };
    const started = Date.now();
    const run = await bootWithRealCli(t, [], {
      env: { FAKE_AGENT_FAILURE: JSON.stringify(record) },
    });
    assert.ok(Date.now() - started < 60_000, 'it does not wait out the health timeout');
    assert.equal(run.code, 1, run.output);
    assert.deepEqual(run.result, record);
    assert.match(run.output, /^gitstrap: bootstrap failed at step install:build$/m);
    assert.match(
      run.output,
      /the agent could not start the service: install:build: install step "build" failed: exit code 2/,
    );
  });
});
