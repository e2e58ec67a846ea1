// `bootstrap reap`: end every deployment in reach whose gitstrap:expires-at has passed, including
// what is left of one that already powered itself off (its security group, launch template). An
// expired fleet where Auto Scaling cannot be used is skipped (said, and the run fails) while every
// other one is ended.
import { endDeployment, fleetWithoutAutoScaling, type DownResult } from './down.js';
import type { FlowEnv } from './flow-env.js';
import { isExpired, takeInventory } from './inventory.js';

export interface ReapResult {
  /** Deployments found expired, in id order. */
  expired: string[];
  ended: DownResult[];
  /** Expired deployments that could not be ended here, and why. */
  skipped: Array<{ deployment: string; reason: string }>;
  /** With dryRun: nothing was removed. */
  dryRun: boolean;
}

/** Ends every expired deployment, trying them all even when one leaves something behind. */
export async function runReap(
  env: FlowEnv,
  options: { dryRun?: boolean } = {},
): Promise<ReapResult> {
  const now = env.now();
  const inventory = await takeInventory(env);
  const expired = [...inventory.values()]
    .filter((d) => isExpired(d, now))
    .sort((a, b) => a.deployment.localeCompare(b.deployment));
  const result: ReapResult = {
    expired: expired.map((d) => d.deployment),
    ended: [],
    skipped: [],
    dryRun: Boolean(options.dryRun),
  };
  if (options.dryRun) return result;
  for (const d of expired) {
    const blocked = fleetWithoutAutoScaling(env, d);
    if (blocked) {
      env.progress(`not ending ${d.deployment}: a fleet, and ${blocked}`);
      result.skipped.push({ deployment: d.deployment, reason: `a fleet, and ${blocked}` });
      continue;
    }
    env.progress(`ending ${d.deployment} (expired ${d.expiresAt!.toISOString()})`);
    result.ended.push(await endDeployment(env, d));
  }
  return result;
}
