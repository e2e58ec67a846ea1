// The tags that make a deployment findable: every resource a launch creates carries them, and
// `ls`, `down`, `reap` and `refresh` find deployments by them and nothing else.

/** Tag keys gitstrap writes. */
export const TAG = {
  recipe: 'gitstrap:recipe',
  deployment: 'gitstrap:deployment',
  expiresAt: 'gitstrap:expires-at',
  os: 'gitstrap:os',
  name: 'Name',
} as const;

/** A tag as the EC2 and Auto Scaling APIs carry it. */
export interface Tag {
  Key: string;
  Value: string;
}

/** What a deployment's tags say about it. */
export interface DeploymentTags {
  deployment: string;
  recipe: string;
  expiresAt?: Date;
  os?: string;
}

const DEPLOYMENT_ID = /^[a-z][a-z0-9-]{0,38}[a-z0-9]-\d{8}-[0-9a-f]{4}$/;

/** A new deployment id: RECIPE-YYYYMMDD-XXXX (UTC date, four random hex digits). */
export function newDeploymentId(recipe: string, now: Date, random: () => number): string {
  const date = now.toISOString().slice(0, 10).replace(/-/g, '');
  const suffix = Math.floor(random() * 0x10000)
    .toString(16)
    .padStart(4, '0');
  return `${recipe}-${date}-${suffix}`;
}

/** Whether a string has the shape of a deployment id. */
export function isDeploymentId(text: string): boolean {
  return DEPLOYMENT_ID.test(text);
}

/** The tags every resource of a deployment carries, in a stable order. */
export function deploymentTags(d: DeploymentTags): Tag[] {
  const tags: Tag[] = [
    { Key: TAG.name, Value: d.deployment },
    { Key: TAG.recipe, Value: d.recipe },
    { Key: TAG.deployment, Value: d.deployment },
  ];
  if (d.expiresAt) tags.push({ Key: TAG.expiresAt, Value: d.expiresAt.toISOString() });
  if (d.os) tags.push({ Key: TAG.os, Value: d.os });
  return tags;
}

/** Reads gitstrap's tags from an API tag list; undefined when it is not a gitstrap resource. */
export function readDeploymentTags(
  tags: ReadonlyArray<{ Key?: string | undefined; Value?: string | undefined }> | undefined,
): DeploymentTags | undefined {
  const map = new Map<string, string>();
  for (const t of tags ?? []) if (t.Key !== undefined) map.set(t.Key, t.Value ?? '');
  const deployment = map.get(TAG.deployment);
  if (!deployment) return undefined;
  const result: DeploymentTags = { deployment, recipe: map.get(TAG.recipe) ?? '' };
  const expires = map.get(TAG.expiresAt);
  if (expires) {
    const at = new Date(expires);
    if (!Number.isNaN(at.getTime())) result.expiresAt = at;
  }
  const os = map.get(TAG.os);
  if (os) result.os = os;
  return result;
}
