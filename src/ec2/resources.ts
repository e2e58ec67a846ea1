// Finding and removing a deployment's resources: instances (terminated, then waited for), Auto
// Scaling groups, launch templates and security groups. Used by a failed launch's cleanup and by
// `down` and `reap`; removing something already gone counts as done.
import type { AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import type { Instance } from '@aws-sdk/client-ec2';
import type { CleanupEntry } from './cleanup.js';
import { awsCode, isNotFound } from './errors.js';
import {
  buildDeleteAutoScalingGroupRequest,
  buildDeleteLaunchTemplateRequest,
  buildDescribeAutoScalingGroupsRequest,
} from './fleet-requests.js';
import type { FlowEnv } from './flow-env.js';
import {
  buildDescribeDeploymentInstancesRequest,
  buildDescribeInstancesByClientTokenRequest,
  buildDescribeInstancesByIdRequest,
  buildTerminateInstancesRequest,
} from './instance-requests.js';
import {
  buildDeleteSecurityGroupRequest,
  buildDescribeSecurityGroupByNameRequest,
} from './network-requests.js';
import { TAG } from './tags.js';
import { pollUntil } from './wait.js';

const MAX_PAGES = 100;

/** An aws CLI line reaching the same region and endpoint as the flow. */
export function awsCli(env: Pick<FlowEnv, 'awsCliOptions'>, command: string, args: string): string {
  return ['aws', command, env.awsCliOptions, args].filter(Boolean).join(' ');
}

/** Every item a paginated describe request matches, over all pages (at most MAX_PAGES of them). */
export async function describeAllPages<
  Request extends { NextToken?: string },
  Page extends { NextToken?: string },
  Item,
>(
  request: Request,
  send: (request: Request) => Promise<Page>,
  itemsOf: (page: Page) => readonly Item[],
): Promise<Item[]> {
  const all: Item[] = [];
  let token: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const out = await send({ ...request, ...(token ? { NextToken: token } : {}) });
    all.push(...itemsOf(out));
    token = out.NextToken;
    if (!token) break;
  }
  return all;
}

/** Every instance a DescribeInstances request matches, over all pages. */
export function describeAllInstances(
  env: Pick<FlowEnv, 'api'>,
  request: ReturnType<typeof buildDescribeDeploymentInstancesRequest>,
): Promise<Instance[]> {
  return describeAllPages(
    request,
    (r) => env.api.describeInstances(r),
    (out) => (out.Reservations ?? []).flatMap((r) => r.Instances ?? []),
  );
}

/** Every Auto Scaling group a request matches, over all pages. */
export function describeAllGroups(
  env: Pick<FlowEnv, 'api'>,
  request: ReturnType<typeof buildDescribeAutoScalingGroupsRequest>,
): Promise<AutoScalingGroup[]> {
  return describeAllPages(
    request,
    (r) => env.api.describeAutoScalingGroups(r),
    (out) => out.AutoScalingGroups ?? [],
  );
}

/** Terminates instances and waits until every one is terminated. */
export async function terminateAndWait(
  env: FlowEnv,
  ids: readonly string[],
): Promise<'destroyed' | 'absent'> {
  if (!ids.length) return 'absent';
  // The ids come from RunInstances or DescribeInstances, so they exist: a NotFound answer is EC2's
  // eventual consistency (a new instance not visible yet), and the call is tried again.
  let requested = false;
  let seen = 'not visible yet';
  await pollUntil(
    env,
    async () => {
      try {
        if (!requested) {
          await env.api.terminateInstances(buildTerminateInstancesRequest(ids));
          requested = true;
        }
        const instances = await describeAllInstances(env, buildDescribeInstancesByIdRequest(ids));
        seen = instances.map((i) => `${i.InstanceId} ${i.State?.Name ?? '?'}`).join(', ');
        return instances.length === ids.length &&
          instances.every((i) => i.State?.Name === 'terminated')
          ? true
          : undefined;
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    },
    {
      what: `${ids.join(', ')} to terminate`,
      timeoutMs: env.timing.terminateTimeoutMs,
      status: () => seen,
    },
  );
  return 'destroyed';
}

/** Runs `op` again while AWS answers NotFound for something just created (eventual consistency). */
export async function whenVisible<T>(env: FlowEnv, what: string, op: () => Promise<T>): Promise<T> {
  let last: unknown;
  const found = await pollUntil(
    env,
    async () => {
      try {
        return { value: await op() };
      } catch (error) {
        if (!isNotFound(error)) throw error;
        last = error;
        return undefined;
      }
    },
    {
      what,
      timeoutMs: env.timing.visibleTimeoutMs,
      signal: env.signal,
      status: () => (last instanceof Error ? last.message : undefined),
    },
  );
  return found.value;
}

/** Deletes an Auto Scaling group with its instances, and waits until it is gone. */
export async function deleteGroupAndWait(
  env: FlowEnv,
  name: string,
): Promise<'destroyed' | 'absent'> {
  try {
    await env.api.deleteAutoScalingGroup(buildDeleteAutoScalingGroupRequest(name));
  } catch (error) {
    if (isNotFound(error)) return 'absent';
    // A deletion already under way is fine: wait for it like for ours.
    if (awsCode(error) !== 'ScalingActivityInProgress' && awsCode(error) !== 'ResourceInUse')
      throw error;
  }
  await pollUntil(
    env,
    async () => {
      const groups = await describeAllGroups(env, buildDescribeAutoScalingGroupsRequest({ name }));
      return groups.length === 0 ? true : undefined;
    },
    {
      what: `Auto Scaling group ${name} and its instances to go away`,
      timeoutMs: env.timing.terminateTimeoutMs,
    },
  );
  return 'destroyed';
}

/** Deletes a launch template by name. */
export async function deleteTemplate(env: FlowEnv, name: string): Promise<'destroyed' | 'absent'> {
  try {
    await env.api.deleteLaunchTemplate(buildDeleteLaunchTemplateRequest(name));
    return 'destroyed';
  } catch (error) {
    if (isNotFound(error)) return 'absent';
    throw error;
  }
}

/** Deletes a security group, retrying while terminated instances still hold it. */
export async function deleteGroupWhenFree(
  env: FlowEnv,
  groupId: string,
): Promise<'destroyed' | 'absent'> {
  let last = '';
  return pollUntil(
    env,
    async () => {
      try {
        await env.api.deleteSecurityGroup(buildDeleteSecurityGroupRequest(groupId));
        return 'destroyed' as const;
      } catch (error) {
        if (isNotFound(error)) return 'absent' as const;
        if (awsCode(error) !== 'DependencyViolation') throw error;
        last = 'still in use';
        return undefined;
      }
    },
    {
      what: `security group ${groupId} to be free`,
      timeoutMs: env.timing.dependencyTimeoutMs,
      status: () => last,
    },
  );
}

/**
 * The cleanup entry of a deployment's instances: those known by id and any found by its tag, or,
 * where the API has no tag-on-create (they may be untagged), by the launch's client token.
 */
export function instancesEntry(
  env: FlowEnv,
  deployment: string,
  knownIds: () => readonly string[],
): CleanupEntry {
  let ids: string[] = [];
  return {
    get what() {
      const list = ids.length ? ids : knownIds();
      return list.length ? `instance${list.length > 1 ? 's' : ''} ${list.join(', ')}` : 'instances';
    },
    undo: async () => {
      const found = await describeAllInstances(
        env,
        env.cloud.ec2.tagOnCreate === false
          ? buildDescribeInstancesByClientTokenRequest(deployment)
          : buildDescribeDeploymentInstancesRequest(deployment),
      );
      ids = [...new Set([...knownIds(), ...found.map((i) => i.InstanceId!).filter(Boolean)])];
      return terminateAndWait(env, ids);
    },
    manual: () => {
      const list = ids.length ? ids : [...knownIds()];
      return list.length
        ? [awsCli(env, 'ec2 terminate-instances', `--instance-ids ${list.join(' ')}`)]
        : [
            awsCli(
              env,
              'ec2 describe-instances',
              `--filters Name=tag:${TAG.deployment},Values=${deployment} --query "Reservations[].Instances[].InstanceId"`,
            ),
            awsCli(env, 'ec2 terminate-instances', '--instance-ids ID...'),
          ];
    },
  };
}

/** The cleanup entry of an Auto Scaling group. */
export function groupEntry(env: FlowEnv, name: string): CleanupEntry {
  return {
    what: `Auto Scaling group ${name}`,
    undo: () => deleteGroupAndWait(env, name),
    manual: () => [
      awsCli(
        env,
        'autoscaling delete-auto-scaling-group',
        `--auto-scaling-group-name ${name} --force-delete`,
      ),
    ],
  };
}

/** The cleanup entry of a launch template. */
export function templateEntry(env: FlowEnv, name: string): CleanupEntry {
  return {
    what: `launch template ${name}`,
    undo: () => deleteTemplate(env, name),
    manual: () => [awsCli(env, 'ec2 delete-launch-template', `--launch-template-name ${name}`)],
  };
}

/** The cleanup entry of a security group. */
export function securityGroupEntry(env: FlowEnv, groupId: string, name?: string): CleanupEntry {
  return {
    what: `security group ${groupId}${name ? ` (${name})` : ''}`,
    undo: () => deleteGroupWhenFree(env, groupId),
    manual: () => [awsCli(env, 'ec2 delete-security-group', `--group-id ${groupId}`)],
  };
}

/**
 * The cleanup entry of the security group a launch is creating: by id once known, else by its name
 * (unique to the deployment, and there even where the API has no tag-on-create).
 */
export function newSecurityGroupEntry(
  env: FlowEnv,
  name: string,
  knownId: () => string | undefined,
): CleanupEntry {
  let id: string | undefined;
  return {
    get what() {
      const shown = id ?? knownId();
      return shown ? `security group ${shown}` : 'security group';
    },
    undo: async () => {
      id = knownId();
      if (id === undefined) {
        const out = await env.api.describeSecurityGroups(
          buildDescribeSecurityGroupByNameRequest(name),
        );
        id = out.SecurityGroups?.find((g) => g.GroupId)?.GroupId;
      }
      return id === undefined ? 'absent' : deleteGroupWhenFree(env, id);
    },
    manual: () => [
      (id ?? knownId())
        ? awsCli(env, 'ec2 delete-security-group', `--group-id ${id ?? knownId()}`)
        : awsCli(env, 'ec2 describe-security-groups', `--filters Name=group-name,Values=${name}`),
    ],
  };
}
