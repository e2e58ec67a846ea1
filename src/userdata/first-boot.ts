// What the first-boot script is told: its arguments, planned from the recipe. Values travel as
// argv items (runcmd in argv form, or single-quoted in the MIME launcher part), never as script text.
import { durationMs } from '../lib/duration.js';
import { GitstrapError } from '../lib/errors.js';
import type { Recipe } from '../recipe/schema.js';

/** How long first boot waits for the agent's health endpoint by default (seconds). */
export const DEFAULT_HEALTH_TIMEOUT_SECONDS = 600;

/** The address first boot asks for the agent's health by default. */
export const DEFAULT_HEALTH_HOST = '127.0.0.1';

/** When the deployment ends: a fixed instant, or a lifetime counted from first boot. */
export type ExpiryPlan = { expiresAt: number } | { ttlSeconds: number } | undefined;

/** The expiry first boot schedules: options.expiresAt wins over the recipe's ttl. */
export function planExpiry(recipe: Recipe, expiresAt?: Date): ExpiryPlan {
  if (expiresAt !== undefined) {
    const ms = expiresAt.getTime();
    if (!Number.isFinite(ms) || ms < 0) {
      throw new GitstrapError('the expiry given for the user-data is not a valid time');
    }
    return { expiresAt: Math.floor(ms / 1000) };
  }
  if (recipe.ttl === undefined) return undefined;
  return { ttlSeconds: Math.ceil(durationMs(recipe.ttl) / 1000) };
}

/** The address first boot asks for /_gitstrap/healthz: loopback when the agent listens on all. */
export function healthHost(host: string): string {
  return ['', '0.0.0.0', '::', '[::]'].includes(host) ? DEFAULT_HEALTH_HOST : host;
}

/** The agent source as first-boot arguments; the default is this gitstrap version from npm
 * (from agent.registry when the recipe names one). */
export function agentArgs(agent: Recipe['agent'], version: string): string[] {
  const source = agent.source;
  const registry = agent.registry !== undefined ? ['--agent-registry', agent.registry] : [];
  if (source === undefined)
    return ['--agent', 'npm', '--agent-spec', `gitstrap@${version}`, ...registry];
  if (source === 'image') return ['--agent', 'image'];
  if (typeof source === 'string')
    return ['--agent', 'npm', '--agent-spec', source.slice('npm:'.length), ...registry];
  return ['--agent', 'url', '--agent-url', source.url, '--agent-sha256', source.sha256];
}

/** The first-boot script's arguments (after the script path): its own, then "--", then those it
 * passes on to `bootstrap first-boot` once the agent is installed. Pure. */
export function planFirstBootArgs(
  recipe: Recipe,
  options: { version: string; expiry: ExpiryPlan; healthTimeoutSeconds?: number },
): string[] {
  const args = ['--name', recipe.name];
  // The distribution's Node.js is the script's default.
  if (recipe.agent.node === 'official') {
    args.push('--node', 'official', '--node-version', recipe.agent.node_version);
  }
  args.push(...agentArgs(recipe.agent, options.version));
  if (options.expiry && 'expiresAt' in options.expiry) {
    args.push('--expires-at', String(options.expiry.expiresAt));
  } else if (options.expiry) {
    args.push('--ttl-seconds', String(options.expiry.ttlSeconds));
  }
  // bootstrap first-boot's defaults (loopback, 600 s) go without saying: fewer bytes of EC2's 16 KB.
  args.push('--', '--port', String(recipe.serve.port));
  const host = healthHost(recipe.serve.host);
  if (host !== DEFAULT_HEALTH_HOST) args.push('--health-host', host);
  const timeout = options.healthTimeoutSeconds ?? DEFAULT_HEALTH_TIMEOUT_SECONDS;
  if (timeout !== DEFAULT_HEALTH_TIMEOUT_SECONDS) args.push('--health-timeout', String(timeout));
  // The agent's unit runs `bootstrap packages` as root first only when the recipe has packages steps.
  if (recipe.service.install.some((step) => step.packages !== undefined)) args.push('--packages');
  return args;
}
