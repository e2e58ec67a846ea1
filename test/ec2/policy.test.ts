// The IAM policy and the call table it comes from: the table matches the code (aws-client.ts), each
// command's flows make exactly the calls the table grants it, and the policy scopes every change
// to gitstrap's tagged resources.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { AWS_CALLS, AWS_COMMANDS, listAwsCalls, type AwsCommand } from '../../src/ec2/calls.js';
import { CloudProfile } from '../../src/ec2/cloud.js';
import { runDoctor } from '../../src/ec2/doctor.js';
import { runDown } from '../../src/ec2/down.js';
import { takeInventory } from '../../src/ec2/inventory.js';
import { runLaunch } from '../../src/ec2/launch.js';
import { planLaunch, type LaunchFlags } from '../../src/ec2/plan.js';
import { buildIamPolicy } from '../../src/ec2/policy.js';
import { runReap } from '../../src/ec2/reap.js';
import { runRefresh } from '../../src/ec2/refresh.js';
import { projectRoot } from '../helpers/tools.js';
import { awsError } from './fake-cloud.js';
import { assertGolden, goldenDir } from '../helpers/golden.js';
import { mockedEnv, startHealthServer, testRecipe, type MockedRun } from './harness.js';

const GOLDEN = goldenDir('ec2');

describe('the call table', () => {
  test("aws-client.ts sends exactly the table's calls, each with the command of its name", () => {
    const source = readFileSync(path.join(projectRoot, 'src/ec2/aws-client.ts'), 'utf8');
    const pattern = /call\(\s*'(\w+):(\w+)',\s*\(\)\s*=>\s*(\w+)\.send\(new (\w+)Command\(/g;
    const seen: string[] = [];
    for (const [, service, action, client, command] of source.matchAll(pattern)) {
      assert.equal(command, action, `${service}:${action} sends ${command}Command`);
      assert.equal(client, service, `${service}:${action} is sent with the ${client} client`);
      seen.push(`${service}:${action}`);
    }
    assert.equal(
      (source.match(/\bcall\(/g) ?? []).length,
      seen.length,
      'every call( matched the pattern',
    );
    assert.deepEqual(seen.sort(), Object.keys(AWS_CALLS).sort());
  });
});

/** Runs a flow on mocked clients and returns the distinct calls it made. */
async function callsOf(run: MockedRun, flow: () => Promise<unknown>): Promise<Set<string>> {
  const before = run.cloud.calls.length;
  await flow().catch(() => {});
  return new Set(run.cloud.calls.slice(before).map((c) => c.name));
}

function plan(run: MockedRun, port: number, flags: LaunchFlags, extra = '') {
  return planLaunch(testRecipe(port, extra), flags, { now: run.env.now(), random: Math.random });
}

describe('each command makes exactly the calls the table grants it', () => {
  test('launch, ls, down, reap, refresh over their success and failure paths', async (t) => {
    const health = await startHealthServer(t);
    const used = new Map<AwsCommand, Set<string>>(AWS_COMMANDS.map((c) => [c, new Set()]));
    const add = (command: AwsCommand, calls: Set<string>) => {
      for (const c of calls) used.get(command)!.add(c);
    };
    const USER_DATA = Buffer.from('#cloud-config\n');

    const launches: Array<{ flags: LaunchFlags; extra?: string; fail?: string }> = [
      { flags: { openPort: true, subnet: 'subnet-0aaa' }, extra: 'launch:\n  volume_size: 12\n' },
      { flags: { fleet: true, count: '2', openPort: true, ttl: '1h' } },
      // Failures after each kind of resource exists exercise the cleanup calls.
      { flags: { openPort: true }, fail: 'ec2:DescribeInstances' },
      { flags: { fleet: true, openPort: true }, fail: 'autoscaling:DescribeAutoScalingGroups' },
      { flags: { openPort: true }, fail: 'ec2:CreateSecurityGroup' },
    ];
    for (const l of launches) {
      const run = mockedEnv();
      if (l.fail) run.cloud.failNext.set(l.fail, [{ mode: 'lost', error: awsError('Injected') }]);
      add(
        'launch',
        await callsOf(run, () =>
          runLaunch(run.env, plan(run, health.port, l.flags, l.extra), USER_DATA),
        ),
      );
    }
    // An EC2-compatible cloud whose API has no tag-on-create: tags come with CreateTags.
    const older = mockedEnv(undefined, {
      cloud: new CloudProfile({ ec2: 'https://ec2.example.org' }),
    });
    older.cloud.failNext.set('ec2:RunInstances', [
      {
        mode: 'rejected',
        error: awsError('UnknownParameter', 'The parameter TagSpecification is not recognized'),
      },
    ]);
    const olderPlan = plan(older, health.port, { openPort: true, image: 'ami-0123456789abcdef0' });
    add('launch', await callsOf(older, () => runLaunch(older.env, olderPlan, USER_DATA)));
    assert.deepEqual(older.cloud.leftovers().length, 2, 'the compatible launch ran through');

    const probed = mockedEnv();
    add('doctor', await callsOf(probed, () => runDoctor(probed.env, 'us-east-1')));

    const run = mockedEnv();
    const deployments = [];
    for (const flags of [{ openPort: true }, { fleet: true, openPort: true }] as LaunchFlags[]) {
      for (let n = 0; n < 2; n++) {
        const p = plan(run, health.port, { ...flags, ttl: '1h' });
        await runLaunch(run.env, p, USER_DATA, { noWait: true });
        deployments.push(p.deployment);
      }
    }
    const [single, , fleet] = deployments as [string, string, string, string];
    add('ls', await callsOf(run, () => takeInventory(run.env)));
    run.cloud.parameters.set(
      '/aws/service/debian/release/12/latest/amd64',
      'ami-0eeeeeeeeeeeeeee1',
    );
    add('refresh', await callsOf(run, () => runRefresh(run.env, fleet)));
    add('down', await callsOf(run, () => runDown(run.env, single)));
    add('down', await callsOf(run, () => runDown(run.env, fleet)));
    run.clock.now = new Date(run.clock.now.getTime() + 2 * 3_600_000);
    add('reap', await callsOf(run, () => runReap(run.env)));
    assert.deepEqual(run.cloud.leftovers(), []);

    for (const command of AWS_COMMANDS) {
      const granted = listAwsCalls()
        .filter((c) => (c.commands as readonly string[]).includes(command))
        .map((c) => c.name)
        .sort();
      assert.deepEqual([...used.get(command)!].sort(), granted, `the calls of ${command}`);
    }
  });
});

describe('bootstrap iam-policy', () => {
  test('the whole policy (golden)', () => {
    assertGolden(GOLDEN, 'iam-policy', buildIamPolicy());
  });

  test("every call's action appears once; changes are limited to tagged resources", () => {
    const policy = buildIamPolicy();
    const actions = policy.Statement.flatMap((s) => s.Action);
    for (const call of listAwsCalls()) {
      if (call.scope === 'tag-after-create') continue;
      assert.equal(actions.filter((a) => a === call.name).length, 1, call.name);
    }
    // Tagging after creation happens only on EC2-compatible clouds: on AWS, CreateTags is granted
    // only as part of a create call, never on its own.
    const tagging = policy.Statement.filter((s) => s.Action.includes('ec2:CreateTags'));
    assert.deepEqual(
      tagging.map((s) => s.Sid),
      ['TagOnlyWhileCreating'],
      'ec2:CreateTags only while creating',
    );
    const tagged = policy.Statement.find((s) => s.Sid === 'ChangeOnlyGitstrapResources')!;
    assert.deepEqual(tagged.Condition, {
      Null: { 'aws:ResourceTag/gitstrap:deployment': 'false' },
    });
    for (const a of [
      'ec2:TerminateInstances',
      'ec2:DeleteSecurityGroup',
      'autoscaling:DeleteAutoScalingGroup',
    ]) {
      assert.ok(tagged.Action.includes(a), a);
    }
    const creates = policy.Statement.find((s) => s.Sid === 'TagOnlyWhileCreating')!;
    assert.deepEqual(creates.Condition, {
      StringEquals: {
        'ec2:CreateAction': ['CreateLaunchTemplate', 'CreateSecurityGroup', 'RunInstances'],
      },
    });
    assert.ok(!actions.some((a) => a.endsWith(':*') || a === '*'), 'no wildcard actions');
  });

  test('--command ls: read-only', () => {
    const policy = buildIamPolicy(['ls']);
    assert.deepEqual(
      policy.Statement.map((s) => s.Sid),
      ['Describe'],
    );
    assert.ok(policy.Statement[0]!.Action.every((a) => /:Describe/.test(a)));
  });
});
