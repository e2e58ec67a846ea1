// Pure builders of the fleet requests: a launch template carrying the same user-data, IMDSv2 and tags
// as a single launch, an Auto Scaling group of N, its scheduled end, and instance refreshes.
import type {
  DescribeAutoScalingGroupsCommandInput,
  CreateAutoScalingGroupCommandInput,
  DeleteAutoScalingGroupCommandInput,
  PutScheduledUpdateGroupActionCommandInput,
  StartInstanceRefreshCommandInput,
} from '@aws-sdk/client-auto-scaling';
import type {
  CreateLaunchTemplateCommandInput,
  CreateLaunchTemplateVersionCommandInput,
  DeleteLaunchTemplateCommandInput,
  DescribeLaunchTemplatesCommandInput,
  DescribeLaunchTemplateVersionsCommandInput,
} from '@aws-sdk/client-ec2';
import { buildInstanceSettings, type InstanceInputs } from './instance-requests.js';
import { deploymentFilter } from './network-requests.js';
import type { LaunchPlan } from './plan.js';

/** The name of the scheduled action that scales an expiring fleet to zero. */
export const EXPIRE_ACTION = 'gitstrap-expire';

/** CreateLaunchTemplate: what every instance of the fleet is launched with. */
export function buildCreateLaunchTemplateRequest(
  plan: LaunchPlan,
  inputs: InstanceInputs,
): CreateLaunchTemplateCommandInput {
  return {
    LaunchTemplateName: plan.names.launchTemplate,
    VersionDescription: `gitstrap ${plan.recipe}`,
    ClientToken: plan.deployment,
    LaunchTemplateData: buildInstanceSettings(plan, inputs),
    TagSpecifications: [{ ResourceType: 'launch-template', Tags: [...plan.tags] }],
  };
}

/** CreateAutoScalingGroup of plan.count instances over the given subnets. */
export function buildCreateAutoScalingGroupRequest(
  plan: LaunchPlan,
  subnetIds: readonly string[],
): CreateAutoScalingGroupCommandInput {
  const name = plan.names.autoScalingGroup;
  return {
    AutoScalingGroupName: name,
    LaunchTemplate: { LaunchTemplateName: plan.names.launchTemplate, Version: '$Latest' },
    MinSize: plan.count,
    MaxSize: plan.count,
    DesiredCapacity: plan.count,
    VPCZoneIdentifier: subnetIds.join(','),
    // The group's own tags; its instances and volumes get theirs from the launch template.
    Tags: plan.tags.map((t) => ({
      Key: t.Key,
      Value: t.Value,
      PropagateAtLaunch: false,
      ResourceId: name,
      ResourceType: 'auto-scaling-group',
    })),
  };
}

/** PutScheduledUpdateGroupAction: at expiry the group scales to zero, launcher or not. */
export function buildExpireFleetRequest(
  plan: LaunchPlan,
): PutScheduledUpdateGroupActionCommandInput | undefined {
  if (!plan.expiresAt) return undefined;
  return {
    AutoScalingGroupName: plan.names.autoScalingGroup,
    ScheduledActionName: EXPIRE_ACTION,
    StartTime: plan.expiresAt,
    MinSize: 0,
    MaxSize: 0,
    DesiredCapacity: 0,
  };
}

/** DescribeAutoScalingGroups: by name, or every group of a deployment (or of all deployments). */
export function buildDescribeAutoScalingGroupsRequest(
  by: { name: string } | { deployment?: string },
): DescribeAutoScalingGroupsCommandInput {
  if ('name' in by) return { AutoScalingGroupNames: [by.name] };
  return {
    Filters: [deploymentFilter(by.deployment)],
  };
}

/** DeleteAutoScalingGroup, terminating its instances with it. */
export function buildDeleteAutoScalingGroupRequest(
  name: string,
): DeleteAutoScalingGroupCommandInput {
  return { AutoScalingGroupName: name, ForceDelete: true };
}

/** DeleteLaunchTemplate by name. */
export function buildDeleteLaunchTemplateRequest(name: string): DeleteLaunchTemplateCommandInput {
  return { LaunchTemplateName: name };
}

/** DescribeLaunchTemplates of one deployment, or of every deployment. */
export function buildDescribeDeploymentLaunchTemplatesRequest(
  deployment?: string,
): DescribeLaunchTemplatesCommandInput {
  return { Filters: [deploymentFilter(deployment)] };
}

/** DescribeLaunchTemplateVersions: the latest version (its image). */
export function buildDescribeLatestTemplateVersionRequest(
  name: string,
): DescribeLaunchTemplateVersionsCommandInput {
  return { LaunchTemplateName: name, Versions: ['$Latest'] };
}

/** CreateLaunchTemplateVersion: the latest version with a newer image. */
export function buildNewImageVersionRequest(
  name: string,
  imageId: string,
): CreateLaunchTemplateVersionCommandInput {
  return {
    LaunchTemplateName: name,
    SourceVersion: '$Latest',
    VersionDescription: `gitstrap refresh: ${imageId}`,
    LaunchTemplateData: { ImageId: imageId },
  };
}

/** StartInstanceRefresh: replace every instance, launching each new one before ending an old one. */
export function buildStartInstanceRefreshRequest(name: string): StartInstanceRefreshCommandInput {
  return {
    AutoScalingGroupName: name,
    Strategy: 'Rolling',
    Preferences: { MinHealthyPercentage: 100, MaxHealthyPercentage: 200, SkipMatching: false },
  };
}
