// Ending a deployment: find everything tagged with its id, then remove it in dependency order
// (Auto Scaling groups, instances, launch templates, security groups), waiting where AWS needs it.
// A fleet is not touched where Auto Scaling cannot be used: its group would start new instances.
import { ExitCode, GitstrapError } from '../lib/errors.js';
import { suggest } from '../lib/suggest.js';
import { CleanupStack, describeCleanup, type CleanupReport } from './cleanup.js';
import { SERVICES } from './cloud.js';
import type { FlowEnv } from './flow-env.js';
import { isFleet, takeInventory, type DeploymentResources } from './inventory.js';
import { groupEntry, securityGroupEntry, templateEntry } from './resources.js';
import { awsCli, terminateAndWait } from './resources.js';

export interface DownResult {
  deployment: string;
  recipe: string;
  destroyed: string[];
  left: CleanupReport['left'];
}

/** The cleanup stack that removes a deployment: unwound groups first, security groups last. */
export function stackForDeployment(env: FlowEnv, d: DeploymentResources): CleanupStack {
  const stack = new CleanupStack();
  for (const sg of d.securityGroups) stack.push(securityGroupEntry(env, sg.id, sg.name));
  for (const t of d.templates) stack.push(templateEntry(env, t.name));
  const ids = d.instances.map((i) => i.InstanceId).filter((id): id is string => Boolean(id));
  if (ids.length) {
    stack.push({
      what: `instance${ids.length > 1 ? 's' : ''} ${ids.join(', ')}`,
      undo: () => terminateAndWait(env, ids),
      manual: () => [awsCli(env, 'ec2 terminate-instances', `--instance-ids ${ids.join(' ')}`)],
    });
  }
  for (const g of d.groups)
    if (g.AutoScalingGroupName) stack.push(groupEntry(env, g.AutoScalingGroupName));
  return stack;
}

/** Removes everything of a deployment that the inventory found; reports what happened. */
export async function endDeployment(env: FlowEnv, d: DeploymentResources): Promise<DownResult> {
  const report = await stackForDeployment(env, d).unwind(env.progress);
  return { deployment: d.deployment, recipe: d.recipe, ...report };
}

/** `bootstrap down DEPLOYMENT`: finds it and ends it; throws when there is no such deployment. */
export async function runDown(env: FlowEnv, deployment: string): Promise<DownResult> {
  const found = await requireDeployment(env, deployment);
  const blocked = fleetWithoutAutoScaling(env, found);
  if (blocked) {
    throw new GitstrapError(
      `${deployment} is a fleet, and ending it needs Auto Scaling: ${blocked}`,
      {
        hint: `nothing was removed; set ${SERVICES.autoscaling.variable} to the cloud's Auto Scaling endpoint and run "bootstrap down ${deployment}" again`,
      },
    );
  }
  env.progress(`ending ${deployment}`);
  return endDeployment(env, found);
}

/** Why a deployment cannot be ended here: a fleet where Auto Scaling cannot be used. */
export function fleetWithoutAutoScaling(
  env: Pick<FlowEnv, 'cloud'>,
  d: DeploymentResources,
): string | undefined {
  const reason = env.cloud.reason('autoscaling');
  return reason !== undefined && isFleet(d) ? reason : undefined;
}

/** The inventory of one deployment; throws, with a did-you-mean, when nothing of it exists. */
export async function requireDeployment(
  env: FlowEnv,
  deployment: string,
): Promise<DeploymentResources> {
  const found = (await takeInventory(env, deployment)).get(deployment);
  if (!found) {
    const known = [...(await takeInventory(env)).keys()];
    const close = suggest(deployment, known);
    throw new GitstrapError(`no deployment "${deployment}" in reach`, {
      hint: close
        ? `did you mean "${close}"?`
        : known.length
          ? `"bootstrap ls" lists the ${known.length} deployment${known.length === 1 ? '' : 's'} in this region`
          : 'there are no gitstrap deployments in this region (check --region)',
    });
  }
  return found;
}

/** The error for results that left something behind, with the commands that remove it. */
export function leftBehindError(results: readonly DownResult[]): GitstrapError | undefined {
  const failed = results.filter((r) => r.left.length);
  if (!failed.length) return undefined;
  return new GitstrapError(`could not end all of ${failed.map((f) => f.deployment).join(', ')}`, {
    exitCode: ExitCode.failed,
    details: failed.flatMap((f) => [
      ...(failed.length > 1 ? [`${f.deployment}:`] : []),
      ...describeCleanup(f, f.deployment),
    ]),
  });
}
