// Golden tests of the pure request builders: exactly what each EC2 / Auto Scaling / SSM request
// carries for a known plan.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  buildCreateAutoScalingGroupRequest,
  buildCreateLaunchTemplateRequest,
  buildDescribeAutoScalingGroupsRequest,
  buildExpireFleetRequest,
  buildNewImageVersionRequest,
  buildStartInstanceRefreshRequest,
} from '../../src/ec2/fleet-requests.js';
import { buildGetImageParameterRequest, IMAGE_PARAMETERS } from '../../src/ec2/images.js';
import {
  buildDescribeDeploymentInstancesRequest,
  buildRunInstancesRequest,
} from '../../src/ec2/instance-requests.js';
import {
  buildCreateSecurityGroupRequest,
  buildDescribeSubnetsRequest,
  buildOpenPortRequest,
} from '../../src/ec2/network-requests.js';
import { planLaunch, type LaunchFlags } from '../../src/ec2/plan.js';
import { assertGolden, goldenDir } from '../helpers/golden.js';
import { recipeFrom } from './harness.js';

const GOLDEN = goldenDir('ec2');

const NOW = new Date('2026-11-22T10:00:00.000Z');
const USER_DATA = Buffer.from('#cloud-config\nruncmd: [[echo, hi]]\n');

const RECIPE = `name: fundraiser-auction
service:
  repo: https://example.org/auction.git
  runtime: static
serve:
  port: 8080
ttl: 30d
launch:
  instance_type: t3.small
  os: debian-12
  key_name: organisers
  volume_size: 16
  instance_profile: gitstrap-instance
`;

function plan(flags: LaunchFlags = {}, recipe = RECIPE) {
  return planLaunch(recipeFrom(recipe), flags, { now: NOW, random: () => 0.6667 });
}

describe('request builders (golden)', () => {
  test('the plan: deployment id, expiry, tags, names', () => {
    assertGolden(GOLDEN, 'plan', plan({ openPort: true }));
  });

  test('RunInstances: base64 user-data, IMDSv2, tags on instance and volume, terminate on shutdown', () => {
    const p = plan({ openPort: true, count: '3', subnet: 'subnet-0aaa' });
    const request = buildRunInstancesRequest(p, {
      imageId: 'ami-0d12d12d12d12d12d',
      userData: USER_DATA,
      securityGroupId: 'sg-0123',
      rootDeviceName: '/dev/xvda',
    });
    assertGolden(GOLDEN, 'run-instances', request);
    assert.equal(Buffer.from(request.UserData!, 'base64').toString(), USER_DATA.toString());
  });

  test('RunInstances without a ttl keeps the default shutdown behaviour and has no expiry tag', () => {
    const p = plan({ ttl: 'none' });
    const request = buildRunInstancesRequest(p, {
      imageId: 'ami-0d12d12d12d12d12d',
      userData: USER_DATA,
    });
    assert.equal(request.InstanceInitiatedShutdownBehavior, undefined);
    assert.deepEqual(
      request.TagSpecifications!.map((s) => s.Tags!.map((t) => t.Key)),
      [
        ['Name', 'gitstrap:recipe', 'gitstrap:deployment', 'gitstrap:os'],
        ['Name', 'gitstrap:recipe', 'gitstrap:deployment', 'gitstrap:os'],
      ],
    );
    assert.equal(request.BlockDeviceMappings, undefined, 'no root device name: no mapping');
  });

  test("security group for --open-port, in the subnet's VPC, and its ingress rule", () => {
    const p = plan({ openPort: true });
    assertGolden(GOLDEN, 'security-group', {
      create: buildCreateSecurityGroupRequest(p, 'vpc-0default'),
      authorize: buildOpenPortRequest(p, 'sg-0123'),
    });
  });

  test('fleet: launch template, Auto Scaling group, its scheduled end', () => {
    const p = plan({ fleet: true, count: '2', openPort: true });
    assertGolden(GOLDEN, 'fleet', {
      launchTemplate: buildCreateLaunchTemplateRequest(p, {
        imageId: 'ami-0d12d12d12d12d12d',
        userData: USER_DATA,
        securityGroupId: 'sg-0123',
        rootDeviceName: '/dev/xvda',
      }),
      autoScalingGroup: buildCreateAutoScalingGroupRequest(p, ['subnet-0aaa', 'subnet-0bbb']),
      expire: buildExpireFleetRequest(p),
    });
    assert.equal(buildExpireFleetRequest(plan({ fleet: true, ttl: 'none' })), undefined);
  });

  test('refresh, lookups and image parameters', () => {
    assertGolden(GOLDEN, 'lookups', {
      refresh: buildStartInstanceRefreshRequest('gitstrap-x'),
      newImage: buildNewImageVersionRequest('gitstrap-x', 'ami-0fffffffffffffff0'),
      instancesOfAll: buildDescribeDeploymentInstancesRequest(),
      instancesOfOne: buildDescribeDeploymentInstancesRequest('x-20261122-abcd'),
      groupsOfOne: buildDescribeAutoScalingGroupsRequest({ deployment: 'x-20261122-abcd' }),
      defaultSubnets: buildDescribeSubnetsRequest(undefined),
      oneSubnet: buildDescribeSubnetsRequest('subnet-0aaa'),
      images: Object.fromEntries(
        Object.keys(IMAGE_PARAMETERS).map((os) => [
          os,
          buildGetImageParameterRequest(os as 'al2023'),
        ]),
      ),
    });
  });
});
