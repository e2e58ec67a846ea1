// The pieces of EC2-compatible support: which services a run may call (planServices), what an
// endpoint's answers say (real SDK errors from the recording endpoint's real answer shapes), the
// requests without the newer parameters (golden), and the DryRun probe against each kind of API.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CloudProfile, planServices } from '../../src/ec2/cloud.js';
import { isUnknownAction, isUnreachable, unknownParameters } from '../../src/ec2/errors.js';
import {
  buildOpenPortRequest,
  buildCreateSecurityGroupRequest,
} from '../../src/ec2/network-requests.js';
import { buildRunInstancesRequest } from '../../src/ec2/instance-requests.js';
import { runLaunch } from '../../src/ec2/launch.js';
import {
  buildCreateTagsRequest,
  buildProbeRequest,
  namedParameters,
  probeEc2Parameters,
  tailorRunInstances,
  withoutIpv6Rules,
  withoutTagSpecifications,
} from '../../src/ec2/older-api.js';
import { planLaunch } from '../../src/ec2/plan.js';
import { assertGolden, goldenDir } from '../helpers/golden.js';
import { awsError } from './fake-cloud.js';
import { mockedEnv, recipeFrom, testRecipe, wireEnv } from './harness.js';
import { startWireEndpoint } from './wire-endpoint.js';

const GOLDEN = goldenDir('ec2');
/** An EC2-compatible cloud's profile (a new one each time: it learns as calls go). */
const compatible = () => ({
  cloud: new CloudProfile({ ec2: 'https://ec2.example.org:8773/services/compute' }),
});

/** The error a call raises. */
async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected the call to fail');
}

describe('which services a run may call', () => {
  test('AWS: all; another EC2 endpoint: only the services given one of their own', () => {
    assert.deepEqual(planServices({}), {
      autoscaling: { available: true },
      ssm: { available: true },
    });
    assert.deepEqual(planServices({ ec2: 'http://euca:8773/services/compute' }), {
      autoscaling: {
        available: false,
        reason:
          'no Auto Scaling endpoint for the EC2 endpoint http://euca:8773/services/compute (AWS_ENDPOINT_URL_AUTO_SCALING is not set)',
      },
      ssm: {
        available: false,
        reason:
          'no SSM endpoint for the EC2 endpoint http://euca:8773/services/compute (AWS_ENDPOINT_URL_SSM is not set)',
      },
    });
    assert.deepEqual(planServices({ ec2: 'http://e', autoscaling: 'http://a' }).autoscaling, {
      available: true,
    });
    // SSM or Auto Scaling at a local stand-in while EC2 is AWS's: all of them used.
    assert.deepEqual(planServices({ ssm: 'http://s' }).autoscaling, { available: true });
  });
});

describe("what an endpoint's answers say (real SDK, real answer shapes)", () => {
  test('Eucalyptus 4 refusing newer parameters: every one of them, as named on the wire', async (t) => {
    const endpoint = await startWireEndpoint(t, undefined, { services: ['ec2'], ec2Api: 'legacy' });
    const { env } = wireEnv(endpoint.url);
    const error = await errorOf(env.api.runInstances(buildProbeRequest('m1.small')));
    const refused = unknownParameters(error);
    assert.equal(refused?.complete, true);
    assert.deepEqual(refused.paths.sort(), [
      'DryRun',
      'MetadataOptions.HttpEndpoint',
      'MetadataOptions.HttpTokens',
      'TagSpecification.1.ResourceType',
      'TagSpecification.1.Tag.1.Key',
      'TagSpecification.1.Tag.1.Value',
    ]);
    assert.match(
      String((error as Error).message),
      /^ec2:RunInstances failed: 400 Bad Request: Failed to bind the following fields:; \w/,
    );
    assert.match(String((error as { hint?: string }).hint), /bootstrap doctor --endpoint-url URL/);
    assert.equal(isUnknownAction(error), false);

    const noTemplates = await errorOf(env.api.describeLaunchTemplates({}));
    assert.equal(isUnknownAction(noTemplates), true);
    assert.equal(unknownParameters(noTemplates), undefined);
  });

  test('AWS naming the first unknown parameter; other refusals are not about parameters', () => {
    assert.deepEqual(
      unknownParameters(
        awsError('UnknownParameter', 'The parameter MetadataOptions is not recognized'),
      ),
      { paths: ['MetadataOptions'], complete: false },
    );
    assert.equal(unknownParameters(awsError('InvalidAMIID.NotFound', 'no such image')), undefined);
    assert.equal(
      unknownParameters(awsError('DryRunOperation', 'would have succeeded', 412)),
      undefined,
    );
    assert.deepEqual(
      namedParameters([
        'TagSpecification.1.ResourceType',
        'IpPermissions.1.Ipv6Ranges.1.CidrIpv6',
        'IpPermissions.1.IpRanges.1.Description',
        'Monitoring.Enabled',
      ]),
      ['tagOnCreate', 'ipv6Rules'],
    );
  });

  test('EC2-only endpoint asked for Auto Scaling or SSM; nothing listening', async (t) => {
    const endpoint = await startWireEndpoint(t, undefined, { services: ['ec2'] });
    const { env } = wireEnv(endpoint.url);
    const asg = await errorOf(env.api.describeAutoScalingGroups({}));
    assert.equal(isUnknownAction(asg), true, String(asg));
    const ssm = await errorOf(env.api.getParameter({ Name: '/aws/service/x' }));
    assert.equal(isUnknownAction(ssm), true, String(ssm));
    const { env: closed } = wireEnv('http://127.0.0.1:9');
    const refused = await errorOf(closed.api.describeAutoScalingGroups({}));
    assert.equal(isUnreachable(refused), true, String(refused));
    assert.equal(isUnknownAction(refused), false);
    // A real "no such thing" is neither.
    assert.equal(isUnknownAction(awsError('InvalidGroup.NotFound', 'gone')), false);
  });
});

describe('requests without the newer parameters (golden)', () => {
  test('security group, its rule, RunInstances, CreateTags and the probe', () => {
    const plan = planLaunch(
      recipeFrom(
        'name: auction\nservice:\n  repo: https://example.org/a.git\n  runtime: static\nserve:\n  port: 8080\nttl: 1h\n',
      ),
      { openPort: true, image: 'emi-1a2b3c4d' },
      { now: new Date('2026-11-22T10:00:00.000Z'), random: () => 0.5 },
    );
    const inputs = {
      imageId: 'emi-1a2b3c4d',
      userData: Buffer.from('#cloud-config\n'),
      securityGroupId: 'sg-1',
    };
    assertGolden(GOLDEN, 'older-api', {
      createSecurityGroup: withoutTagSpecifications(
        buildCreateSecurityGroupRequest(plan, undefined),
      ),
      openPort: withoutIpv6Rules(buildOpenPortRequest(plan, 'sg-1')),
      runInstances: tailorRunInstances(buildRunInstancesRequest(plan, inputs), {
        tagOnCreate: false,
        metadataOptions: false,
      }),
      runInstancesTagsOnly: Object.keys(
        tailorRunInstances(buildRunInstancesRequest(plan, inputs), { tagOnCreate: false }),
      ),
      createTags: buildCreateTagsRequest(['i-1', 'i-2'], plan.tags),
      probe: buildProbeRequest('m1.small'),
    });
  });
});

describe('the DryRun probe', () => {
  test('an API that names one unknown parameter at a time is asked until it answers', async () => {
    const { env, cloud } = mockedEnv(undefined, compatible());
    cloud.failNext.set('ec2:RunInstances', [
      {
        mode: 'rejected',
        error: awsError('UnknownParameter', 'The parameter TagSpecification is not recognized'),
      },
      {
        mode: 'rejected',
        error: awsError('UnknownParameter', 'The parameter MetadataOptions is not recognized'),
      },
    ]);
    await probeEc2Parameters(env, 't3.micro');
    assert.deepEqual(env.cloud.ec2, { tagOnCreate: false, metadataOptions: false, dryRun: true });
    const sent = cloud.calls.map((c) => Object.keys(c.input).filter((k) => /Tag|Metadata/.test(k)));
    assert.deepEqual(sent, [['MetadataOptions', 'TagSpecifications'], ['MetadataOptions'], []]);
    assert.deepEqual(cloud.leftovers(), [], 'a probe never starts anything');
  });

  test('an API without DryRun that names one at a time: the rest is learned by the launch', async (t) => {
    const { env, cloud } = mockedEnv(undefined, compatible());
    cloud.failNext.set('ec2:RunInstances', [
      {
        mode: 'rejected',
        error: awsError('UnknownParameter', 'The parameter DryRun is not recognized'),
      },
      {
        mode: 'rejected',
        error: awsError('UnknownParameter', 'The parameter TagSpecification is not recognized'),
      },
      {
        mode: 'rejected',
        error: awsError('UnknownParameter', 'The parameter MetadataOptions is not recognized'),
      },
    ]);
    const { startHealthServer } = await import('./harness.js');
    const health = await startHealthServer(t);
    const plan = planLaunch(
      testRecipe(health.port),
      { image: 'ami-0123456789abcdef0' },
      { now: env.now(), random: Math.random },
    );
    const result = await runLaunch(env, plan, Buffer.from('#cloud-config\n'), {
      allowImdsV1: true,
    });
    assert.equal(result.warnings?.length, 1);
    assert.deepEqual(env.cloud.ec2, { dryRun: false, tagOnCreate: false, metadataOptions: false });
    assert.deepEqual(cloud.callNames().slice(0, 5), [
      'ec2:RunInstances', // probe: DryRun unknown, nothing more to learn that way
      'ec2:RunInstances', // TagSpecification refused
      'ec2:RunInstances', // MetadataOptions refused
      'ec2:RunInstances', // started
      'ec2:CreateTags',
    ]);
    const [instance] = [...cloud.instances.values()];
    assert.equal(
      instance!.Tags.find((tag) => tag.Key === 'gitstrap:deployment')?.Value,
      plan.deployment,
    );
  });

  test('an API that takes everything: one call, DryRunOperation', async () => {
    const { env, cloud } = mockedEnv(undefined, compatible());
    await probeEc2Parameters(env, 't3.micro');
    assert.deepEqual(env.cloud.ec2, { tagOnCreate: true, metadataOptions: true, dryRun: true });
    assert.equal(cloud.calls.length, 1);
  });
});
