// A second Ctrl-C while `bootstrap launch` cleans up stops the cleanup and exits at once (130), and
// the exit still prints what is left behind and the commands that remove it; those commands work.
// The built bin as a real process receiving real SIGINTs; AWS is the recording endpoint on 127.0.0.1.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { BIN, runCli } from '../helpers/cli.js';
import { startProcess, waitFor, type Started } from '../helpers/proc.js';
import { projectRoot } from '../helpers/tools.js';
import { startHealthServer } from './harness.js';
import { startWireEndpoint, type WireEndpoint } from './wire-endpoint.js';

const awsEnv = (endpoint: WireEndpoint): NodeJS.ProcessEnv => ({
  ...process.env,
  AWS_ACCESS_KEY_ID: 'AKIDCLITEST',
  AWS_SECRET_ACCESS_KEY: 'cli-test-secret',
  AWS_SESSION_TOKEN: undefined,
  AWS_PROFILE: undefined,
  AWS_REGION: 'us-east-1',
  AWS_DEFAULT_REGION: undefined,
  AWS_CONFIG_FILE: '/nonexistent/aws-config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_ENDPOINT_URL: endpoint.url,
});

/** `bootstrap launch` of open-qa with an open port, its health URL answering 503. */
async function startLaunch(
  t: TestContext,
  extra: string[] = [],
): Promise<{ child: Started; endpoint: WireEndpoint; hits: string[] }> {
  if (!existsSync(path.join(projectRoot, 'dist/cli.js'))) {
    throw new Error('dist/cli.js is missing: run "npm run build" before the CLI tests');
  }
  const health = await startHealthServer(t, () => 503);
  const endpoint = await startWireEndpoint(t);
  // The security group stays in use for a while (as behind an instance still shutting down): the
  // cleanup keeps retrying its deletion, which gives the test a window to interrupt it.
  endpoint.failNext('ec2:DeleteSecurityGroup', 'DependencyViolation', { times: 1000 });
  const args = ['launch', '-r', 'open-qa', '--open-port', '--set', `serve.port=${health.port}`];
  const child = startProcess(t, process.execPath, [BIN, ...args, ...extra], {
    cwd: projectRoot,
    env: awsEnv(endpoint),
  });
  return { child, endpoint, hits: health.hits };
}

const until = (what: string, check: () => boolean) =>
  waitFor(async () => (check() ? true : undefined), what, 90_000);

/** Sends the second Ctrl-C once the cleanup is terminating the instance; checks what is printed. */
async function secondInterrupt(child: Started, endpoint: WireEndpoint): Promise<void> {
  await until(
    'the cleanup to terminate the instance',
    () => endpoint.of('ec2:TerminateInstances').length > 0,
  );
  child.child.kill('SIGINT');
  assert.equal(await child.exited, 130, child.output());
  const out = child.output();
  const left = endpoint.cloud.leftovers();
  assert.ok(
    left.some((l) => l.startsWith('security group')),
    `the cleanup was stopped: ${left.join(', ')}`,
  );
  const report = /stopped before the cleanup finished\n([\s\S]*)$/.exec(out)?.[1];
  assert.ok(report, `the exit says the cleanup did not finish:\n${out}`);
  assert.match(report, /\nLEFT BEHIND \(these still exist and may cost money\):\n/);
  for (const thing of left) {
    const id = /(?:i|sg)-\w+/.exec(thing)![0];
    assert.ok(report.includes(id), `${thing} is named:\n${report}`);
  }
  assert.match(report, /^destroyed: instance i-\w+\n/, 'what was destroyed is said too');
  assert.match(report, /\n {2}security group sg-\w+: its removal had started, not finished\n/);
  assert.match(report, /remove them with:\n/);
  assert.match(report, / {2}aws ec2 delete-security-group --region us-east-1 --group-id sg-\w+\n/);
  assert.match(report, / {2}\(or: bootstrap down (open-qa-\d{8}-[0-9a-f]{4})\)\n$/);
  assert.doesNotMatch(out, /\n\s+at /, 'no stack trace');

  // The command it names removes what is left (the group is free by now).
  endpoint.cloud.failNext.delete('ec2:DeleteSecurityGroup');
  const deployment = /bootstrap down (\S+)\)/.exec(report)![1]!;
  const down = await runCli(['down', deployment], { env: awsEnv(endpoint) });
  assert.equal(down.code, 0, down.stderr);
  assert.deepEqual(endpoint.cloud.leftovers(), []);
}

describe('bootstrap launch: a second Ctrl-C during the cleanup', () => {
  test('of a failed launch: the first says the cleanup goes on, the second stops it and says what is left', async (t) => {
    const { child, endpoint } = await startLaunch(t, ['--wait-timeout', '1s']);
    await until('the launch to fail', () => /launch failed: destroying/.test(child.output()));
    await until(
      'the cleanup to terminate the instance',
      () => endpoint.of('ec2:TerminateInstances').length > 0,
    );
    child.child.kill('SIGINT');
    await until('the first Ctrl-C to be answered', () =>
      /still destroying what this launch created; Ctrl-C again stops/.test(child.output()),
    );
    await secondInterrupt(child, endpoint);
  });

  test('of an interrupted launch', async (t) => {
    const { child, endpoint, hits } = await startLaunch(t);
    await until('the first health probe', () => hits.length > 0);
    child.child.kill('SIGINT');
    await until('the cleanup to start', () =>
      /interrupted: destroying what this launch created/.test(child.output()),
    );
    await secondInterrupt(child, endpoint);
  });
});
