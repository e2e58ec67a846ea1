// ls, down, reap and refresh on mocked SDK clients, over deployments made by real launch runs.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runDown } from '../../src/ec2/down.js';
import { takeInventory } from '../../src/ec2/inventory.js';
import { runLaunch } from '../../src/ec2/launch.js';
import {
  formatDeploymentTable,
  sortRows,
  summarizeDeployment,
} from '../../src/ec2/deployment-table.js';
import { planLaunch, type LaunchFlags } from '../../src/ec2/plan.js';
import { runReap } from '../../src/ec2/reap.js';
import { runRefresh } from '../../src/ec2/refresh.js';
import type { GitstrapError } from '../../src/lib/errors.js';
import { mockedEnv, testRecipe, type MockedRun } from './harness.js';

let seed = 0;
/** Launches (without waiting) as of the run's clock; returns the deployment id. */
async function launch(run: MockedRun, flags: LaunchFlags, name = 'auction'): Promise<string> {
  const recipe = testRecipe(80, '').name === name ? testRecipe(80) : { ...testRecipe(80), name };
  seed += 1;
  const plan = planLaunch(recipe, flags, { now: run.env.now(), random: () => (seed * 0.137) % 1 });
  await runLaunch(run.env, plan, Buffer.from('#cloud-config\n'), { noWait: true });
  return plan.deployment;
}

async function rows(run: MockedRun) {
  const now = run.env.now();
  return sortRows(
    [...(await takeInventory(run.env)).values()].map((d) => summarizeDeployment(d, now)),
  );
}

describe('ls (mocked)', () => {
  test('one row per deployment: recipe, state, address, age, time left; leftovers of ended ones', async () => {
    const run = mockedEnv();
    const single = await launch(run, { ttl: '2h', openPort: true });
    run.clock.now = new Date(run.clock.now.getTime() + 60_000);
    const fleet = await launch(run, { fleet: true, count: '2' }, 'conference');
    const oldGroup = run.cloud.addSecurityGroup('gitstrap-old-20261101-0001', [
      { Key: 'gitstrap:deployment', Value: 'old-20261101-0001' },
      { Key: 'gitstrap:recipe', Value: 'old' },
      { Key: 'gitstrap:expires-at', Value: '2026-11-02T00:00:00.000Z' },
    ]);
    run.clock.now = new Date(run.clock.now.getTime() + 29 * 60_000);
    const list = await rows(run);
    assert.deepEqual(
      list.map((r) => [
        r.deployment,
        r.recipe,
        r.state,
        r.addresses,
        r.ageSeconds,
        r.secondsLeft,
        r.expired,
        r.leftovers,
      ]),
      [
        [single, 'auction', 'running', ['127.0.0.1'], 1800, 5400, false, []],
        [fleet, 'conference', 'fleet 2/2', ['127.0.0.1', '127.0.0.1'], 1740, undefined, false, []],
        [
          'old-20261101-0001',
          'old',
          'ended',
          [],
          undefined,
          -1765800,
          true,
          [`security group ${oldGroup}`],
        ],
      ],
    );
    assert.equal(
      formatDeploymentTable(list),
      [
        'DEPLOYMENT                RECIPE      STATE      ADDRESS         AGE  LEFT',
        `${single}     auction     running    127.0.0.1       30m  1h 30m`,
        `${fleet}  conference  fleet 2/2  127.0.0.1 (+1)  29m  -`,
        'old-20261101-0001         old         ended      -               -    expired',
        '',
      ].join('\n'),
    );
    assert.equal(formatDeploymentTable([]), 'no deployments\n');
  });
});

describe('down (mocked)', () => {
  test('a single instance: terminate, wait, then delete its security group', async () => {
    const run = mockedEnv();
    const id = await launch(run, { openPort: true });
    const other = await launch(run, {});
    run.cloud.calls.length = 0;
    const result = await runDown(run.env, id);
    const names = run.cloud.callNames();
    assert.ok(
      names.indexOf('ec2:TerminateInstances') < names.indexOf('ec2:DeleteSecurityGroup'),
      names.join(' '),
    );
    assert.equal(result.left.length, 0);
    assert.deepEqual(
      result.destroyed.map((d) => d.replace(/\w+-\w{17}/g, 'ID')),
      ['instance ID', 'security group ID (gitstrap-' + id + ')'],
    );
    const remaining = [...(await takeInventory(run.env)).keys()];
    assert.deepEqual(remaining, [other], 'the other deployment is untouched');
  });

  test('a fleet: Auto Scaling group (and its instances), launch template, security group', async () => {
    const run = mockedEnv();
    const id = await launch(run, { fleet: true, count: '3', openPort: true });
    run.cloud.calls.length = 0;
    const result = await runDown(run.env, id);
    assert.deepEqual(run.cloud.leftovers(), []);
    const mutations = run.cloud.callNames().filter((n) => !/:Describe/.test(n));
    assert.deepEqual(mutations, [
      'autoscaling:DeleteAutoScalingGroup',
      'ec2:TerminateInstances',
      'ec2:DeleteLaunchTemplate',
      'ec2:DeleteSecurityGroup',
    ]);
    assert.equal(result.destroyed.length, 4);
  });

  test('an unknown deployment: a clear error with a did-you-mean', async () => {
    const run = mockedEnv();
    const id = await launch(run, {});
    const typo = id.slice(0, -1) + (id.endsWith('0') ? '1' : '0');
    await assert.rejects(runDown(run.env, typo), (error: GitstrapError) => {
      assert.equal(error.message, `no deployment "${typo}" in reach`);
      assert.equal(error.hint, `did you mean "${id}"?`);
      return true;
    });
  });
});

describe('reap (mocked)', () => {
  test('ends every expired deployment (and leftovers of self-ended ones), keeps the rest', async () => {
    const run = mockedEnv();
    const short = await launch(run, { ttl: '1h', openPort: true });
    const fleet = await launch(run, { ttl: '90m', fleet: true, count: '2' });
    const long = await launch(run, { ttl: '30d' });
    const forever = await launch(run, { ttl: 'none' });
    run.cloud.addSecurityGroup('gitstrap-gone-20261101-0001', [
      { Key: 'gitstrap:deployment', Value: 'gone-20261101-0001' },
      { Key: 'gitstrap:expires-at', Value: '2026-11-02T00:00:00.000Z' },
    ]);
    run.clock.now = new Date(run.clock.now.getTime() + 2 * 3_600_000);

    const dry = await runReap(run.env, { dryRun: true });
    assert.deepEqual(dry.expired, [short, fleet, 'gone-20261101-0001'].sort());
    assert.equal(dry.ended.length, 0);
    assert.equal((await takeInventory(run.env)).size, 5, 'a dry run removes nothing');

    const result = await runReap(run.env);
    assert.deepEqual(
      result.ended.map((r) => r.deployment),
      dry.expired,
    );
    assert.ok(result.ended.every((r) => r.left.length === 0));
    assert.deepEqual([...(await takeInventory(run.env)).keys()].sort(), [long, forever].sort());
  });
});

describe('refresh (mocked)', () => {
  test('moves the template to the current image, then starts an instance refresh', async () => {
    const run = mockedEnv();
    const id = await launch(run, { fleet: true, count: '2', os: 'ubuntu-24.04' });
    run.cloud.parameters.set(
      '/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id',
      'ami-0ffffffffffffff24',
    );
    const result = await runRefresh(run.env, id);
    assert.equal(result.started, true);
    assert.equal(result.refreshId, 'refresh-1');
    assert.deepEqual(result.image, { from: 'ami-024042404240424aa', to: 'ami-0ffffffffffffff24' });
    const template = run.cloud.templates.get(`gitstrap-${id}`)!;
    assert.equal(template.versions.at(-1)!.ImageId, 'ami-0ffffffffffffff24');
    assert.equal(
      template.versions.at(-1)!.UserData,
      template.versions[0]!.UserData,
      'the rest is kept',
    );

    const again = await runRefresh(run.env, id);
    assert.equal(again.image, undefined, 'already current: no new template version');
    assert.equal(template.versions.length, 2);
  });

  test('--max-age: nothing while every instance is younger, a refresh once one is older', async () => {
    const run = mockedEnv();
    const id = await launch(run, { fleet: true, count: '1' });
    await run.env.api.describeInstances({}); // the instances start running
    run.clock.now = new Date(run.clock.now.getTime() + 3 * 86_400_000);
    const young = await runRefresh(run.env, id, { maxAgeMs: 7 * 86_400_000 });
    assert.equal(young.started, false);
    assert.equal(young.reason, 'the oldest instance is 3d old, under --max-age 7d');
    assert.equal(run.cloud.groups.get(`gitstrap-${id}`)!.refreshes.length, 0);
    run.clock.now = new Date(run.clock.now.getTime() + 5 * 86_400_000);
    const old = await runRefresh(run.env, id, { maxAgeMs: 7 * 86_400_000 });
    assert.equal(old.started, true);
    assert.equal(old.oldestAgeSeconds, 8 * 86_400);
  });

  test('a single-instance deployment cannot be refreshed, and says what to do', async () => {
    const run = mockedEnv();
    const id = await launch(run, {});
    await assert.rejects(runRefresh(run.env, id), (error: GitstrapError) => {
      assert.match(error.message, /is not a fleet/);
      assert.equal(
        error.hint,
        `for a single instance: bootstrap down ${id}, then bootstrap launch --recipe auction`,
      );
      return true;
    });
  });
});
