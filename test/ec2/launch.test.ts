// The launch flow on mocked SDK clients (aws-sdk-client-mock over a FakeCloud): success, --no-wait,
// fleets, throttling, and a failure or Ctrl-C injected at every step, each followed by a check that
// nothing the launch created is left.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runLaunch } from '../../src/ec2/launch.js';
import { planLaunch, type LaunchFlags } from '../../src/ec2/plan.js';
import { ExitCode, GitstrapError } from '../../src/lib/errors.js';
import { awsError, type FailureMode } from './fake-cloud.js';
import { mockedEnv, START, startHealthServer, testRecipe } from './harness.js';

const USER_DATA = Buffer.from('#cloud-config\n');

function planFor(port: number, flags: LaunchFlags = {}, extra = '') {
  return planLaunch(testRecipe(port, extra), flags, { now: START, random: () => 0.25 });
}

async function launchError(promise: Promise<unknown>): Promise<GitstrapError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof GitstrapError, `expected a GitstrapError, got ${String(error)}`);
    return error;
  }
  assert.fail('the launch should have failed');
}

describe('launch (mocked SDK clients)', () => {
  test('one instance: image, security group, RunInstances, running, healthy, URL', async (t) => {
    const health = await startHealthServer(t);
    const { env, cloud, progress } = mockedEnv();
    const plan = planFor(health.port, { openPort: true, ttl: '2h' });
    const result = await runLaunch(env, plan, USER_DATA);

    assert.deepEqual(cloud.callNames(), [
      'ssm:GetParameter',
      'ec2:CreateSecurityGroup',
      'ec2:AuthorizeSecurityGroupIngress',
      'ec2:RunInstances',
      'ec2:DescribeInstances',
    ]);
    const [instance] = [...cloud.instances.values()];
    assert.equal(instance!.State.Name, 'running');
    assert.equal(instance!.ImageId, 'ami-0d12d12d12d12d12d');
    assert.deepEqual(instance!.securityGroupIds, [result.securityGroupId]);
    assert.equal(
      instance!.Tags.find((tag) => tag.Key === 'gitstrap:expires-at')?.Value,
      '2026-11-22T12:00:00.000Z',
    );
    assert.deepEqual(result.instances, [
      {
        id: instance!.InstanceId,
        address: '127.0.0.1',
        url: `http://127.0.0.1:${health.port}/`,
      },
    ]);
    assert.equal(result.expiresAt, '2026-11-22T12:00:00.000Z');
    assert.deepEqual(health.hits, ['/_gitstrap/healthz']);
    assert.ok(
      progress.some((l) => l.startsWith(`healthy`)),
      progress.join('\n'),
    );
  });

  test('--no-wait returns once RunInstances answered', async () => {
    const { env, cloud } = mockedEnv();
    const result = await runLaunch(env, planFor(1, { count: '2' }), USER_DATA, { noWait: true });
    assert.deepEqual(cloud.callNames(), ['ssm:GetParameter', 'ec2:RunInstances']);
    assert.equal(result.instances.length, 2);
    assert.equal(result.waited, false);
  });

  test('--fleet: launch template, Auto Scaling group of N, scheduled end, all in service and healthy', async (t) => {
    const health = await startHealthServer(t);
    const { env, cloud } = mockedEnv();
    const plan = planFor(health.port, { fleet: true, count: '2', ttl: '1d', openPort: true });
    const result = await runLaunch(env, plan, USER_DATA);
    assert.deepEqual(cloud.callNames(), [
      'ssm:GetParameter',
      'ec2:DescribeSubnets',
      'ec2:CreateSecurityGroup',
      'ec2:AuthorizeSecurityGroupIngress',
      'ec2:CreateLaunchTemplate',
      'autoscaling:CreateAutoScalingGroup',
      'autoscaling:PutScheduledUpdateGroupAction',
      'autoscaling:DescribeAutoScalingGroups',
      'ec2:DescribeInstances',
    ]);
    const group = cloud.groups.get(plan.names.autoScalingGroup)!;
    assert.equal(group.subnets, 'subnet-0aaa,subnet-0bbb');
    assert.equal(group.scheduled[0]!.DesiredCapacity, 0);
    assert.equal(result.instances.length, 2);
    assert.equal(health.hits.length, 2);
    assert.equal(result.autoScalingGroup, plan.names.autoScalingGroup);
  });

  test('throttled calls are retried with backoff, and RunInstances is idempotent', async (t) => {
    const health = await startHealthServer(t);
    const { env, cloud, clock } = mockedEnv();
    cloud.failNext.set('ec2:RunInstances', [
      { mode: 'lost', error: awsError('RequestLimitExceeded', 'Request limit exceeded.', 503) },
      { mode: 'rejected', error: awsError('RequestLimitExceeded', 'Request limit exceeded.', 503) },
    ]);
    await runLaunch(env, planFor(health.port), USER_DATA);
    assert.equal(cloud.callNames().filter((n) => n === 'ec2:RunInstances').length, 3);
    assert.equal(cloud.instances.size, 1, 'the retried call did not start a second instance');
    // Two backoffs of 500 ms and 1000 ms ceilings, at least half of each: 750 ms.
    assert.ok(clock.now.getTime() - START.getTime() >= 750);
  });

  test('a service that never answers: timed out, everything destroyed', async (t) => {
    const health = await startHealthServer(t, () => 503);
    const { env, cloud } = mockedEnv();
    env.timing.healthTimeoutMs = 60_000;
    const error = await launchError(
      runLaunch(env, planFor(health.port, { openPort: true }), USER_DATA),
    );
    assert.match(
      error.message,
      /failed: gave up waiting for the service to answer .* \(i-\w+: 503\)/,
    );
    assert.deepEqual(cloud.leftovers(), []);
    assert.ok(
      error.details.some((d) => /^destroyed: instance i-\w+, security group sg-\w+$/.test(d)),
      error.details.join('\n'),
    );
  });

  test("an instance that ends before it runs fails the launch with AWS's reason", async () => {
    const { env, cloud } = mockedEnv();
    cloud.onCall = (record) => {
      if (record.name === 'ec2:DescribeInstances') {
        for (const i of cloud.instances.values()) i.State.Name = 'terminated';
      }
    };
    const error = await launchError(runLaunch(env, planFor(1), USER_DATA));
    assert.match(error.message, /stopped before it ran/);
    assert.deepEqual(cloud.leftovers(), []);
  });

  test('eventual consistency: "not found" for what was just created is waited out', async (t) => {
    const health = await startHealthServer(t);
    const { env, cloud } = mockedEnv();
    const notFound = (code: string) => [
      { mode: 'rejected' as const, error: awsError(code, 'does not exist') },
    ];
    cloud.failNext.set('ec2:AuthorizeSecurityGroupIngress', notFound('InvalidGroup.NotFound'));
    cloud.failNext.set('ec2:DescribeInstances', notFound('InvalidInstanceID.NotFound'));
    const result = await runLaunch(env, planFor(health.port, { openPort: true }), USER_DATA);
    assert.equal(result.instances.length, 1);
    assert.equal(
      cloud.callNames().filter((n) => n === 'ec2:AuthorizeSecurityGroupIngress').length,
      2,
    );
    assert.equal(cloud.callNames().filter((n) => n === 'ec2:DescribeInstances').length, 2);
  });

  test('cleanup: a new instance not yet visible to TerminateInstances is terminated all the same', async (t) => {
    const health = await startHealthServer(t, () => 500);
    const { env, cloud } = mockedEnv();
    env.timing.healthTimeoutMs = 10_000;
    cloud.failNext.set('ec2:TerminateInstances', [
      { mode: 'rejected', error: awsError('InvalidInstanceID.NotFound', 'does not exist') },
    ]);
    await launchError(runLaunch(env, planFor(health.port), USER_DATA));
    assert.equal(cloud.callNames().filter((n) => n === 'ec2:TerminateInstances').length, 2);
    assert.deepEqual(cloud.leftovers(), []);
  });

  test('user-data over 16 KB is refused before any call', async () => {
    const { env, cloud } = mockedEnv();
    const error = await launchError(runLaunch(env, planFor(1), Buffer.alloc(16_385)));
    assert.match(error.message, /16385 bytes; EC2 accepts at most 16384/);
    assert.deepEqual(cloud.calls, []);
  });
});

/** The calls a successful launch makes, to fail each in turn. */
async function stepsOf(flags: LaunchFlags, port: number, extra: string): Promise<string[]> {
  const { env, cloud } = mockedEnv();
  await runLaunch(env, planFor(port, flags, extra), USER_DATA);
  return cloud.callNames();
}

const SCENARIOS: Array<{ name: string; flags: LaunchFlags; extra: string }> = [
  {
    name: 'one instance with --open-port and a root volume size',
    flags: { openPort: true, ttl: '1h', subnet: 'subnet-0aaa' },
    extra: 'launch:\n  volume_size: 20\n',
  },
  {
    name: 'a fleet with --open-port',
    flags: { fleet: true, count: '2', openPort: true, ttl: '1h' },
    extra: '',
  },
];

for (const scenario of SCENARIOS) {
  describe(`launch of ${scenario.name}: a failure at every step leaves nothing`, () => {
    for (const mode of ['rejected', 'lost'] as FailureMode[]) {
      test(`each call failing (${mode === 'lost' ? 'done, answer lost' : 'refused'})`, async (t) => {
        const health = await startHealthServer(t);
        const steps = await stepsOf(scenario.flags, health.port, scenario.extra);
        assert.ok(steps.length >= 7, steps.join(' '));
        for (const [index, name] of steps.entries()) {
          const { env, cloud } = mockedEnv();
          cloud.failAt.set(index, {
            mode,
            error: awsError('InjectedFailure', `injected at ${name}`),
          });
          const plan = planFor(health.port, scenario.flags, scenario.extra);
          const error = await launchError(runLaunch(env, plan, USER_DATA));
          assert.equal(error.exitCode, ExitCode.failed, `${name}: ${error.message}`);
          assert.match(error.message, new RegExp(`failed: ${name} failed: InjectedFailure`));
          assert.deepEqual(
            cloud.leftovers(),
            [],
            `left after a failure at step ${index} (${name})`,
          );
          assert.ok(
            !error.details.some((d) => d.startsWith('LEFT BEHIND')),
            error.details.join('\n'),
          );
          const created = cloud.calls.filter(
            (c, i) =>
              /:Create|:RunInstances/.test(c.name) &&
              (i < index || (i === index && mode === 'lost')),
          );
          if (!created.length)
            assert.ok(
              error.details.includes('nothing had been created'),
              `${name}: ${error.details.join('\n')}`,
            );
          else
            assert.ok(
              error.details.some((d) => d.startsWith('destroyed: ')),
              `${name}: ${error.details.join('\n')}`,
            );
        }
      });
    }

    test('Ctrl-C at each step: interrupted, exit 130, nothing left', async (t) => {
      const health = await startHealthServer(t);
      const steps = await stepsOf(scenario.flags, health.port, scenario.extra);
      for (const [index, name] of steps.entries()) {
        const { env, cloud, controller } = mockedEnv();
        cloud.onCall = (_record, i) => {
          if (i === index) controller.abort(new Error('interrupted by SIGINT'));
        };
        const error = await launchError(
          runLaunch(env, planFor(health.port, scenario.flags, scenario.extra), USER_DATA),
        );
        assert.equal(error.exitCode, ExitCode.interrupted, `${name}: ${error.message}`);
        assert.match(error.message, /interrupted after/);
        assert.deepEqual(cloud.leftovers(), [], `left after Ctrl-C at step ${index} (${name})`);
      }
    });
  });
}

describe('launch cleanup that itself fails', () => {
  test('says exactly what is left and the aws commands that remove it', async (t) => {
    // The service never answers, so the launch fails after creating both resources; then the
    // credentials turn out unable to terminate, so the instance and its security group stay.
    const health = await startHealthServer(t, () => 500);
    const { env, cloud } = mockedEnv(undefined, { awsCliOptions: '--region eu-west-1' });
    env.timing.healthTimeoutMs = 10_000;
    cloud.failNext.set('ec2:TerminateInstances', [
      {
        mode: 'rejected',
        error: awsError(
          'UnauthorizedOperation',
          'You are not authorized to perform this operation.',
        ),
      },
    ]);
    const plan = planFor(health.port, { openPort: true });
    const error = await launchError(runLaunch(env, plan, USER_DATA));
    const [instance] = [...cloud.instances.values()];
    const sg = [...cloud.securityGroups.keys()][0]!;
    assert.deepEqual(error.details, [
      'LEFT BEHIND (these still exist and may cost money):',
      `  instance ${instance!.InstanceId}: ec2:TerminateInstances failed: UnauthorizedOperation: You are not authorized to perform this operation.`,
      `  security group ${sg}: gave up waiting for security group ${sg} to be free after 5m (still in use)`,
      'remove them with:',
      `  aws ec2 terminate-instances --region eu-west-1 --instance-ids ${instance!.InstanceId}`,
      `  aws ec2 delete-security-group --region eu-west-1 --group-id ${sg}`,
      `  (or: bootstrap down ${plan.deployment})`,
    ]);
    assert.match(error.hint ?? '', /cloud-init-output\.log/, "the cause's hint is kept");
    assert.equal(cloud.leftovers().length, 2);
  });
});
