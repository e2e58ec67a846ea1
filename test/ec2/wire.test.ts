// The real AWS SDK sending to a recording endpoint on 127.0.0.1: what goes on the wire for a launch
// (user-data base64, tags, IMDSv2, shutdown behaviour), a fleet (the Auto Scaling calls), throttling,
// and ls, down, reap and refresh over real requests and XML answers.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runDown } from '../../src/ec2/down.js';
import { takeInventory } from '../../src/ec2/inventory.js';
import { runLaunch } from '../../src/ec2/launch.js';
import { summarizeDeployment } from '../../src/ec2/deployment-table.js';
import { planLaunch, type LaunchFlags } from '../../src/ec2/plan.js';
import { runReap } from '../../src/ec2/reap.js';
import { runRefresh } from '../../src/ec2/refresh.js';
import { FakeCloud } from './fake-cloud.js';
import { startHealthServer, testRecipe, wireEnv } from './harness.js';
import { startWireEndpoint } from './wire-endpoint.js';

const USER_DATA = Buffer.from(
  '#cloud-config\nruncmd: [[sh, /usr/local/lib/gitstrap/first-boot.sh]]\n',
);

function planFor(port: number, flags: LaunchFlags, extra = '') {
  return planLaunch(testRecipe(port, extra), flags, { now: new Date(), random: Math.random });
}

/** The tags of one TagSpecification.N on the wire, as [key, value] pairs. */
function wireTags(params: Record<string, string>, prefix: string): Array<[string, string]> {
  const tags: Array<[string, string]> = [];
  for (let n = 1; params[`${prefix}.${n}.Key`] !== undefined; n++) {
    tags.push([params[`${prefix}.${n}.Key`]!, params[`${prefix}.${n}.Value`]!]);
  }
  return tags;
}

describe('on the wire (real SDK, recording endpoint)', () => {
  test('a single launch: SSM image lookup, security group, RunInstances as EC2 receives it', async (t) => {
    const health = await startHealthServer(t);
    const endpoint = await startWireEndpoint(t);
    const { env } = wireEnv(endpoint.url);
    const plan = planFor(
      health.port,
      { openPort: true, ttl: '2h', keyName: 'ops' },
      'launch:\n  volume_size: 12\n',
    );
    const result = await runLaunch(env, plan, USER_DATA);
    assert.equal(result.instances[0]!.url, `http://127.0.0.1:${health.port}/`);

    const [ssm] = endpoint.of('ssm:GetParameter');
    assert.equal(ssm!.headers['x-amz-target'], 'AmazonSSM.GetParameter');
    assert.deepEqual(ssm!.json, { Name: '/aws/service/debian/release/12/latest/amd64' });
    assert.match(
      String(ssm!.headers.authorization),
      /^AWS4-HMAC-SHA256 Credential=AKIDWIRETEST\/\d{8}\/us-east-1\/ssm\/aws4_request/,
    );

    const [run] = endpoint.of('ec2:RunInstances');
    const p = run!.params;
    assert.match(String(run!.headers.authorization), /\/us-east-1\/ec2\/aws4_request/);
    assert.equal(p.Version, '2016-11-15');
    assert.equal(Buffer.from(p.UserData!, 'base64').toString(), USER_DATA.toString());
    assert.equal(p.ImageId, 'ami-0d12d12d12d12d12d');
    assert.equal(p['MetadataOptions.HttpTokens'], 'required');
    assert.equal(p['MetadataOptions.HttpEndpoint'], 'enabled');
    assert.equal(p.InstanceInitiatedShutdownBehavior, 'terminate');
    assert.equal(p.MinCount, '1');
    assert.equal(p.MaxCount, '1');
    assert.equal(p.ClientToken, plan.deployment);
    assert.equal(p.KeyName, 'ops');
    assert.equal(p['SecurityGroupId.1'], result.securityGroupId);
    assert.equal(p['BlockDeviceMapping.1.DeviceName'], '/dev/xvda');
    assert.equal(p['BlockDeviceMapping.1.Ebs.VolumeSize'], '12');
    const expected: Array<[string, string]> = [
      ['Name', plan.deployment],
      ['gitstrap:recipe', 'auction'],
      ['gitstrap:deployment', plan.deployment],
      ['gitstrap:expires-at', plan.expiresAt!.toISOString()],
      ['gitstrap:os', 'debian-12'],
    ];
    assert.equal(p['TagSpecification.1.ResourceType'], 'instance');
    assert.deepEqual(wireTags(p, 'TagSpecification.1.Tag'), expected);
    assert.equal(p['TagSpecification.2.ResourceType'], 'volume');
    assert.deepEqual(wireTags(p, 'TagSpecification.2.Tag'), expected);

    const [sg] = endpoint.of('ec2:CreateSecurityGroup');
    assert.equal(sg!.params.GroupName, `gitstrap-${plan.deployment}`);
    assert.equal(sg!.params['TagSpecification.1.ResourceType'], 'security-group');
    assert.deepEqual(wireTags(sg!.params, 'TagSpecification.1.Tag'), expected);
    const [ingress] = endpoint.of('ec2:AuthorizeSecurityGroupIngress');
    assert.equal(ingress!.params['IpPermissions.1.FromPort'], String(health.port));
    assert.equal(ingress!.params['IpPermissions.1.IpRanges.1.CidrIp'], '0.0.0.0/0');
    assert.equal(ingress!.params['IpPermissions.1.Ipv6Ranges.1.CidrIpv6'], '::/0');
  });

  test('--count 3 without a ttl: one RunInstances with MinCount=MaxCount=3, no shutdown behaviour', async (t) => {
    const endpoint = await startWireEndpoint(t);
    const { env } = wireEnv(endpoint.url);
    await runLaunch(env, planFor(1, { count: '3', image: 'ami-0123456789abcdef0' }), USER_DATA, {
      noWait: true,
    });
    const runs = endpoint.of('ec2:RunInstances');
    assert.equal(runs.length, 1);
    assert.equal(runs[0]!.params.MinCount, '3');
    assert.equal(runs[0]!.params.MaxCount, '3');
    assert.equal(runs[0]!.params.ImageId, 'ami-0123456789abcdef0');
    assert.equal(runs[0]!.params.InstanceInitiatedShutdownBehavior, undefined);
    assert.equal(endpoint.of('ssm:GetParameter').length, 0, 'an explicit AMI needs no lookup');
  });

  test('a fleet: the launch template and the Auto Scaling calls as they go out', async (t) => {
    const health = await startHealthServer(t);
    const endpoint = await startWireEndpoint(t);
    const { env } = wireEnv(endpoint.url);
    const plan = planFor(health.port, { fleet: true, count: '2', ttl: '1d', openPort: true });
    const result = await runLaunch(env, plan, USER_DATA);
    assert.equal(result.instances.length, 2);

    const lt = endpoint.of('ec2:CreateLaunchTemplate')[0]!.params;
    assert.equal(lt.LaunchTemplateName, `gitstrap-${plan.deployment}`);
    assert.equal(
      Buffer.from(lt['LaunchTemplateData.UserData']!, 'base64').toString(),
      USER_DATA.toString(),
    );
    assert.equal(lt['LaunchTemplateData.MetadataOptions.HttpTokens'], 'required');
    assert.equal(lt['LaunchTemplateData.InstanceInitiatedShutdownBehavior'], 'terminate');
    assert.equal(lt['LaunchTemplateData.TagSpecification.1.ResourceType'], 'instance');
    assert.equal(lt['LaunchTemplateData.TagSpecification.2.ResourceType'], 'volume');
    assert.equal(lt['LaunchTemplateData.SecurityGroupId.1'], result.securityGroupId);
    assert.equal(lt['TagSpecification.1.ResourceType'], 'launch-template');

    const asg = endpoint.of('autoscaling:CreateAutoScalingGroup')[0]!;
    assert.equal(asg.params.Version, '2011-01-01');
    assert.match(String(asg.headers.authorization), /\/us-east-1\/autoscaling\/aws4_request/);
    assert.equal(asg.params.AutoScalingGroupName, `gitstrap-${plan.deployment}`);
    assert.equal(asg.params['LaunchTemplate.LaunchTemplateName'], `gitstrap-${plan.deployment}`);
    assert.equal(asg.params['LaunchTemplate.Version'], '$Latest');
    assert.deepEqual(
      [asg.params.MinSize, asg.params.MaxSize, asg.params.DesiredCapacity],
      ['2', '2', '2'],
    );
    assert.equal(asg.params.VPCZoneIdentifier, 'subnet-0aaa,subnet-0bbb');
    assert.equal(asg.params['Tags.member.3.Key'], 'gitstrap:deployment');
    assert.equal(asg.params['Tags.member.3.Value'], plan.deployment);
    assert.equal(asg.params['Tags.member.3.PropagateAtLaunch'], 'false');

    const expire = endpoint.of('autoscaling:PutScheduledUpdateGroupAction')[0]!.params;
    assert.equal(expire.ScheduledActionName, 'gitstrap-expire');
    assert.equal(expire.StartTime, plan.expiresAt!.toISOString().replace('.000Z', 'Z'));
    assert.deepEqual([expire.MinSize, expire.MaxSize, expire.DesiredCapacity], ['0', '0', '0']);
  });

  test('RequestLimitExceeded from EC2 is parsed from the XML and retried', async (t) => {
    const endpoint = await startWireEndpoint(t);
    const { env, clock } = wireEnv(endpoint.url);
    const before = clock.now.getTime();
    endpoint.failNext('ec2:RunInstances', 'RequestLimitExceeded', { status: 503, times: 2 });
    await runLaunch(env, planFor(1, {}), USER_DATA, { noWait: true });
    assert.equal(endpoint.of('ec2:RunInstances').length, 3);
    assert.ok(clock.now.getTime() - before >= 750, 'it backed off');
    assert.equal(endpoint.cloud.instances.size, 1);
  });

  test('a failed launch destroys what it made, over real requests', async (t) => {
    const health = await startHealthServer(t);
    const endpoint = await startWireEndpoint(t);
    const { env } = wireEnv(endpoint.url);
    endpoint.failNext('autoscaling:CreateAutoScalingGroup', 'LimitExceeded', { mode: 'lost' });
    const plan = planFor(health.port, { fleet: true, count: '2', openPort: true });
    await assert.rejects(runLaunch(env, plan, USER_DATA), /LimitExceeded/);
    assert.deepEqual(endpoint.cloud.leftovers(), []);
    assert.deepEqual(
      endpoint.requests.map((r) => r.action).filter((a) => /^(Delete|Terminate)/.test(a)),
      ['DeleteAutoScalingGroup', 'DeleteLaunchTemplate', 'DeleteSecurityGroup'],
    );
  });

  test('ls, refresh, down and reap through the SDK and XML answers', async (t) => {
    const endpoint = await startWireEndpoint(t, new FakeCloud());
    const { env, clock } = wireEnv(endpoint.url);
    const single = planFor(80, { ttl: '1h', openPort: true });
    const fleet = planFor(80, { fleet: true, count: '2', ttl: '3h' });
    await runLaunch(env, single, USER_DATA, { noWait: true });
    await runLaunch(env, fleet, USER_DATA, { noWait: true });

    const rows = [...(await takeInventory(env)).values()].map((d) =>
      summarizeDeployment(d, env.now()),
    );
    const byId = new Map(rows.map((r) => [r.deployment, r]));
    assert.equal(byId.get(single.deployment)!.state, 'running');
    assert.equal(byId.get(single.deployment)!.expiresAt, single.expiresAt!.toISOString());
    assert.equal(byId.get(fleet.deployment)!.state, 'fleet 2/2');
    assert.deepEqual(byId.get(fleet.deployment)!.autoScalingGroup, {
      name: `gitstrap-${fleet.deployment}`,
      desired: 2,
      inService: 2,
    });

    endpoint.cloud.parameters.set(
      '/aws/service/debian/release/12/latest/amd64',
      'ami-0eeeeeeeeeeeeeee1',
    );
    const refreshed = await runRefresh(env, fleet.deployment);
    assert.equal(refreshed.refreshId, 'refresh-1');
    assert.deepEqual(refreshed.image, {
      from: 'ami-0d12d12d12d12d12d',
      to: 'ami-0eeeeeeeeeeeeeee1',
    });
    const version = endpoint.of('ec2:CreateLaunchTemplateVersion')[0]!.params;
    assert.equal(version.SourceVersion, '$Latest');
    assert.equal(version['LaunchTemplateData.ImageId'], 'ami-0eeeeeeeeeeeeeee1');
    const refresh = endpoint.of('autoscaling:StartInstanceRefresh')[0]!.params;
    assert.equal(refresh['Preferences.MinHealthyPercentage'], '100');
    assert.equal(refresh['Preferences.MaxHealthyPercentage'], '200');

    clock.now = new Date(clock.now.getTime() + 2 * 3_600_000);
    const reaped = await runReap(env);
    assert.deepEqual(
      reaped.ended.map((r) => r.deployment),
      [single.deployment],
    );
    assert.equal(endpoint.cloud.securityGroups.size, 0, "the expired one's security group is gone");

    const down = await runDown(env, fleet.deployment);
    assert.equal(down.left.length, 0);
    assert.deepEqual(endpoint.cloud.leftovers(), []);
    const del = endpoint.of('autoscaling:DeleteAutoScalingGroup')[0]!.params;
    assert.equal(del.ForceDelete, 'true');
    const inventory = endpoint
      .of('ec2:DescribeInstances')
      .find((r) => r.params['Filter.1.Name'] === 'tag-key')!;
    assert.equal(inventory.params['Filter.1.Value.1'], 'gitstrap:deployment');
    assert.equal(inventory.params['Filter.2.Name'], 'instance-state-name');
  });
});
