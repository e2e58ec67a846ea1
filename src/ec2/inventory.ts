// What exists of gitstrap's deployments, found by their tag: live instances, Auto Scaling groups,
// launch templates and security groups, grouped by deployment id. ls, down, reap and refresh read it.
// Where Auto Scaling cannot be used (an EC2-compatible cloud without it) groups are left out, and an
// EC2 API without launch templates has none; what that means is told by env.cloud.
import type { AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import type { Instance } from '@aws-sdk/client-ec2';
import {
  buildDescribeAutoScalingGroupsRequest,
  buildDescribeDeploymentLaunchTemplatesRequest,
} from './fleet-requests.js';
import { withService } from './cloud.js';
import { isUnknownAction } from './errors.js';
import type { FlowEnv } from './flow-env.js';
import { buildDescribeDeploymentInstancesRequest } from './instance-requests.js';
import { buildDescribeDeploymentSecurityGroupsRequest } from './network-requests.js';
import { describeAllGroups, describeAllInstances, describeAllPages } from './resources.js';
import { readDeploymentTags, type DeploymentTags } from './tags.js';

/** Everything that exists of one deployment. */
export interface DeploymentResources extends DeploymentTags {
  instances: Instance[];
  groups: AutoScalingGroup[];
  templates: Array<{ id: string; name: string }>;
  securityGroups: Array<{ id: string; name: string }>;
}

/** The deployments in reach (one, when `deployment` is given), by id. */
export async function takeInventory(
  env: Pick<FlowEnv, 'api' | 'cloud'>,
  deployment?: string,
): Promise<Map<string, DeploymentResources>> {
  const found = new Map<string, DeploymentResources>();
  const entry = (tags: Parameters<typeof readDeploymentTags>[0]) => {
    const read = readDeploymentTags(tags);
    if (!read || (deployment !== undefined && read.deployment !== deployment)) return undefined;
    let d = found.get(read.deployment);
    if (!d) {
      d = { ...read, instances: [], groups: [], templates: [], securityGroups: [] };
      found.set(read.deployment, d);
    }
    return d;
  };

  const [instances, groups, templates, securityGroups] = await Promise.all([
    describeAllInstances(env, buildDescribeDeploymentInstancesRequest(deployment)),
    withService(
      env,
      'autoscaling',
      () => describeAllGroups(env, buildDescribeAutoScalingGroupsRequest({ deployment })),
      () => [],
    ),
    describeLaunchTemplates(env, deployment),
    describeAllPages(
      buildDescribeDeploymentSecurityGroupsRequest(deployment),
      (r) => env.api.describeSecurityGroups(r),
      (out) => out.SecurityGroups ?? [],
    ),
  ]);
  for (const g of groups) entry(g.Tags)?.groups.push(g);
  for (const i of instances) entry(i.Tags)?.instances.push(i);
  for (const t of templates) {
    if (t.LaunchTemplateId && t.LaunchTemplateName)
      entry(t.Tags)?.templates.push({ id: t.LaunchTemplateId, name: t.LaunchTemplateName });
  }
  for (const s of securityGroups) {
    if (s.GroupId) entry(s.Tags)?.securityGroups.push({ id: s.GroupId, name: s.GroupName ?? '' });
  }
  return found;
}

/** The deployment's launch templates; none where the EC2 API has no launch templates. */
async function describeLaunchTemplates(env: Pick<FlowEnv, 'api' | 'cloud'>, deployment?: string) {
  if (env.cloud.ec2.launchTemplates === false) return [];
  try {
    const all = await describeAllPages(
      buildDescribeDeploymentLaunchTemplatesRequest(deployment),
      (r) => env.api.describeLaunchTemplates(r),
      (out) => out.LaunchTemplates ?? [],
    );
    env.cloud.ec2.launchTemplates = true;
    return all;
  } catch (error) {
    if (!isUnknownAction(error)) throw error;
    env.cloud.ec2.launchTemplates = false;
    return [];
  }
}

/** The tag Auto Scaling puts on the instances it launches. */
const GROUP_TAG = 'aws:autoscaling:groupName';

/**
 * Whether a deployment is (or was) a fleet: it has an Auto Scaling group, a launch template, or
 * instances Auto Scaling launched. Without Auto Scaling at hand only the last two show.
 */
export function isFleet(d: DeploymentResources): boolean {
  return (
    d.groups.length > 0 ||
    d.templates.length > 0 ||
    d.instances.some((i) => i.Tags?.some((t) => t.Key === GROUP_TAG))
  );
}

/** When a deployment began: its earliest instance launch or group creation. */
export function launchedAt(d: DeploymentResources): Date | undefined {
  const times = [
    ...d.instances.map((i) => i.LaunchTime),
    ...d.groups.map((g) => g.CreatedTime),
  ].filter((t): t is Date => t instanceof Date);
  return times.length ? new Date(Math.min(...times.map((t) => t.getTime()))) : undefined;
}

/** Whether a deployment's expiry has passed. */
export function isExpired(d: DeploymentResources, now: Date): boolean {
  return d.expiresAt !== undefined && d.expiresAt.getTime() <= now.getTime();
}
