// EC2-compatible clouds on the wire: the real SDK against the recording endpoint on 127.0.0.1
// configured as (a) EC2 + Auto Scaling + SSM, (b) EC2 only, (c) an older EC2 API that refuses the
// newer parameters the way Eucalyptus 4 does (HTTP 400 "400 Bad Request", "Failed to bind the
// following fields: ..."). launch, ls, down and reap on each; on (c) a failure at every step of a
// launch, and nothing left behind.
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { CloudProfile, type Endpoints } from '../../src/ec2/cloud.js';
import { runDown } from '../../src/ec2/down.js';
import { takeInventory } from '../../src/ec2/inventory.js';
import { runLaunch, type LaunchOptions } from '../../src/ec2/launch.js';
import { summarizeDeployment } from '../../src/ec2/deployment-table.js';
import { IMDS_WARNING } from '../../src/ec2/older-api.js';
import { planLaunch, type LaunchFlags } from '../../src/ec2/plan.js';
import { runReap } from '../../src/ec2/reap.js';
import { runRefresh } from '../../src/ec2/refresh.js';
import { GitstrapError } from '../../src/lib/errors.js';
import { FakeCloud, type FailureMode, type Tags } from './fake-cloud.js';
import { startHealthServer, testRecipe, wireEnv } from './harness.js';
import { startWireEndpoint, type WireEndpoint, type WireOptions } from './wire-endpoint.js';

const USER_DATA = Buffer.from('#cloud-config\n');
/** A Eucalyptus machine image. */
const EMI = 'emi-1a2b3c4d';

type Kind = 'full' | 'ec2-only' | 'older';

/** The endpoint and the env of one kind of cloud; `endpoints` are what the person configured. */
async function cloudOf(
  t: TestContext,
  kind: Kind,
  options: { endpoints?: (url: string) => Endpoints; wire?: WireOptions; cloud?: FakeCloud } = {},
) {
  const wire: WireOptions =
    kind === 'full'
      ? {}
      : kind === 'ec2-only'
        ? { services: ['ec2'] }
        : { services: ['ec2'], ec2Api: 'legacy' };
  const fake = options.cloud ?? new FakeCloud();
  fake.images.set(EMI, '/dev/sda1');
  const endpoint = await startWireEndpoint(t, fake, { ...wire, ...options.wire });
  const endpoints =
    options.endpoints?.(endpoint.url) ??
    (kind === 'full'
      ? { ec2: endpoint.url, ssm: endpoint.url, autoscaling: endpoint.url }
      : { ec2: endpoint.url });
  const run = wireEnv(endpoint.url, { cloud: new CloudProfile(endpoints) });
  return { endpoint, ...run };
}

function planFor(port: number, flags: LaunchFlags) {
  return planLaunch(testRecipe(port), flags, { now: new Date(), random: Math.random });
}

async function failure(promise: Promise<unknown>): Promise<GitstrapError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof GitstrapError, String(error));
    return error;
  }
  assert.fail('expected a failure');
}

const tagsOf = (tags: Tags) => Object.fromEntries(tags.map((t) => [t.Key, t.Value]));

/** Requests to services other than EC2 (none may go out where only EC2 is configured). */
const elsewhere = (endpoint: WireEndpoint) =>
  endpoint.requests.filter((r) => r.service !== 'ec2').map((r) => `${r.service}:${r.action}`);

describe('(a) EC2 + Auto Scaling + SSM at an endpoint of their own', () => {
  test('launch (probed first), a fleet, ls, refresh, down, reap', async (t) => {
    const health = await startHealthServer(t);
    const { endpoint, env, clock } = await cloudOf(t, 'full');
    const single = planFor(health.port, { openPort: true, ttl: '1h' });
    const result = await runLaunch(env, single, USER_DATA);
    assert.equal(result.warnings, undefined);

    const [probe, run] = endpoint.of('ec2:RunInstances');
    assert.equal(probe!.params.DryRun, 'true', 'the API is asked what it takes, first');
    assert.equal(run!.params['MetadataOptions.HttpTokens'], 'required');
    assert.equal(run!.params['TagSpecification.1.ResourceType'], 'instance');
    assert.equal(endpoint.of('ec2:CreateTags').length, 0, 'tags at creation');
    assert.equal(endpoint.of('ssm:GetParameter').length, 1, 'the image from SSM');

    const fleet = planFor(health.port, { fleet: true, count: '2', ttl: '3h' });
    await runLaunch(env, fleet, USER_DATA, { noWait: true });
    const rows = [...(await takeInventory(env)).values()].map((d) =>
      summarizeDeployment(d, env.now()),
    );
    assert.deepEqual(rows.map((r) => r.state).sort(), ['fleet 2/2', 'running']);
    assert.equal(env.cloud.fleetsNote('listed'), undefined);
    assert.equal((await runRefresh(env, fleet.deployment)).started, true);

    clock.now = new Date(clock.now.getTime() + 2 * 3_600_000);
    assert.deepEqual(
      (await runReap(env)).ended.map((e) => e.deployment),
      [single.deployment],
    );
    assert.equal((await runDown(env, fleet.deployment)).left.length, 0);
    assert.deepEqual(endpoint.cloud.leftovers(), []);
  });
});

describe('(b) only EC2 answers', () => {
  test('only EC2 configured: launch --image, ls, down, reap call nothing else', async (t) => {
    const health = await startHealthServer(t);
    const { endpoint, env, clock } = await cloudOf(t, 'ec2-only');
    const first = planFor(health.port, { openPort: true, ttl: '1h', image: EMI });
    const second = planFor(health.port, { ttl: '5h', image: 'ami-0123456789abcdef0' });
    await runLaunch(env, first, USER_DATA);
    await runLaunch(env, second, USER_DATA, { noWait: true });

    const inventory = await takeInventory(env);
    assert.deepEqual([...inventory.keys()].sort(), [first.deployment, second.deployment].sort());
    assert.match(
      env.cloud.fleetsNote('listed') ?? '',
      /^fleets not listed: no Auto Scaling endpoint for the EC2 endpoint http:\/\/127\.0\.0\.1:\d+ \(AWS_ENDPOINT_URL_AUTO_SCALING is not set\)$/,
    );
    clock.now = new Date(clock.now.getTime() + 2 * 3_600_000);
    const reaped = await runReap(env);
    assert.deepEqual(
      reaped.ended.map((e) => e.deployment),
      [first.deployment],
    );
    assert.deepEqual(reaped.skipped, []);
    assert.equal((await runDown(env, second.deployment)).left.length, 0);
    assert.deepEqual(endpoint.cloud.leftovers(), []);
    assert.deepEqual(elsewhere(endpoint), [], 'Auto Scaling and SSM were never asked');
  });

  test('without --image, or with --fleet: refused in one line before any call', async (t) => {
    const { endpoint, env } = await cloudOf(t, 'ec2-only');
    const noImage = await failure(runLaunch(env, planFor(80, { os: 'debian-12' }), USER_DATA));
    assert.match(
      noImage.message,
      /^launch of \S+ failed: --image is required here: the debian-12 image is looked up in SSM, and no SSM endpoint for the EC2 endpoint http:\S+ \(AWS_ENDPOINT_URL_SSM is not set\)$/,
    );
    assert.match(noImage.hint ?? '', /pass --image IMAGE-ID .*AWS_ENDPOINT_URL_SSM/);
    assert.ok(noImage.details.includes('nothing had been created'));
    const fleet = await failure(
      runLaunch(env, planFor(80, { fleet: true, image: EMI }), USER_DATA),
    );
    assert.match(fleet.message, /failed: --fleet needs Auto Scaling: no Auto Scaling endpoint/);
    assert.match(fleet.hint ?? '', /without --fleet .*AWS_ENDPOINT_URL_AUTO_SCALING/);
    assert.deepEqual(endpoint.requests, [], 'nothing was asked, let alone created');
  });

  test('every endpoint configured, only EC2 answers: found out, said, everything else proceeds', async (t) => {
    const health = await startHealthServer(t);
    const { endpoint, env } = await cloudOf(t, 'ec2-only', {
      endpoints: (url) => ({ ec2: url, ssm: url, autoscaling: url }),
    });
    // SSM answers in EC2's protocol: the image cannot be looked up.
    const noImage = await failure(runLaunch(env, planFor(80, { os: 'al2023' }), USER_DATA));
    assert.match(
      noImage.message,
      /--image is required here: .* http:\S+ does not offer SSM \(it answers in another protocol\)$/,
    );
    const plan = planFor(health.port, { openPort: true, image: EMI });
    await runLaunch(env, plan, USER_DATA);
    await takeInventory(env);
    assert.match(
      env.cloud.fleetsNote('listed') ?? '',
      /^fleets not listed: http:\S+ does not offer Auto Scaling \(InvalidAction\) \(AWS_ENDPOINT_URL_AUTO_SCALING names the cloud's Auto Scaling endpoint\)$/,
    );
    assert.equal((await runDown(env, plan.deployment)).left.length, 0);
    assert.deepEqual(endpoint.cloud.leftovers(), []);
    assert.deepEqual(elsewhere(endpoint), [
      'ssm:GetParameter',
      'autoscaling:DescribeAutoScalingGroups',
    ]);
  });

  test('a fleet made elsewhere is seen, and neither ended by down nor by reap', async (t) => {
    // The fleet was launched where Auto Scaling answers; here it does not.
    const shared = new FakeCloud();
    const full = await cloudOf(t, 'full', { cloud: shared });
    const fleet = planFor(80, { fleet: true, count: '2', ttl: '1h' });
    const single = planFor(80, { ttl: '1h', image: EMI });
    await runLaunch(full.env, fleet, USER_DATA, { noWait: true });
    await runLaunch(full.env, single, USER_DATA, { noWait: true });

    const { env, clock } = await cloudOf(t, 'ec2-only', { cloud: shared });
    const blocked = await failure(runDown(env, fleet.deployment));
    assert.match(
      blocked.message,
      /is a fleet, and ending it needs Auto Scaling: no Auto Scaling endpoint/,
    );
    assert.match(blocked.hint ?? '', /^nothing was removed; set AWS_ENDPOINT_URL_AUTO_SCALING/);
    clock.now = new Date(clock.now.getTime() + 2 * 3_600_000);
    const reaped = await runReap(env);
    assert.deepEqual(
      reaped.ended.map((e) => e.deployment),
      [single.deployment],
    );
    assert.deepEqual(
      reaped.skipped.map((s) => s.deployment),
      [fleet.deployment],
    );
    assert.deepEqual(shared.leftovers().filter((l) => !l.startsWith('instance')).length, 2);
    assert.equal(shared.groups.size, 1, 'the group is still there');
    await assert.rejects(
      runRefresh(env, fleet.deployment),
      /refresh replaces .* needs Auto Scaling/,
    );
  });
});

describe('(c) an older EC2 API (Eucalyptus 4: no TagSpecification, MetadataOptions, DryRun)', () => {
  const allow: LaunchOptions = { allowImdsV1: true };

  test('what the endpoint answers is what Eucalyptus 4 answers', async (t) => {
    const { endpoint } = await cloudOf(t, 'older');
    const res = await fetch(endpoint.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=CreateSecurityGroup&Version=2016-11-15&GroupName=g&GroupDescription=d&TagSpecification.1.ResourceType=security-group',
    });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=UTF-8');
    assert.equal(
      await res.text(),
      '<?xml version="1.0"?><Response><Errors><Error><Code>400 Bad Request</Code><Message>Failed to bind the following fields:\nTagSpecification.1.ResourceType = security-group\n</Message></Error></Errors><RequestID>Failed to bind the following fields:\nTagSpecification.1.ResourceType = security-group\n</RequestID></Response>',
    );
  });

  test('launch with --allow-imdsv1: tags applied with CreateTags, IMDSv2 warned about', async (t) => {
    const health = await startHealthServer(t);
    const { endpoint, env, progress } = await cloudOf(t, 'older');
    const plan = planFor(health.port, { openPort: true, ttl: '2h', image: EMI });
    const result = await runLaunch(env, plan, USER_DATA, allow);
    assert.equal(result.instances[0]!.url, `http://127.0.0.1:${health.port}/`);
    assert.deepEqual(result.warnings, [IMDS_WARNING]);

    assert.deepEqual(endpoint.requests.map((r) => r.action).slice(0, 7), [
      'RunInstances', // the probe: refused, naming every parameter the API does not know
      'CreateSecurityGroup',
      'CreateTags',
      'AuthorizeSecurityGroupIngress', // refused: IPv6 ranges and rule descriptions
      'AuthorizeSecurityGroupIngress',
      'RunInstances',
      'CreateTags',
    ]);
    const [probe, run] = endpoint.of('ec2:RunInstances');
    assert.equal(probe!.params.DryRun, 'true');
    assert.equal(run!.params.ImageId, EMI);
    assert.ok(
      !Object.keys(run!.params).some((k) => /^(TagSpecification|MetadataOptions|DryRun)/.test(k)),
      'the launch sent nothing the API refuses',
    );
    const expected = {
      Name: plan.deployment,
      'gitstrap:recipe': 'auction',
      'gitstrap:deployment': plan.deployment,
      'gitstrap:expires-at': plan.expiresAt!.toISOString(),
    };
    const [instance] = [...endpoint.cloud.instances.values()];
    assert.deepEqual(tagsOf(instance!.Tags), expected);
    const [group] = [...endpoint.cloud.securityGroups.values()];
    assert.deepEqual(tagsOf(group!.Tags), expected);
    assert.deepEqual(group!.rules, [
      {
        IpProtocol: 'tcp',
        FromPort: String(health.port),
        ToPort: String(health.port),
        IpRanges: [{ CidrIp: '0.0.0.0/0' }],
      },
    ]);
    assert.ok(progress.includes(`warning: ${IMDS_WARNING}`), progress.join('\n'));
    assert.ok(progress.some((l) => /tagging with CreateTags right after each create/.test(l)));
    assert.deepEqual(elsewhere(endpoint), []);
  });

  test('launch without --allow-imdsv1 stops before creating anything, naming the setting', async (t) => {
    const { endpoint, env } = await cloudOf(t, 'older');
    const error = await failure(
      runLaunch(env, planFor(80, { openPort: true, image: EMI }), USER_DATA),
    );
    assert.match(
      error.message,
      /failed: this EC2 API does not take MetadataOptions, so the instance cannot be made to require IMDSv2/,
    );
    assert.match(error.hint ?? '', /add --allow-imdsv1/);
    assert.ok(error.details.includes('nothing had been created'), error.details.join('\n'));
    assert.deepEqual(
      endpoint.requests.map((r) => r.action),
      ['RunInstances'],
      'only the dry-run probe',
    );
    assert.deepEqual(endpoint.cloud.calls, [], 'the probe never reached the cloud');
  });

  test('the same older API with DryRun: still learned in one probe', async (t) => {
    const health = await startHealthServer(t);
    const { endpoint, env } = await cloudOf(t, 'older', { wire: { legacyDryRun: true } });
    await runLaunch(env, planFor(health.port, { image: EMI }), USER_DATA, allow);
    assert.equal(env.cloud.ec2.dryRun, true);
    assert.equal(env.cloud.ec2.tagOnCreate, false);
    assert.equal(endpoint.of('ec2:RunInstances').length, 2);
  });

  test('ls, down, reap: the deployments found by the tags CreateTags applied', async (t) => {
    const health = await startHealthServer(t);
    const { endpoint, env, clock } = await cloudOf(t, 'older');
    const short = planFor(health.port, { openPort: true, ttl: '1h', image: EMI });
    const long = planFor(health.port, { ttl: '9h', image: EMI });
    await runLaunch(env, short, USER_DATA, allow);
    await runLaunch(env, long, USER_DATA, { ...allow, noWait: true });

    const rows = [...(await takeInventory(env)).values()].map((d) =>
      summarizeDeployment(d, env.now()),
    );
    assert.deepEqual(
      rows.map((r) => [r.deployment, r.recipe, r.expiresAt]).sort(),
      [
        [short.deployment, 'auction', short.expiresAt!.toISOString()],
        [long.deployment, 'auction', long.expiresAt!.toISOString()],
      ].sort(),
    );
    assert.equal(env.cloud.ec2.launchTemplates, false, 'this API has no launch templates');
    assert.ok(env.cloud.fleetsNote('listed'));

    clock.now = new Date(clock.now.getTime() + 2 * 3_600_000);
    assert.deepEqual(
      (await runReap(env)).ended.map((e) => e.deployment),
      [short.deployment],
    );
    assert.equal((await runDown(env, long.deployment)).left.length, 0);
    assert.deepEqual(endpoint.cloud.leftovers(), []);
    assert.deepEqual(elsewhere(endpoint), []);
  });

  /** The calls a successful launch on the older API makes (those that reached the cloud). */
  async function stepsOf(t: TestContext, port: number, flags: LaunchFlags): Promise<string[]> {
    const { endpoint, env } = await cloudOf(t, 'older');
    await runLaunch(env, planFor(port, flags), USER_DATA, allow);
    return endpoint.cloud.callNames();
  }

  for (const mode of ['rejected', 'lost'] as FailureMode[]) {
    test(`a launch failing at every step (${mode === 'lost' ? 'done, answer lost' : 'refused'}) leaves nothing`, async (t) => {
      const health = await startHealthServer(t);
      const flags: LaunchFlags = { openPort: true, ttl: '1h', image: EMI };
      const steps = await stepsOf(t, health.port, flags);
      assert.deepEqual(steps.slice(0, 6), [
        'ec2:CreateSecurityGroup',
        'ec2:CreateTags',
        'ec2:AuthorizeSecurityGroupIngress',
        'ec2:RunInstances',
        'ec2:CreateTags',
        'ec2:DescribeInstances',
      ]);
      for (const [index, name] of steps.entries()) {
        const { endpoint, env } = await cloudOf(t, 'older');
        endpoint.cloud.failAt.set(index, {
          mode,
          error: Object.assign(new Error(`injected at ${name}`), {
            name: 'InjectedFailure',
            $metadata: { httpStatusCode: 400 },
          }),
        });
        const error = await failure(runLaunch(env, planFor(health.port, flags), USER_DATA, allow));
        assert.match(error.message, new RegExp(`failed: ${name} failed: InjectedFailure`), name);
        assert.deepEqual(endpoint.cloud.leftovers(), [], `left after step ${index} (${name})`);
        assert.ok(
          !error.details.some((d) => d.startsWith('LEFT BEHIND')),
          `${name}: ${error.details.join('\n')}`,
        );
      }
    });
  }
});
