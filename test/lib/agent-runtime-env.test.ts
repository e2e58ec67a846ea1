import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AGENT_RUNTIME_ENV,
  agentRuntimeEnvLine,
  withoutAgentRuntimeEnv,
} from '../../src/lib/agent-runtime-env.js';

test("the agent's runtime settings are removed from its children's environment, a user's own kept", () => {
  const env = { PATH: '/usr/bin', ...AGENT_RUNTIME_ENV };
  assert.deepEqual(withoutAgentRuntimeEnv(env), { PATH: '/usr/bin' });
  const users = {
    PATH: '/usr/bin',
    NODE_OPTIONS: '--max-old-space-size=512',
    MALLOC_ARENA_MAX: '2',
  };
  assert.deepEqual(withoutAgentRuntimeEnv(users), {
    PATH: '/usr/bin',
    NODE_OPTIONS: '--max-old-space-size=512',
  });
  assert.equal(env.NODE_OPTIONS, AGENT_RUNTIME_ENV.NODE_OPTIONS, 'the input is not changed');
});

test("the unit's Environment= line carries every setting, unquoted (no value holds a space)", () => {
  const line = agentRuntimeEnvLine();
  for (const [k, v] of Object.entries(AGENT_RUNTIME_ENV)) {
    assert.doesNotMatch(v, /\s/);
    assert.ok(line.split(' ').includes(`${k}=${v}`), line);
  }
});
