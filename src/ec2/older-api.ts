// EC2-compatible APIs older than AWS's: which of the newer parameters gitstrap sends they refuse, the
// same requests without them (pure), tags applied with CreateTags right after a create call, and the
// probe that learns what the API takes before anything is created: RunInstances with DryRun for an
// image that does not exist, so that nothing can start even where DryRun itself is not understood.
import type {
  AuthorizeSecurityGroupIngressCommandInput,
  CreateTagsCommandInput,
  RunInstancesCommandInput,
  _InstanceType,
} from '@aws-sdk/client-ec2';
import { GitstrapError } from '../lib/errors.js';
import type { Ec2Parameters } from './cloud.js';
import { unknownParameters } from './errors.js';
import type { FlowEnv } from './flow-env.js';
import { METADATA_OPTIONS } from './instance-requests.js';
import { terminateAndWait, whenVisible } from './resources.js';
import type { Tag } from './tags.js';

/** The newer parameters, as an API names them when it refuses them (wire names). */
export const NEWER_PARAMETERS = {
  tagOnCreate: /^TagSpecifications?(\.|$)/,
  metadataOptions: /^MetadataOptions(\.|$)/,
  dryRun: /^DryRun$/,
  ipv6Rules: /^IpPermissions\.\d+\.(Ipv6Ranges|IpRanges\.\d+\.Description)(\.|$)/,
} as const;

export type NewerParameter = keyof typeof NEWER_PARAMETERS;

/** An image id no cloud has: the probe's RunInstances can never start an instance. */
export const PROBE_IMAGE = 'ami-00000000000000000';

/** Which of the newer parameters a list of refused parameter paths names. */
export function namedParameters(paths: readonly string[]): NewerParameter[] {
  return (Object.keys(NEWER_PARAMETERS) as NewerParameter[]).filter((name) =>
    paths.some((p) => NEWER_PARAMETERS[name].test(p)),
  );
}

/** The request without its tag specifications (the tags then come with CreateTags). */
export function withoutTagSpecifications<T extends { TagSpecifications?: unknown }>(request: T): T {
  const { TagSpecifications: _dropped, ...rest } = request;
  return rest as T;
}

/** RunInstances without MetadataOptions: the instance's metadata then answers plain GETs. */
export function withoutMetadataOptions(
  request: RunInstancesCommandInput,
): RunInstancesCommandInput {
  const { MetadataOptions: _dropped, ...rest } = request;
  return rest;
}

/** An ingress rule with its IPv4 ranges only, without descriptions (what older APIs take). */
export function withoutIpv6Rules(
  request: AuthorizeSecurityGroupIngressCommandInput,
): AuthorizeSecurityGroupIngressCommandInput {
  return {
    ...request,
    IpPermissions: (request.IpPermissions ?? []).map(({ Ipv6Ranges: _v6, ...permission }) => ({
      ...permission,
      IpRanges: (permission.IpRanges ?? []).map(({ Description: _d, ...range }) => range),
    })),
  };
}

/** RunInstances as an API takes it, given what is known of the API. */
export function tailorRunInstances(
  request: RunInstancesCommandInput,
  params: Ec2Parameters,
): RunInstancesCommandInput {
  let tailored = request;
  if (params.tagOnCreate === false) tailored = withoutTagSpecifications(tailored);
  if (params.metadataOptions === false) tailored = withoutMetadataOptions(tailored);
  return tailored;
}

/** CreateTags for resources created without tags. */
export function buildCreateTagsRequest(
  resourceIds: readonly string[],
  tags: readonly Tag[],
): CreateTagsCommandInput {
  return { Resources: [...resourceIds], Tags: tags.map((t) => ({ Key: t.Key, Value: t.Value })) };
}

/** The probe: RunInstances with DryRun and every newer parameter, for an image no cloud has. */
export function buildProbeRequest(instanceType: string): RunInstancesCommandInput {
  return {
    DryRun: true,
    ImageId: PROBE_IMAGE,
    InstanceType: instanceType as _InstanceType,
    MinCount: 1,
    MaxCount: 1,
    MetadataOptions: { ...METADATA_OPTIONS },
    TagSpecifications: [
      { ResourceType: 'instance', Tags: [{ Key: 'gitstrap:probe', Value: 'dry-run' }] },
    ],
  };
}

/** The error of a launch that cannot require IMDSv2 and was not allowed to do without. */
export function imdsUnavailableError(): GitstrapError {
  return new GitstrapError(
    'this EC2 API does not take MetadataOptions, so the instance cannot be made to require IMDSv2 (a session token for its metadata)',
    {
      hint: 'to launch with the instance metadata answering plain GETs, add --allow-imdsv1 ("bootstrap doctor --endpoint-url URL" shows what this cloud takes)',
    },
  );
}

/** The warning of a launch that does without IMDSv2 (--allow-imdsv1 on an API without it). */
export const IMDS_WARNING =
  'IMDSv2 is not enforced: this EC2 API does not take MetadataOptions, so the instance metadata answers plain GETs (--allow-imdsv1)';

/**
 * Sends a request; when the API refuses parameters it does not know and `adapt` can do without
 * them, sends it again without them (a refused request created nothing). Returns the answer and the
 * request that got it.
 */
export async function sendAdapting<Request, Output>(
  request: Request,
  send: (request: Request) => Promise<Output>,
  adapt: (request: Request, refused: NewerParameter[]) => Request | undefined,
): Promise<{ output: Output; sent: Request }> {
  let current = request;
  for (let attempt = 1; ; attempt++) {
    try {
      return { output: await send(current), sent: current };
    } catch (error) {
      const refused = unknownParameters(error);
      const named = refused ? namedParameters(refused.paths) : [];
      const next = named.length && attempt < 4 ? adapt(current, named) : undefined;
      if (next === undefined) throw error;
      current = next;
    }
  }
}

/** What a launch says where the API has no tag-on-create. */
export const TAGGING_NOTE =
  'this EC2 API takes no tags on create: tagging with CreateTags right after each create';

/** Records that the API has no tag-on-create, saying once what the launch does instead. */
export function noTagOnCreate(env: Pick<FlowEnv, 'cloud' | 'progress'>): void {
  if (env.cloud.ec2.tagOnCreate === false) return;
  env.cloud.ec2.tagOnCreate = false;
  env.progress(TAGGING_NOTE);
}

/** Tags what was just created without tags (waiting out "not found" for something that new). */
export async function tagAfterCreate(
  env: FlowEnv,
  resourceIds: readonly string[],
  tags: readonly Tag[],
): Promise<void> {
  await whenVisible(env, `${resourceIds.join(', ')} to be visible for tagging`, () =>
    env.api.createTags(buildCreateTagsRequest(resourceIds, tags)),
  );
}

/**
 * Learns which newer parameters the EC2 API takes (env.cloud.ec2), before anything is created. An
 * answer that names no unknown parameter (DryRunOperation, an unknown image, ...) means the API
 * read them all. An API that lists every unknown parameter at once answers in one call; one that
 * names the first only is asked again without it; one without DryRun leaves the rest unknown.
 */
export async function probeEc2Parameters(env: FlowEnv, instanceType: string): Promise<void> {
  const params = env.cloud.ec2;
  let request = buildProbeRequest(instanceType);
  for (let attempt = 0; attempt < 4; attempt++) {
    let refusedError: unknown;
    try {
      const out = await env.api.runInstances(request);
      // An API that ignored DryRun and started something all the same: it ends now.
      const ids = (out.Instances ?? []).map((i) => i.InstanceId).filter((id): id is string => !!id);
      if (ids.length) await terminateAndWait(env, ids);
    } catch (error) {
      refusedError = error;
    }
    const refused = refusedError === undefined ? undefined : unknownParameters(refusedError);
    if (!refused) {
      params.tagOnCreate ??= true;
      params.metadataOptions ??= true;
      params.dryRun ??= true;
      return;
    }
    const named = namedParameters(refused.paths);
    for (const name of named) params[name] = false;
    if (refused.complete) {
      params.tagOnCreate ??= true;
      params.metadataOptions ??= true;
      params.dryRun ??= true;
      return;
    }
    // Named the first unknown one only: ask again without it, unless DryRun itself is unknown.
    if (!named.length || params.dryRun === false) return;
    if (params.tagOnCreate === false) request = withoutTagSpecifications(request);
    if (params.metadataOptions === false) request = withoutMetadataOptions(request);
  }
}
