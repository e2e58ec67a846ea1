// The runtime tests (runtime-cases.ts) on the agent as a checkout runs it and as its bundle, on the
// oldest Node.js gitstrap supports and the newest LTS. The npm-installed package: npm-installed.test.ts.
import { describe } from 'node:test';
import { AGENT_BUNDLE } from '../helpers/cli.js';
import { requireNode18, requireNodeLts } from '../helpers/tools.js';
import { runtimeTests } from './runtime-cases.js';

describe('runtimes: the CLI from the checkout (bin/bootstrap.js), on this Node.js', () => {
  runtimeTests(() => ({}));
});

describe('runtimes: the agent bundle on Node 18.19', () => {
  runtimeTests(() => ({ node: requireNode18(), entry: AGENT_BUNDLE }));
});

describe('runtimes: the agent bundle on the newest Node.js LTS', () => {
  runtimeTests(() => ({ node: requireNodeLts(), entry: AGENT_BUNDLE }));
});
