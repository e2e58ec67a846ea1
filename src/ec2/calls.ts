// The one table of AWS calls the launcher commands make. The caller (aws.ts) accepts only names from
// it, and the IAM policy (policy.ts) is derived from it, so the policy cannot drift from the code.

/** The launcher commands that talk to AWS. */
export const AWS_COMMANDS = ['launch', 'ls', 'down', 'reap', 'refresh', 'doctor'] as const;
export type AwsCommand = (typeof AWS_COMMANDS)[number];

/**
 * How a call's permission is scoped in the policy:
 * - read: Describe calls, which IAM cannot scope to resources;
 * - create: calls that create a resource (tagged at creation);
 * - tagged: calls on existing resources, allowed only on resources tagged gitstrap:deployment;
 * - public-parameter: reads of AWS's public SSM parameters (/aws/service/...);
 * - tag-after-create: tagging what a launch just created, only on an EC2-compatible cloud whose API
 *   has no tag-on-create. Never granted on AWS (which tags at creation): allowing CreateTags there
 *   would let the credentials tag any resource as gitstrap's, and then delete it.
 */
export type CallScope = 'read' | 'create' | 'tagged' | 'public-parameter' | 'tag-after-create';

/** Permissions a call needs beyond its own action. */
export type DependentPermission = 'tag-on-create' | 'pass-role' | 'autoscaling-service-role';

export interface AwsCallSpec {
  service: 'ec2' | 'ssm' | 'autoscaling';
  action: string;
  scope: CallScope;
  commands: readonly AwsCommand[];
  needs?: readonly DependentPermission[];
}

const CLEANUP = ['launch', 'down', 'reap'] as const;
const INVENTORY = ['ls', 'down', 'reap', 'refresh'] as const;
/** What `doctor` asks each service (read-only, and a RunInstances with DryRun). */
const PROBE = ['doctor'] as const;

/** Every AWS call the commands make, keyed service:Action (also the IAM action name). */
export const AWS_CALLS = {
  'ssm:GetParameter': {
    service: 'ssm',
    action: 'GetParameter',
    scope: 'public-parameter',
    commands: ['launch', 'refresh', ...PROBE],
  },
  'ec2:DescribeImages': {
    service: 'ec2',
    action: 'DescribeImages',
    scope: 'read',
    commands: ['launch'],
  },
  'ec2:DescribeSubnets': {
    service: 'ec2',
    action: 'DescribeSubnets',
    scope: 'read',
    commands: ['launch'],
  },
  'ec2:CreateSecurityGroup': {
    service: 'ec2',
    action: 'CreateSecurityGroup',
    scope: 'create',
    commands: ['launch'],
    needs: ['tag-on-create'],
  },
  'ec2:AuthorizeSecurityGroupIngress': {
    service: 'ec2',
    action: 'AuthorizeSecurityGroupIngress',
    scope: 'tagged',
    commands: ['launch'],
  },
  'ec2:DescribeSecurityGroups': {
    service: 'ec2',
    action: 'DescribeSecurityGroups',
    scope: 'read',
    commands: ['launch', ...INVENTORY],
  },
  'ec2:DeleteSecurityGroup': {
    service: 'ec2',
    action: 'DeleteSecurityGroup',
    scope: 'tagged',
    commands: CLEANUP,
  },
  'ec2:RunInstances': {
    service: 'ec2',
    action: 'RunInstances',
    scope: 'create',
    // launch on an EC2-compatible cloud and doctor first send it with DryRun (the parameter probe).
    commands: ['launch', ...PROBE],
    needs: ['tag-on-create', 'pass-role'],
  },
  'ec2:CreateTags': {
    service: 'ec2',
    action: 'CreateTags',
    scope: 'tag-after-create',
    commands: ['launch'],
  },
  'ec2:DescribeInstances': {
    service: 'ec2',
    action: 'DescribeInstances',
    scope: 'read',
    commands: ['launch', ...INVENTORY, ...PROBE],
  },
  'ec2:TerminateInstances': {
    service: 'ec2',
    action: 'TerminateInstances',
    scope: 'tagged',
    commands: CLEANUP,
  },
  'ec2:CreateLaunchTemplate': {
    service: 'ec2',
    action: 'CreateLaunchTemplate',
    scope: 'create',
    commands: ['launch'],
    needs: ['tag-on-create', 'pass-role'],
  },
  'ec2:DescribeLaunchTemplates': {
    service: 'ec2',
    action: 'DescribeLaunchTemplates',
    scope: 'read',
    commands: [...INVENTORY, ...PROBE],
  },
  'ec2:DescribeLaunchTemplateVersions': {
    service: 'ec2',
    action: 'DescribeLaunchTemplateVersions',
    scope: 'read',
    commands: ['refresh'],
  },
  'ec2:CreateLaunchTemplateVersion': {
    service: 'ec2',
    action: 'CreateLaunchTemplateVersion',
    scope: 'tagged',
    commands: ['refresh'],
  },
  'ec2:DeleteLaunchTemplate': {
    service: 'ec2',
    action: 'DeleteLaunchTemplate',
    scope: 'tagged',
    commands: CLEANUP,
  },
  'autoscaling:CreateAutoScalingGroup': {
    service: 'autoscaling',
    action: 'CreateAutoScalingGroup',
    scope: 'create',
    commands: ['launch'],
    // Auto Scaling checks that the caller may launch (and tag, and pass the role of) the template.
    needs: ['tag-on-create', 'pass-role', 'autoscaling-service-role'],
  },
  'autoscaling:PutScheduledUpdateGroupAction': {
    service: 'autoscaling',
    action: 'PutScheduledUpdateGroupAction',
    scope: 'tagged',
    commands: ['launch'],
  },
  'autoscaling:DescribeAutoScalingGroups': {
    service: 'autoscaling',
    action: 'DescribeAutoScalingGroups',
    scope: 'read',
    commands: ['launch', ...INVENTORY, ...PROBE],
  },
  'autoscaling:DeleteAutoScalingGroup': {
    service: 'autoscaling',
    action: 'DeleteAutoScalingGroup',
    scope: 'tagged',
    commands: CLEANUP,
  },
  'autoscaling:StartInstanceRefresh': {
    service: 'autoscaling',
    action: 'StartInstanceRefresh',
    scope: 'tagged',
    commands: ['refresh'],
  },
} as const satisfies Record<string, AwsCallSpec>;

/** The name of a call in the table, e.g. "ec2:RunInstances". */
export type AwsCallName = keyof typeof AWS_CALLS;

/** The table as a list, in its order. */
export function listAwsCalls(): Array<AwsCallSpec & { name: AwsCallName }> {
  return (Object.keys(AWS_CALLS) as AwsCallName[]).map((name) => ({ name, ...AWS_CALLS[name] }));
}
