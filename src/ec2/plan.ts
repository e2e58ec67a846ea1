// Planning a launch: the recipe's `launch` defaults and the command-line flags become one plan, a
// plain object the request builders read. Pure: the clock and the random source come in.
import { UsageError } from '../lib/errors.js';
import { parseDuration } from '../lib/duration.js';
import { suggest } from '../lib/suggest.js';
import type { Recipe } from '../recipe/schema.js';
import { isImageId, isOsFamily, OS_FAMILIES, type ImageSource } from './images.js';
import { deploymentTags, newDeploymentId, type Tag } from './tags.js';

/** The path of the agent's own health check on every instance. */
export const HEALTH_PATH = '/_gitstrap/healthz';

/** How long after a fleet's scheduled scale-to-zero its instances power themselves off (a backstop). */
export const FLEET_SHUTDOWN_GRACE_MS = 15 * 60_000;

/** The most instances one launch starts. */
export const MAX_COUNT = 50;

/** The launch flags as given on the command line (undefined: take the recipe's default). */
export interface LaunchFlags {
  region?: string;
  instanceType?: string;
  image?: string;
  os?: string;
  keyName?: string;
  subnet?: string;
  instanceProfile?: string;
  ttl?: string;
  count?: string;
  fleet?: boolean;
  openPort?: boolean;
}

/** Everything a launch will create, decided before any call is made. */
export interface LaunchPlan {
  deployment: string;
  recipe: string;
  region?: string;
  image: ImageSource;
  instanceType: string;
  keyName?: string;
  subnet?: string;
  instanceProfile?: string;
  volumeSize?: number;
  count: number;
  fleet: boolean;
  /** The service port (serve.port): opened by the security group, probed for health. */
  port: number;
  openPort: boolean;
  /** The ttl as written (flag or recipe), when the deployment expires. */
  ttl?: string;
  ttlMs?: number;
  expiresAt?: Date;
  /** The expiry written into the user-data (later than expiresAt for fleets: a backstop). */
  userDataExpiresAt?: Date;
  tags: Tag[];
  names: { securityGroup: string; launchTemplate: string; autoScalingGroup: string };
}

/** Combines the recipe and the flags into a launch plan; throws UsageError on a bad flag. */
export function planLaunch(
  recipe: Recipe,
  flags: LaunchFlags,
  env: { now: Date; random: () => number },
): LaunchPlan {
  const defaults = recipe.launch;
  const image = chooseImage(flags, defaults);
  const count = parseCount(flags.count);
  const ttlText = flags.ttl ?? recipe.ttl;
  let ttlMs: number | undefined;
  if (ttlText !== undefined && ttlText !== 'none') {
    ttlMs = parseDuration(ttlText);
    if (ttlMs === undefined || ttlMs < 60_000) {
      throw new UsageError(
        `--ttl ${ttlText}: expected a duration of at least 1m, such as 90m, 12h or 30d`,
        'or --ttl none for a deployment that does not expire',
      );
    }
  }
  const deployment = newDeploymentId(recipe.name, env.now, env.random);
  // Whole seconds: the tags and the instance's timer (which counts in seconds) name the same instant.
  const expiresAt =
    ttlMs === undefined
      ? undefined
      : new Date(Math.ceil((env.now.getTime() + ttlMs) / 1000) * 1000);
  const fleet = flags.fleet ?? false;
  const plan: LaunchPlan = {
    deployment,
    recipe: recipe.name,
    image,
    instanceType: flags.instanceType ?? defaults.instance_type,
    count,
    fleet,
    port: recipe.serve.port,
    openPort: flags.openPort ?? defaults.open_port,
    tags: deploymentTags({
      deployment,
      recipe: recipe.name,
      ...(expiresAt ? { expiresAt } : {}),
      ...('os' in image ? { os: image.os } : {}),
    }),
    names: {
      securityGroup: `gitstrap-${deployment}`,
      launchTemplate: `gitstrap-${deployment}`,
      autoScalingGroup: `gitstrap-${deployment}`,
    },
  };
  const region = flags.region ?? defaults.region;
  if (region !== undefined) plan.region = region;
  const keyName = flags.keyName ?? defaults.key_name;
  if (keyName !== undefined) plan.keyName = keyName;
  const subnet = flags.subnet ?? defaults.subnet;
  if (subnet !== undefined) plan.subnet = subnet;
  const profile = flags.instanceProfile ?? defaults.instance_profile;
  if (profile !== undefined) plan.instanceProfile = profile;
  if (defaults.volume_size !== undefined) plan.volumeSize = defaults.volume_size;
  if (ttlMs !== undefined && expiresAt) {
    plan.ttl = ttlText!;
    plan.ttlMs = ttlMs;
    plan.expiresAt = expiresAt;
    plan.userDataExpiresAt = fleet
      ? new Date(expiresAt.getTime() + FLEET_SHUTDOWN_GRACE_MS)
      : expiresAt;
  }
  return plan;
}

function chooseImage(flags: LaunchFlags, defaults: Recipe['launch']): ImageSource {
  if (flags.image !== undefined && flags.os !== undefined) {
    throw new UsageError('--image and --os both given', 'pass one: an AMI id, or an OS family');
  }
  if (flags.image !== undefined) {
    if (!isImageId(flags.image)) {
      throw new UsageError(
        `--image ${flags.image}: expected an image id such as ami-0123456789abcdef0 (emi-... on Eucalyptus)`,
        `or --os ${OS_FAMILIES.join('|')} for the current image of an OS family`,
      );
    }
    return { ami: flags.image };
  }
  if (flags.os !== undefined) {
    if (!isOsFamily(flags.os)) {
      const close = suggest(flags.os, OS_FAMILIES);
      throw new UsageError(
        `--os ${flags.os}: expected one of ${OS_FAMILIES.join(', ')}`,
        close ? `did you mean --os ${close}?` : 'or --image AMI for any other image',
      );
    }
    return { os: flags.os };
  }
  return defaults.image !== undefined ? { ami: defaults.image } : { os: defaults.os };
}

function parseCount(text: string | undefined): number {
  if (text === undefined) return 1;
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_COUNT) {
    throw new UsageError(
      `--count ${text}: expected a whole number from 1 to ${MAX_COUNT}`,
      'e.g. --count 3',
    );
  }
  return n;
}

/** The recipe as the instance gets it: its ttl is the plan's (a --ttl flag wins; "none" drops it). */
export function recipeForPlan(recipe: Recipe, plan: LaunchPlan): Recipe {
  const { ttl: _ttl, ...rest } = recipe;
  return plan.ttl === undefined ? rest : { ...rest, ttl: plan.ttl };
}
