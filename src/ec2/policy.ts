// The least-privilege IAM policy for the launcher commands on AWS, derived from the call table
// (calls.ts): reads on "*", creations tagged at birth, and every change or deletion limited to
// resources that carry the gitstrap:deployment tag. Tagging after creation (EC2-compatible clouds
// without tag-on-create) is never granted here.
import { listAwsCalls, type AwsCommand, type CallScope } from './calls.js';
import { TAG } from './tags.js';

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

/** The statement of each scope; a scope without one is not granted on AWS. */
const SCOPE_STATEMENTS: Partial<Record<CallScope, Omit<PolicyStatement, 'Action' | 'Effect'>>> = {
  read: { Sid: 'Describe', Resource: '*' },
  create: { Sid: 'CreateTaggedResources', Resource: '*' },
  tagged: {
    Sid: 'ChangeOnlyGitstrapResources',
    Resource: '*',
    Condition: { Null: { [`aws:ResourceTag/${TAG.deployment}`]: 'false' } },
  },
  'public-parameter': {
    Sid: 'ReadPublicImageParameters',
    Resource: 'arn:aws:ssm:*::parameter/aws/service/*',
  },
};

/** The policy document for the given commands (all of them by default). */
export function buildIamPolicy(commands?: readonly AwsCommand[]): PolicyDocument {
  const calls = listAwsCalls().filter(
    (c) => !commands || c.commands.some((name) => commands.includes(name)),
  );
  const statements: PolicyStatement[] = [];
  for (const [scope, statement] of Object.entries(SCOPE_STATEMENTS)) {
    const actions = calls.filter((c) => c.scope === scope).map((c) => c.name);
    if (actions.length) {
      const { Sid, Resource, Condition } = statement;
      statements.push({
        Sid,
        Effect: 'Allow',
        Action: sorted(actions),
        Resource,
        ...(Condition ? { Condition } : {}),
      });
    }
  }
  const needing = (need: string) => calls.filter((c) => c.needs?.some((n) => n === need));
  const tagging = needing('tag-on-create');
  if (tagging.length) {
    // Auto Scaling tags its instances through RunInstances on the caller's behalf.
    const createActions = tagging.map((c) => (c.service === 'ec2' ? c.action : 'RunInstances'));
    statements.push({
      Sid: 'TagOnlyWhileCreating',
      Effect: 'Allow',
      Action: ['ec2:CreateTags'],
      Resource: '*',
      Condition: { StringEquals: { 'ec2:CreateAction': sorted(createActions) } },
    });
  }
  if (needing('pass-role').length) {
    statements.push({
      Sid: 'PassInstanceProfileRoleToEc2',
      Effect: 'Allow',
      Action: ['iam:PassRole'],
      Resource: '*',
      Condition: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
    });
  }
  if (needing('autoscaling-service-role').length) {
    statements.push({
      Sid: 'CreateAutoScalingServiceRoleOnce',
      Effect: 'Allow',
      Action: ['iam:CreateServiceLinkedRole'],
      Resource:
        'arn:aws:iam::*:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling',
      Condition: { StringLike: { 'iam:AWSServiceName': 'autoscaling.amazonaws.com' } },
    });
  }
  return { Version: '2012-10-17', Statement: statements };
}

function sorted(values: string[]): string[] {
  return [...new Set(values)].sort();
}
