// Where gitstrap puts things on an instance (docs/architecture.md, "the on-disk contract"): the one
// place these paths are written. The first-boot script and the systemd units are rendered with them,
// and the agent, the recipe search, the installer and the CLI's defaults import them, so they cannot
// disagree. (In lib, since the recipe layer needs the recipes folder.)

/** Absolute paths on the instance. Plain characters only: they also go into systemd units. */
export const INSTANCE_PATHS = {
  /** The resolved recipes, NAME.yaml. */
  recipesDir: '/etc/gitstrap/recipes',
  /** The gitstrap user's home; the agents' state roots are NAME/ under it. */
  stateDir: '/var/lib/gitstrap',
  /** First boot's result: {"result":"success"|"failure", ...}. */
  result: '/var/lib/gitstrap/bootstrap-result.json',
  /** The deployment's end (ISO 8601), when it has a ttl. */
  expiresAt: '/var/lib/gitstrap/expires-at',
  /** The first-boot script (kept, so a person can run it again). */
  firstBoot: '/usr/local/lib/gitstrap/first-boot.sh',
  /** Installer mode: what the installed system runs once at first boot (the script, its arguments). */
  kickstartFirstBoot: '/usr/local/lib/gitstrap/kickstart-first-boot.sh',
  /** What runs the agent, whatever the source. */
  bin: '/usr/local/bin/bootstrap',
  /** The self-contained agent bundle (agent.source {url, sha256}). */
  agentBundle: '/opt/gitstrap/gitstrap-agent.cjs',
  /** Official Node.js builds (agent.node: official). */
  nodeRoot: '/usr/local/lib/nodejs',
  unitDir: '/etc/systemd/system',
  /** The agent's template unit; instance = recipe name. */
  agentUnit: '/etc/systemd/system/gitstrap@.service',
  expireService: '/etc/systemd/system/gitstrap-expire.service',
  /** The expiry timer, OnCalendar= the deployment's end (written at first boot). */
  expireTimer: '/etc/systemd/system/gitstrap-expire.timer',
} as const;

export type InstancePaths = typeof INSTANCE_PATHS;

/** In an agent's state root: why it failed to start, until it serves (src/agent/start-failure.ts). */
export const START_FAILURE_FILE = 'start-failure.json';

/** The instance path of a recipe. */
export function recipePath(name: string): string {
  return `${INSTANCE_PATHS.recipesDir}/${name}.yaml`;
}

/** An agent's state root when --root is not given: /var/lib/gitstrap/NAME. */
export function defaultStateRoot(recipeName: string): string {
  return `${INSTANCE_PATHS.stateDir}/${recipeName}`;
}
