// The agent's own runtime settings: its systemd unit (src/userdata/agent-unit.ts) sets them,
// and `npm run bench:memory` measures the agent with and without them. A small V8 young generation
// and two glibc malloc arenas keep its peak RSS under load near its idle RSS (issue 15: <= 80 MB).
// They are the agent's alone: its install steps, its service and git get an environment without
// them (withoutAgentRuntimeEnv), unless the recipe sets the same variable itself.

/** The variables the agent's unit sets for the agent's own Node.js process. */
export const AGENT_RUNTIME_ENV = {
  // V8's semi-space (young generation) at 1 MB instead of up to 16 MB: ~12 MB less at peak.
  NODE_OPTIONS: '--max-semi-space-size=1',
  // glibc makes a malloc arena per thread (libuv's pool): two are plenty for the agent.
  MALLOC_ARENA_MAX: '2',
} as const;

/**
 * V8 settings the agent applies to itself when it starts (`bootstrap run`): flags NODE_OPTIONS does
 * not accept. --optimize-for-size makes V8 grow the old generation in smaller steps, so a burst of
 * requests (objects promoted by the small young generation) does not leave 20 MB more heap behind
 * before the next full GC (bench:memory: Node 20 peaked at 101-105 MB in some runs without it, 79-80 MB
 * with it; no loss of requests served in side-by-side runs). It changes GC heuristics only, which
 * V8 reads at each GC, so setting it after start-up takes effect.
 */
export const AGENT_V8_FLAGS = ['--optimize-for-size'] as const;

/** Applies AGENT_V8_FLAGS to this process (the agent, and the bench's agent server). */
export function applyAgentV8Flags(setFlags: (flags: string) => void): void {
  for (const flag of AGENT_V8_FLAGS) setFlags(flag);
}

/** The unit's Environment= value: `NODE_OPTIONS=... MALLOC_ARENA_MAX=...`. */
export function agentRuntimeEnvLine(): string {
  return Object.entries(AGENT_RUNTIME_ENV)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

/** `env` without the agent's own runtime settings (a variable with another value is the user's). */
export function withoutAgentRuntimeEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const [k, v] of Object.entries(AGENT_RUNTIME_ENV)) {
    if (out[k] === v) delete out[k];
  }
  return out;
}
