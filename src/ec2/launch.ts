// The launch flow: resolve the image, learn what an EC2-compatible API takes, create the security
// group, start the instance(s) or the fleet, wait for running and for the health URL. Every resource
// is recorded on the cleanup stack as it is created; any failure or Ctrl-C destroys them all, newest
// first. What is not destroyed yet can be told at any moment (LaunchResources), so a second Ctrl-C
// that stops the cleanup still says what is left and how to remove it. Where the API has no
// tag-on-create, each create is followed by CreateTags (a step whose failure is cleaned up too).
import type { Instance, RunInstancesCommandInput } from '@aws-sdk/client-ec2';
import { formatDuration } from '../lib/duration.js';
import { ExitCode, GitstrapError } from '../lib/errors.js';
import {
  cleanupError,
  CleanupStack,
  describeCleanup,
  type CleanupEntry,
  type CleanupReport,
} from './cleanup.js';
import { requireService, SERVICES, withService } from './cloud.js';
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
  IMDS_WARNING,
  imdsUnavailableError,
  noTagOnCreate,
  probeEc2Parameters,
  sendAdapting,
  tagAfterCreate,
  tailorRunInstances,
  TAGGING_NOTE,
  type NewerParameter,
  withoutIpv6Rules,
  withoutMetadataOptions,
  withoutTagSpecifications,
} from './older-api.js';
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
  /** What the person should know about the deployment (e.g. IMDSv2 not enforced). */
  warnings?: string[];
}

export interface LaunchOptions {
  /** Return once everything is created, without waiting for running and healthy. */
  noWait?: boolean;
  /** Records what the launch creates and destroys (the caller may read it at any moment). */
  resources?: LaunchResources;
  /**
   * Launch even where the EC2 API cannot require IMDSv2 (it has no MetadataOptions), with a warning;
   * without it such a launch stops before creating anything. Where the API takes it, it is required.
   */
  allowImdsV1?: boolean;
}

/**
 * What a launch has created and not destroyed yet, readable at any moment: when the process must
 * exit before the cleanup finished (a second Ctrl-C), `leftBehind()` says what is left and how to
 * remove it.
 */
export class LaunchResources {
  private readonly live = new Map<CleanupEntry, 'created' | 'removing'>();
  private readonly destroyed: string[] = [];

  constructor(readonly deployment: string) {}

  /** Wraps a cleanup entry so this record follows it from creation to removal. */
  track(entry: CleanupEntry): CleanupEntry {
    this.live.set(entry, 'created');
    return {
      get what() {
        return entry.what;
      },
      undo: async () => {
        this.live.set(entry, 'removing');
        const outcome = await entry.undo();
        this.live.delete(entry);
        if (outcome === 'destroyed') this.destroyed.push(entry.what);
        return outcome;
      },
      manual: () => entry.manual(),
    };
  }

  /** What is destroyed and what is left with the commands that remove it, as describeCleanup says. */
  leftBehind(): string[] {
    const report: CleanupReport = {
      destroyed: [...this.destroyed],
      left: [...this.live].reverse().map(([entry, state]) => ({
        what: entry.what,
        error: state === 'removing' ? 'its removal had started, not finished' : 'not removed',
        manual: entry.manual(),
      })),
    };
    return describeCleanup(report, this.deployment);
  }
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
  const resources = options.resources ?? new LaunchResources(plan.deployment);
  const record = { push: (entry: CleanupEntry) => stack.push(resources.track(entry)) };
  const started = env.now().getTime();
  try {
    return await launchSteps(env, plan, userData, options, record);
  } catch (error) {
    const interrupted = error instanceof InterruptedError || env.signal.aborted;
    env.progress(
      interrupted
        ? `interrupted: destroying what this launch created (Ctrl-C again stops and says what is left)`
        : `launch failed: destroying what this launch created`,
    );
    // The cleanup does not stop at Ctrl-C: it says so, and a second Ctrl-C leaves the rest.
    const onAbort = () =>
      env.progress(
        'interrupted: still destroying what this launch created; Ctrl-C again stops and says what is left',
      );
    if (!interrupted) env.signal.addEventListener('abort', onAbort, { once: true });
    let report: CleanupReport;
    try {
      report = await stack.unwind(env.progress);
    } finally {
      env.signal.removeEventListener('abort', onAbort);
    }
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
  stack: Pick<CleanupStack, 'push'>,
): Promise<LaunchResult> {
  if (plan.fleet) {
    requireService(
      env,
      'autoscaling',
      (reason) => `--fleet needs Auto Scaling: ${reason}`,
      `launch instances without --fleet (--count N), or set ${SERVICES.autoscaling.variable} to the cloud's Auto Scaling endpoint`,
    );
  }
  const inputs: InstanceInputs = { imageId: await resolveImage(env, plan), userData };
  checkInterrupted(env.signal);
  const warnings: string[] = [];
  const warn = (text: string) => {
    if (warnings.includes(text)) return;
    warnings.push(text);
    env.progress(`warning: ${text}`);
  };
  if (env.cloud.compatible && !plan.fleet) {
    await learnEc2Parameters(env, plan, options, warn);
    checkInterrupted(env.signal);
  }
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
  const done = () => {
    if (warnings.length) result.warnings = warnings;
    return result;
  };

  if (plan.openPort) {
    const known: { id?: string } = {};
    // Recorded before the call: a group created behind a lost answer is found by its name.
    stack.push(newSecurityGroupEntry(env, plan.names.securityGroup, () => known.id));
    const request = buildCreateSecurityGroupRequest(plan, network.vpcId);
    const { output: created, sent } = await sendAdapting(
      env.cloud.ec2.tagOnCreate === false ? withoutTagSpecifications(request) : request,
      (r) => env.api.createSecurityGroup(r),
      (r, refused) => {
        if (!refused.includes('tagOnCreate')) return undefined;
        noTagOnCreate(env);
        return withoutTagSpecifications(r);
      },
    );
    const groupId = created.GroupId;
    if (groupId) known.id = groupId;
    if (!groupId) throw new GitstrapError('CreateSecurityGroup returned no group id');
    result.securityGroupId = groupId;
    inputs.securityGroupId = groupId;
    if (!sent.TagSpecifications) await tagAfterCreate(env, [groupId], plan.tags);
    env.progress(`created security group ${groupId} (port ${plan.port} open)`);
    await whenVisible(env, `security group ${groupId} to be visible`, () =>
      openPort(env, plan, groupId),
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
    if (options.noWait) return done();
    ids = await waitForFleet(env, plan);
  } else {
    const known: string[] = [];
    // Recorded before the call: instances started behind a lost answer are found by their tag (or
    // their client token where they start untagged).
    stack.push(instancesEntry(env, plan.deployment, () => known));
    // Idempotent by its client token, so it can be sent again while a new group is not visible yet.
    const { output: run, sent } = await whenVisible(
      env,
      'the new security group to be usable',
      () =>
        sendAdapting(
          tailorRunInstances(buildRunInstancesRequest(plan, inputs), env.cloud.ec2),
          (r) => env.api.runInstances(r),
          (r, refused) => adaptRunInstances(env, r, refused, options, warn),
        ),
    );
    for (const i of run.Instances ?? []) if (i.InstanceId) known.push(i.InstanceId);
    if (!known.length) throw new GitstrapError('RunInstances returned no instances');
    ids = known;
    if (!sent.TagSpecifications) await tagAfterCreate(env, known, plan.tags);
    env.progress(`launched ${known.join(', ')} (deployment ${plan.deployment})`);
    if (options.noWait) {
      result.instances = known.map((id) => ({ id }));
      return done();
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
  return done();
}

/**
 * On an EC2-compatible cloud, learns before anything is created which newer parameters its API
 * takes, and stops here when it cannot require IMDSv2 and the launch may not do without.
 */
async function learnEc2Parameters(
  env: FlowEnv,
  plan: LaunchPlan,
  options: LaunchOptions,
  warn: (text: string) => void,
): Promise<void> {
  const params = env.cloud.ec2;
  if (params.tagOnCreate === undefined || params.metadataOptions === undefined) {
    await probeEc2Parameters(env, plan.instanceType);
  }
  if (params.tagOnCreate === false) env.progress(TAGGING_NOTE);
  if (params.metadataOptions === false) {
    if (!options.allowImdsV1) throw imdsUnavailableError();
    warn(IMDS_WARNING);
  }
}

/** RunInstances again without what the API refused; undefined when it cannot do without it. */
function adaptRunInstances(
  env: FlowEnv,
  request: RunInstancesCommandInput,
  refused: NewerParameter[],
  options: LaunchOptions,
  warn: (text: string) => void,
): RunInstancesCommandInput | undefined {
  let next: RunInstancesCommandInput | undefined;
  if (refused.includes('tagOnCreate') && request.TagSpecifications) {
    noTagOnCreate(env);
    next = withoutTagSpecifications(next ?? request);
  }
  if (refused.includes('metadataOptions') && request.MetadataOptions) {
    env.cloud.ec2.metadataOptions = false;
    if (!options.allowImdsV1) throw imdsUnavailableError();
    warn(IMDS_WARNING);
    next = withoutMetadataOptions(next ?? request);
  }
  return next;
}

/** Opens serve.port; where the API takes no IPv6 rules or rule descriptions, IPv4 only, bare. */
async function openPort(env: FlowEnv, plan: LaunchPlan, groupId: string): Promise<void> {
  const request = buildOpenPortRequest(plan, groupId);
  await sendAdapting(
    env.cloud.ec2.ipv6Rules === false ? withoutIpv6Rules(request) : request,
    (r) => env.api.authorizeSecurityGroupIngress(r),
    (r, refused) => {
      if (!refused.includes('ipv6Rules')) return undefined;
      env.cloud.ec2.ipv6Rules = false;
      env.progress(
        `this EC2 API takes no IPv6 rules or rule descriptions: port ${plan.port} is open to IPv4 only`,
      );
      return withoutIpv6Rules(r);
    },
  );
}

async function resolveImage(env: FlowEnv, plan: LaunchPlan): Promise<string> {
  if ('ami' in plan.image) return plan.image.ami;
  const os = plan.image.os;
  const request = buildGetImageParameterRequest(os);
  const imageRequired = (reason: string) =>
    new GitstrapError(
      `--image is required here: the ${os} image is looked up in SSM, and ${reason}`,
      {
        hint: `pass --image IMAGE-ID of an image on this cloud (aws ec2 describe-images ${env.awsCliOptions}), or set ${SERVICES.ssm.variable} to the cloud's SSM endpoint`,
      },
    );
  const unavailable = env.cloud.reason('ssm');
  if (unavailable !== undefined) throw imageRequired(unavailable);
  const out = await withService(
    env,
    'ssm',
    () => env.api.getParameter(request),
    () => undefined,
  );
  if (out === undefined) throw imageRequired(env.cloud.reason('ssm') ?? 'SSM is unavailable');
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
