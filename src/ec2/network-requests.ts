// Pure builders of the network requests: the tagged security group `--open-port` creates for
// serve.port, its ingress rule, and the subnet lookups a launch needs.
import type {
  AuthorizeSecurityGroupIngressCommandInput,
  CreateSecurityGroupCommandInput,
  DeleteSecurityGroupCommandInput,
  DescribeSecurityGroupsCommandInput,
  DescribeSubnetsCommandInput,
} from '@aws-sdk/client-ec2';
import type { LaunchPlan } from './plan.js';
import { TAG } from './tags.js';

/** CreateSecurityGroup for a deployment (in the subnet's VPC, or the default VPC). */
export function buildCreateSecurityGroupRequest(
  plan: LaunchPlan,
  vpcId: string | undefined,
): CreateSecurityGroupCommandInput {
  const request: CreateSecurityGroupCommandInput = {
    GroupName: plan.names.securityGroup,
    Description: `gitstrap deployment ${plan.deployment}: opens port ${plan.port}`,
    TagSpecifications: [{ ResourceType: 'security-group', Tags: [...plan.tags] }],
  };
  if (vpcId !== undefined) request.VpcId = vpcId;
  return request;
}

/** AuthorizeSecurityGroupIngress opening serve.port over TCP to everyone (IPv4 and IPv6). */
export function buildOpenPortRequest(
  plan: LaunchPlan,
  groupId: string,
): AuthorizeSecurityGroupIngressCommandInput {
  const description = `gitstrap ${plan.recipe}`;
  return {
    GroupId: groupId,
    IpPermissions: [
      {
        IpProtocol: 'tcp',
        FromPort: plan.port,
        ToPort: plan.port,
        IpRanges: [{ CidrIp: '0.0.0.0/0', Description: description }],
        Ipv6Ranges: [{ CidrIpv6: '::/0', Description: description }],
      },
    ],
  };
}

/** DeleteSecurityGroup by id. */
export function buildDeleteSecurityGroupRequest(groupId: string): DeleteSecurityGroupCommandInput {
  return { GroupId: groupId };
}

/** DescribeSecurityGroups of one deployment, or of every deployment. */
export function buildDescribeDeploymentSecurityGroupsRequest(
  deployment?: string,
): DescribeSecurityGroupsCommandInput {
  return { Filters: [deploymentFilter(deployment)] };
}

/** DescribeSecurityGroups of the group with a name (found even when it carries no tags). */
export function buildDescribeSecurityGroupByNameRequest(
  name: string,
): DescribeSecurityGroupsCommandInput {
  return { Filters: [{ Name: 'group-name', Values: [name] }] };
}

/** The EC2 filter matching one deployment's resources, or every deployment's. */
export function deploymentFilter(deployment?: string): { Name: string; Values: string[] } {
  return deployment === undefined
    ? { Name: 'tag-key', Values: [TAG.deployment] }
    : { Name: `tag:${TAG.deployment}`, Values: [deployment] };
}

/** DescribeSubnets: the given subnet (for its VPC), or the default subnets (for a fleet). */
export function buildDescribeSubnetsRequest(
  subnet: string | undefined,
): DescribeSubnetsCommandInput {
  return subnet === undefined
    ? { Filters: [{ Name: 'default-for-az', Values: ['true'] }] }
    : { SubnetIds: [subnet] };
}
