// The launch flow: resolve the image, create the security group, start the instance(s) or the
// fleet, wait for running and for the health URL. Every resource is recorded on the cleanup stack as
// it is created; any failure or Ctrl-C destroys them all, newest first.
import type { Instance } from '@aws-sdk/client-ec2';
import { formatDuration } from '../lib/duration.js';
import { ExitCode, GitstrapError } from '../lib/errors.js';
import { cleanupError, CleanupStack } from './cleanup.js';
import { isNotFound } from './errors.js';
import {
  buildCreateAutoScalingGroupRequest,
  buildCreateLaunchTemplateRequest,
  buildDescribeAutoScalingGroupsRequest,
  buildExpireFleetRequest,
} from './fleet-requests.js';
import { checkInterrupted, InterruptedError, type FlowEnv } from './flow-env.js';
import { buildGetImageParameterRequest, isAmiId } from './images.js';
import {
  buildDescribeImageRequest,
  buildDescribeInstancesByIdRequest,
  buildRunInstancesRequest,
  USER_DATA_LIMIT,
  type InstanceInputs,
} from './instance-requests.js';
import {
  buildCreateSecurityGroupRequest,
  buildDescribeSubnetsRequest,
  buildOpenPortRequest,
} from './network-requests.js';
import { addressOf, healthUrl, serviceUrl } from './addresses.js';
import type { LaunchPlan } from './plan.js';
import {
  describeAllGroups,
  describeAllInstances,
  groupEntry,
  instancesEntry,
  newSecurityGroupEntry,
  templateEntry,
  whenVisible,
} from './resources.js';
import { pollUntil } from './wait.js';

/** One launched instance as the launch reports it. */
export interface LaunchedInstance {
  id: string;
  address?: string;
  url?: string;
}

export interface LaunchResult {
  deployment: string;
  recipe: string;
  imageId: string;
  instances: LaunchedInstance[];
  expiresAt?: string;
  securityGroupId?: string;
  autoScalingGroup?: string;
  launchTemplate?: string;
  /** False with --no-wait: the instances may not be running yet. */
  waited: boolean;
}

export interface LaunchOptions {
  /** Return once everything is created, without waiting for running and healthy. */
  noWait?: boolean;
}

/** Runs a launch plan; on any failure or interruption destroys what it created, then throws. */
export async function runLaunch(
  env: FlowEnv,
  plan: LaunchPlan,
  userData: Buffer,
  options: LaunchOptions = {},
): Promise<LaunchResult> {
  if (userData.length > USER_DATA_LIMIT) {
    throw new GitstrapError(
      `the user-data is ${userData.length} bytes; EC2 accepts at most ${USER_DATA_LIMIT}`,
      { hint: 'let it be gzipped, or move long install steps into a script in the service repo' },
    );
  }
  const stack = new CleanupStack();
  const started = env.now().getTime();
  try {
    return await launchSteps(env, plan, userData, options, stack);
  } catch (error) {
    const interrupted = error instanceof InterruptedError || env.signal.aborted;
    env.progress(
      interrupted
        ? `interrupted: destroying what this launch created`
        : `launch failed: destroying what this launch created`,
    );
    const report = await stack.unwind(env.progress);
    const reason = error instanceof Error ? error.message : String(error);
    throw cleanupError(
      interrupted
        ? `launch of ${plan.deployment} interrupted after ${formatDuration(env.now().getTime() - started)}`
        : `launch of ${plan.deployment} failed: ${reason}`,
      error,
      report,
      plan.deployment,
      interrupted
        ? ExitCode.interrupted
        : error instanceof GitstrapError
          ? error.exitCode
          : ExitCode.failed,
    );
  }
}

async function launchSteps(
  env: FlowEnv,
  plan: LaunchPlan,
  userData: Buffer,
  options: LaunchOptions,
  stack: CleanupStack,
): Promise<LaunchResult> {
  const inputs: InstanceInputs = { imageId: await resolveImage(env, plan), userData };
  checkInterrupted(env.signal);
  if (plan.volumeSize !== undefined) {
    const image = await env.api.describeImages(buildDescribeImageRequest(inputs.imageId));
    const root = image.Images?.[0]?.RootDeviceName;
    if (!root) throw new GitstrapError(`image ${inputs.imageId} has no root device name`);
    inputs.rootDeviceName = root;
  }
  const network = await lookUpNetwork(env, plan);
  checkInterrupted(env.signal);

  const result: LaunchResult = {
    deployment: plan.deployment,
    recipe: plan.recipe,
    imageId: inputs.imageId,
    instances: [],
    waited: !options.noWait,
    ...(plan.expiresAt ? { expiresAt: plan.expiresAt.toISOString() } : {}),
  };

  if (plan.openPort) {
    const known: { id?: string } = {};
    // Recorded before the call: a group created behind a lost answer is found by its tag.
    stack.push(newSecurityGroupEntry(env, plan.deployment, () => known.id));
    const created = await env.api.createSecurityGroup(
      buildCreateSecurityGroupRequest(plan, network.vpcId),
    );
    const groupId = created.GroupId;
    if (groupId) known.id = groupId;
    if (!groupId) throw new GitstrapError('CreateSecurityGroup returned no group id');
    result.securityGroupId = groupId;
    inputs.securityGroupId = groupId;
    env.progress(`created security group ${groupId} (port ${plan.port} open)`);
    await whenVisible(env, `security group ${groupId} to be visible`, () =>
      env.api.authorizeSecurityGroupIngress(buildOpenPortRequest(plan, groupId)),
    );
    checkInterrupted(env.signal);
  }

  let ids: string[];
  if (plan.fleet) {
    // Recorded before the call: deleted by name, so a lost answer leaves nothing behind.
    stack.push(templateEntry(env, plan.names.launchTemplate));
    await env.api.createLaunchTemplate(buildCreateLaunchTemplateRequest(plan, inputs));
    result.launchTemplate = plan.names.launchTemplate;
    env.progress(`created launch template ${plan.names.launchTemplate}`);
    checkInterrupted(env.signal);
    // Recorded before the call: a group created behind a lost answer is still found by name.
    stack.push(groupEntry(env, plan.names.autoScalingGroup));
    await env.api.createAutoScalingGroup(buildCreateAutoScalingGroupRequest(plan, network.subnets));
    result.autoScalingGroup = plan.names.autoScalingGroup;
    env.progress(
      `created Auto Scaling group ${plan.names.autoScalingGroup} of ${plan.count} (deployment ${plan.deployment})`,
    );
    const expire = buildExpireFleetRequest(plan);
    if (expire) {
      await env.api.putScheduledUpdateGroupAction(expire);
      env.progress(`scheduled the fleet to scale to zero at ${plan.expiresAt!.toISOString()}`);
    }
    if (options.noWait) return result;
    ids = await waitForFleet(env, plan);
  } else {
    const known: string[] = [];
    // Recorded before the call: instances started behind a lost answer are found by their tag.
    stack.push(instancesEntry(env, plan.deployment, () => known));
    // Idempotent by its client token, so it can be sent again while a new group is not visible yet.
    const run = await whenVisible(env, 'the new security group to be usable', () =>
      env.api.runInstances(buildRunInstancesRequest(plan, inputs)),
    );
    for (const i of run.Instances ?? []) if (i.InstanceId) known.push(i.InstanceId);
    if (!known.length) throw new GitstrapError('RunInstances returned no instances');
    ids = known;
    env.progress(`launched ${known.join(', ')} (deployment ${plan.deployment})`);
    if (options.noWait) {
      result.instances = known.map((id) => ({ id }));
      return result;
    }
  }
  checkInterrupted(env.signal);

  const running = await waitForRunning(env, ids);
  result.instances = running.map((i) => {
    const address = addressOf(i);
    return {
      id: i.InstanceId!,
      ...(address ? { address, url: serviceUrl(address, plan.port) } : {}),
    };
  });
  const missing = result.instances.filter((i) => !i.address).map((i) => i.id);
  if (missing.length) {
    throw new GitstrapError(`${missing.join(', ')} has no IP address to check`, {
      hint: 'use a subnet that assigns public addresses, or --no-wait',
    });
  }
  await waitForHealthy(env, plan, result.instances);
  return result;
}

async function resolveImage(env: FlowEnv, plan: LaunchPlan): Promise<string> {
  if ('ami' in plan.image) return plan.image.ami;
  const request = buildGetImageParameterRequest(plan.image.os);
  const out = await env.api.getParameter(request);
  const value = out.Parameter?.Value;
  if (!value || !isAmiId(value)) {
    throw new GitstrapError(
      `the public parameter ${request.Name} holds ${JSON.stringify(value ?? null)}, not an AMI id`,
      { hint: 'pass --image AMI' },
    );
  }
  env.progress(`image: ${plan.image.os} is ${value}`);
  return value;
}

async function lookUpNetwork(
  env: FlowEnv,
  plan: LaunchPlan,
): Promise<{ vpcId?: string; subnets: string[] }> {
  const needSubnets = plan.fleet && plan.subnet === undefined;
  const needVpc = plan.openPort && plan.subnet !== undefined;
  if (!needSubnets && !needVpc) return { subnets: plan.subnet ? [plan.subnet] : [] };
  const out = await env.api.describeSubnets(buildDescribeSubnetsRequest(plan.subnet));
  const subnets = (out.Subnets ?? []).filter((s) => s.SubnetId);
  if (!subnets.length) {
    throw new GitstrapError(
      plan.subnet ? `subnet ${plan.subnet} not found` : 'this region has no default subnets',
      { hint: 'pass --subnet SUBNET-ID of a subnet in the region' },
    );
  }
  const vpcId = subnets[0]!.VpcId;
  return { ...(vpcId ? { vpcId } : {}), subnets: subnets.map((s) => s.SubnetId!) };
}

async function waitForFleet(env: FlowEnv, plan: LaunchPlan): Promise<string[]> {
  const name = plan.names.autoScalingGroup;
  let seen = 'no instances yet';
  const ids = await pollUntil(
    env,
    async () => {
      const [group] = await describeAllGroups(env, buildDescribeAutoScalingGroupsRequest({ name }));
      const instances = group?.Instances ?? [];
      const inService = instances.filter((i) => i.LifecycleState === 'InService');
      seen = `${inService.length} of ${plan.count} in service`;
      return inService.length >= plan.count ? inService.map((i) => i.InstanceId!) : undefined;
    },
    {
      what: `Auto Scaling group ${name} to have ${plan.count} instances in service`,
      timeoutMs: env.timing.runningTimeoutMs,
      signal: env.signal,
      status: () => seen,
      hint:
        "see the group's activity: aws autoscaling describe-scaling-activities --auto-scaling-group-name " +
        name,
    },
  );
  env.progress(`fleet in service: ${ids.join(', ')}`);
  return ids;
}

async function waitForRunning(env: FlowEnv, ids: string[]): Promise<Instance[]> {
  const started = env.now().getTime();
  let seen = '';
  const instances = await pollUntil(
    env,
    async () => {
      let found: Instance[];
      try {
        found = await describeAllInstances(env, buildDescribeInstancesByIdRequest(ids));
      } catch (error) {
        // New instances can take a moment to be visible (EC2's eventual consistency).
        if (isNotFound(error)) return undefined;
        throw error;
      }
      const failed = found.find((i) =>
        ['shutting-down', 'terminated'].includes(i.State?.Name ?? ''),
      );
      if (failed) {
        throw new GitstrapError(
          `${failed.InstanceId} stopped before it ran: ${failed.StateReason?.Message ?? failed.State?.Name}`,
          { exitCode: ExitCode.failed },
        );
      }
      seen = found.map((i) => `${i.InstanceId} ${i.State?.Name ?? '?'}`).join(', ');
      const running = found.filter((i) => i.State?.Name === 'running');
      return running.length === ids.length ? running : undefined;
    },
    {
      what: `${ids.join(', ')} to run`,
      timeoutMs: env.timing.runningTimeoutMs,
      signal: env.signal,
      status: () => seen,
    },
  );
  const elapsed = formatDuration(env.now().getTime() - started);
  env.progress(
    `running (${elapsed}): ${instances.map((i) => `${i.InstanceId} at ${addressOf(i) ?? 'no address'}`).join(', ')}`,
  );
  return instances;
}

async function waitForHealthy(
  env: FlowEnv,
  plan: LaunchPlan,
  instances: LaunchedInstance[],
): Promise<void> {
  const started = env.now().getTime();
  const pending = new Map(instances.map((i) => [i.id, healthUrl(i.address!, plan.port)]));
  const last = new Map<string, string>();
  for (const url of pending.values())
    env.progress(`waiting for ${url} (first boot installs the service)`);
  await pollUntil(
    env,
    async () => {
      for (const [id, url] of [...pending]) {
        const answer = await probe(env, url);
        last.set(id, answer);
        if (/^2\d\d$/.test(answer)) {
          pending.delete(id);
          env.progress(`healthy (${formatDuration(env.now().getTime() - started)}): ${url}`);
        }
      }
      return pending.size === 0 ? true : undefined;
    },
    {
      what: `the service to answer on ${[...pending.values()].join(', ')}`,
      timeoutMs: env.timing.healthTimeoutMs,
      signal: env.signal,
      status: () =>
        [...pending.keys()].map((id) => `${id}: ${last.get(id) ?? 'no answer'}`).join(', '),
      hint: 'the first-boot log is in /var/log/cloud-init-output.log on the instance; --no-wait skips this wait',
    },
  );
}

async function probe(env: FlowEnv, url: string): Promise<string> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, env.timing.healthRequestMs);
  const onAbort = () => controller.abort();
  env.signal.addEventListener('abort', onAbort, { once: true });
  try {
    return String(await env.getStatus(url, controller.signal));
  } catch (error) {
    checkInterrupted(env.signal);
    const cause = (error as { cause?: { code?: string } }).cause;
    return timedOut ? 'timed out' : (cause?.code ?? (error as Error).message);
  } finally {
    clearTimeout(timer);
    env.signal.removeEventListener('abort', onAbort);
  }
}
