import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import {
  AGENT_RUNTIME_ENV,
  AGENT_V8_FLAGS,
  agentRuntimeEnvLine,
  applyAgentV8Flags,
  withoutAgentRuntimeEnv,
} from '../../src/lib/agent-runtime-env.js';
import { requireNode18, requireNodeLts } from '../helpers/tools.js';

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

test('every Node.js the agent runs on takes its settings: NODE_OPTIONS at start, V8 flags at run time', () => {
  const flags: string[] = [];
  applyAgentV8Flags((f) => flags.push(f));
  assert.deepEqual(flags, [...AGENT_V8_FLAGS]);
  for (const node of [process.execPath, requireNode18(), requireNodeLts()]) {
    // V8 prints "Error: unrecognized flag" for a flag it does not know; Node refuses a NODE_OPTIONS
    // flag it does not allow there.
    const run = spawnSync(
      node,
      [
        '-e',
        `const v8 = require('node:v8'); for (const f of ${JSON.stringify(AGENT_V8_FLAGS)}) v8.setFlagsFromString(f); console.log('ok')`,
      ],
      { encoding: 'utf8', env: { ...process.env, ...AGENT_RUNTIME_ENV } },
    );
    assert.equal(run.stderr, '', `${node}: ${run.stderr}`);
    assert.equal(run.stdout.trim(), 'ok', node);
  }
});
