// Pure builders of the EC2 instance requests: what RunInstances sends (user-data, IMDSv2, tags on the
// instance and its volumes, shutdown behaviour), and the lookups and terminations by tag.
import type {
  BlockDeviceMapping,
  DescribeImagesCommandInput,
  DescribeInstancesCommandInput,
  InstanceMetadataOptionsRequest,
  RunInstancesCommandInput,
  TagSpecification,
  TerminateInstancesCommandInput,
  _InstanceType,
} from '@aws-sdk/client-ec2';
import { deploymentFilter } from './network-requests.js';
import type { LaunchPlan } from './plan.js';
import type { Tag } from './tags.js';

/** EC2's limit on user-data, before base64. */
export const USER_DATA_LIMIT = 16_384;

/** IMDSv2 only: the instance metadata answers session-token requests, never plain GETs. */
export const METADATA_OPTIONS: InstanceMetadataOptionsRequest = {
  HttpTokens: 'required',
  HttpEndpoint: 'enabled',
};

/** Instance states that still cost money or may come back: everything but terminated. */
export const LIVE_STATES = ['pending', 'running', 'shutting-down', 'stopping', 'stopped'];

/** What a launch resolved before it sends RunInstances. */
export interface InstanceInputs {
  imageId: string;
  userData: Buffer;
  securityGroupId?: string;
  /** The image's root device name, needed only to size the root volume. */
  rootDeviceName?: string;
}

/** The tag specifications for the instance and the volumes it is launched with. */
export function instanceTagSpecifications(tags: readonly Tag[]): TagSpecification[] {
  return [
    { ResourceType: 'instance', Tags: [...tags] },
    { ResourceType: 'volume', Tags: [...tags] },
  ];
}

/** The root volume mapping when the recipe sets launch.volume_size. */
export function rootVolumeMapping(
  plan: LaunchPlan,
  rootDeviceName: string | undefined,
): BlockDeviceMapping[] | undefined {
  if (plan.volumeSize === undefined || rootDeviceName === undefined) return undefined;
  return [
    {
      DeviceName: rootDeviceName,
      Ebs: { VolumeSize: plan.volumeSize, VolumeType: 'gp3', DeleteOnTermination: true },
    },
  ];
}

/** What every instance is launched with, by RunInstances or from a fleet's launch template. */
export type InstanceSettings = Pick<
  RunInstancesCommandInput,
  | 'ImageId'
  | 'InstanceType'
  | 'UserData'
  | 'MetadataOptions'
  | 'TagSpecifications'
  | 'InstanceInitiatedShutdownBehavior'
  | 'KeyName'
  | 'SecurityGroupIds'
  | 'IamInstanceProfile'
  | 'BlockDeviceMappings'
>;

/** An instance's image, type, user-data, IMDSv2, tags, end, key, security group, role and root volume. */
export function buildInstanceSettings(plan: LaunchPlan, inputs: InstanceInputs): InstanceSettings {
  const settings: InstanceSettings = {
    ImageId: inputs.imageId,
    // Instance types are open-ended (EC2-compatible clouds have their own); EC2 checks them.
    InstanceType: plan.instanceType as _InstanceType,
    UserData: inputs.userData.toString('base64'),
    MetadataOptions: { ...METADATA_OPTIONS },
    TagSpecifications: instanceTagSpecifications(plan.tags),
  };
  if (plan.expiresAt) settings.InstanceInitiatedShutdownBehavior = 'terminate';
  if (plan.keyName !== undefined) settings.KeyName = plan.keyName;
  if (inputs.securityGroupId !== undefined) settings.SecurityGroupIds = [inputs.securityGroupId];
  if (plan.instanceProfile !== undefined)
    settings.IamInstanceProfile = { Name: plan.instanceProfile };
  const volumes = rootVolumeMapping(plan, inputs.rootDeviceName);
  if (volumes) settings.BlockDeviceMappings = volumes;
  return settings;
}

/** The RunInstances request of a single-instance (or --count N) launch. */
export function buildRunInstancesRequest(
  plan: LaunchPlan,
  inputs: InstanceInputs,
): RunInstancesCommandInput {
  const request: RunInstancesCommandInput = {
    ...buildInstanceSettings(plan, inputs),
    MinCount: plan.count,
    MaxCount: plan.count,
    // Idempotent: a retried RunInstances with the same token never starts a second set.
    ClientToken: plan.deployment,
  };
  if (plan.subnet !== undefined) request.SubnetId = plan.subnet;
  return request;
}

/** DescribeImages for one AMI (its root device name). */
export function buildDescribeImageRequest(imageId: string): DescribeImagesCommandInput {
  return { ImageIds: [imageId] };
}

/** DescribeInstances for given instance ids. */
export function buildDescribeInstancesByIdRequest(
  instanceIds: readonly string[],
): DescribeInstancesCommandInput {
  return { InstanceIds: [...instanceIds] };
}

/** DescribeInstances for the live instances of one deployment, or of every deployment. */
export function buildDescribeDeploymentInstancesRequest(
  deployment?: string,
): DescribeInstancesCommandInput {
  return {
    Filters: [
      deploymentFilter(deployment),
      { Name: 'instance-state-name', Values: [...LIVE_STATES] },
    ],
  };
}

/** DescribeInstances for the live instances a RunInstances with this client token started. */
export function buildDescribeInstancesByClientTokenRequest(
  clientToken: string,
): DescribeInstancesCommandInput {
  return {
    Filters: [
      { Name: 'client-token', Values: [clientToken] },
      { Name: 'instance-state-name', Values: [...LIVE_STATES] },
    ],
  };
}

/** TerminateInstances for given instance ids. */
export function buildTerminateInstancesRequest(
  instanceIds: readonly string[],
): TerminateInstancesCommandInput {
  return { InstanceIds: [...instanceIds] };
}
