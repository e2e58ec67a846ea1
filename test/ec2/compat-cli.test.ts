// EC2-compatible clouds through the built bin, as a person there runs it: `--endpoint-url` pointing
// at the recording endpoint on 127.0.0.1 and nothing else set; every other host is unreachable (a
// preloaded guard refuses its DNS lookup and says so on stderr, which the tests look for).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { runCli, type CliResult } from '../helpers/cli.js';
import { projectRoot } from '../helpers/tools.js';
import { FakeCloud } from './fake-cloud.js';
import { startHealthServer } from './harness.js';
import { startWireEndpoint } from './wire-endpoint.js';

const OFFLINE = pathToFileURL(path.join(projectRoot, 'test/ec2/offline.mjs')).href;
const REFUSED = '[offline] refused lookup of';

function requireBuild(): void {
  if (!existsSync(path.join(projectRoot, 'dist/cli.js'))) {
    throw new Error('dist/cli.js is missing: run "npm run build" before the CLI tests');
  }
}

/** Fake static credentials and a region; no endpoint but what the test passes; only loopback. */
function offlineEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    AWS_ACCESS_KEY_ID: 'AKIDCOMPAT',
    AWS_SECRET_ACCESS_KEY: 'compat-secret',
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: undefined,
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL: undefined,
    AWS_ENDPOINT_URL_EC2: undefined,
    AWS_ENDPOINT_URL_SSM: undefined,
    AWS_ENDPOINT_URL_AUTO_SCALING: undefined,
    NODE_OPTIONS: `--import ${OFFLINE}`,
    ...extra,
  };
}

const EMI = 'emi-1a2b3c4d';

/** A fake cloud that has the Eucalyptus image the tests boot. */
function eucalyptusCloud(): FakeCloud {
  const cloud = new FakeCloud();
  cloud.images.set(EMI, '/dev/sda1');
  return cloud;
}

/** Asserts a run went nowhere but 127.0.0.1. */
function stayedLocal(r: CliResult): void {
  assert.ok(!r.stderr.includes(REFUSED), `it tried to leave 127.0.0.1:\n${r.stderr}`);
}

describe('a cloud where only EC2 answers (--endpoint-url alone)', () => {
  test('launch --image, ls, down: fleets reported unavailable in one line, nothing else reached', async (t) => {
    requireBuild();
    const endpoint = await startWireEndpoint(t);
    const env = offlineEnv();
    const at = ['--endpoint-url', endpoint.url];

    const launch = await runCli(
      ['launch', '-r', 'open-qa', '--image', 'ami-0123456789abcdef0', '--no-wait', ...at],
      { env },
    );
    assert.equal(launch.code, 0, launch.stderr);
    stayedLocal(launch);
    const deployment = launch.stdout.trim();

    const ls = await runCli(['ls', ...at], { env });
    assert.equal(ls.code, 0, ls.stderr);
    stayedLocal(ls);
    assert.match(ls.stdout, new RegExp(`^DEPLOYMENT .*\\n${deployment} +open-qa +running `));
    const notes = ls.stderr.split('\n').filter(Boolean);
    assert.equal(notes.length, 1, ls.stderr);
    assert.match(
      notes[0]!,
      /^fleets not listed: no Auto Scaling endpoint .*AWS_ENDPOINT_URL_AUTO_SCALING/,
    );

    const reap = await runCli(['reap', ...at], { env });
    assert.equal(reap.code, 0, reap.stderr);
    stayedLocal(reap);
    assert.equal(reap.stdout, 'no expired deployments\n');
    assert.match(reap.stderr, /^fleets not checked: no Auto Scaling endpoint .*\n$/);

    const down = await runCli(['down', deployment, ...at], { env });
    assert.equal(down.code, 0, down.stderr);
    stayedLocal(down);
    assert.match(down.stdout, new RegExp(`^${deployment} ended: instance i-\\w+\\n$`));
    assert.deepEqual(endpoint.cloud.leftovers(), []);
    assert.deepEqual(
      endpoint.requests.filter((r) => r.service !== 'ec2').map((r) => r.action),
      [],
      'only EC2 was asked',
    );
  });
});

describe('a cloud where only EC2 answers, more of it', () => {
  test('launch without --image: one line naming --image, nothing created, nothing else asked', async (t) => {
    requireBuild();
    const endpoint = await startWireEndpoint(t, undefined, { services: ['ec2'] });
    const r = await runCli(['launch', '-r', 'open-qa', '--endpoint-url', endpoint.url], {
      env: offlineEnv(),
    });
    assert.equal(r.code, 1, r.stderr);
    stayedLocal(r);
    assert.match(
      r.stderr,
      /\nerror: launch of open-qa-\d{8}-[0-9a-f]{4} failed: --image is required here: the \S+ image is looked up in SSM, and no SSM endpoint for the EC2 endpoint http:\S+ \(AWS_ENDPOINT_URL_SSM is not set\)\n {2}nothing had been created\n {2}hint: pass --image IMAGE-ID /,
    );
    assert.deepEqual(endpoint.requests, []);
  });

  test('AWS_ENDPOINT_URL for every service, only EC2 answers: found out, said in one line', async (t) => {
    requireBuild();
    const endpoint = await startWireEndpoint(t, undefined, { services: ['ec2'] });
    const env = offlineEnv({ AWS_ENDPOINT_URL: endpoint.url });
    const ls = await runCli(['ls'], { env });
    assert.equal(ls.code, 0, ls.stderr);
    assert.equal(ls.stdout, 'no deployments\n');
    assert.match(
      ls.stderr,
      /^fleets not listed: http:\S+ does not offer Auto Scaling \(InvalidAction\) \(AWS_ENDPOINT_URL_AUTO_SCALING names the cloud's Auto Scaling endpoint\)\n$/,
    );
    stayedLocal(ls);
  });
});

describe('an older EC2 API (as Eucalyptus 4 answers)', () => {
  test('launch stops before creating anything, naming --allow-imdsv1; with it, tags and a warning', async (t) => {
    requireBuild();
    const health = await startHealthServer(t);
    const endpoint = await startWireEndpoint(t, eucalyptusCloud(), {
      services: ['ec2'],
      ec2Api: 'legacy',
    });
    const env = offlineEnv();
    const args = [
      'launch',
      '-r',
      'open-qa',
      '--image',
      EMI,
      '--open-port',
      '--set',
      `serve.port=${health.port}`,
      '--endpoint-url',
      endpoint.url,
    ];
    const refused = await runCli(args, { env });
    assert.equal(refused.code, 1, refused.stderr);
    stayedLocal(refused);
    assert.match(
      refused.stderr,
      /\nerror: launch of \S+ failed: this EC2 API does not take MetadataOptions, so the instance cannot be made to require IMDSv2 \(a session token for its metadata\)\n {2}nothing had been created\n {2}hint: to launch with the instance metadata answering plain GETs, add --allow-imdsv1 /,
    );
    assert.doesNotMatch(refused.stderr, /\n\s+at /, 'no stack trace');
    assert.deepEqual(endpoint.cloud.calls, [], 'nothing reached the cloud but the refused probe');

    const launched = await runCli([...args, '--allow-imdsv1'], { env });
    assert.equal(launched.code, 0, launched.stderr);
    stayedLocal(launched);
    assert.equal(launched.stdout, `http://127.0.0.1:${health.port}/\n`);
    assert.match(launched.stderr, /tagging with CreateTags right after each create/);
    assert.match(
      launched.stderr,
      /is up; "bootstrap down \S+" ends it now\nwarning: IMDSv2 is not enforced: this EC2 API does not take MetadataOptions, so the instance metadata answers plain GETs \(--allow-imdsv1\)\n$/,
    );
    const [instance] = [...endpoint.cloud.instances.values()];
    const deployment = instance!.Tags.find((tag) => tag.Key === 'gitstrap:deployment')?.Value;
    assert.match(deployment ?? '', /^open-qa-\d{8}-[0-9a-f]{4}$/);

    const ls = await runCli(['ls', '--json', '--endpoint-url', endpoint.url], { env });
    assert.equal(ls.code, 0, ls.stderr);
    const rows = JSON.parse(ls.stdout) as Array<{ deployment: string; state: string }>;
    assert.deepEqual(
      rows.map((r) => [r.deployment, r.state]),
      [[deployment, 'running']],
    );
    const down = await runCli(['down', deployment!, '--endpoint-url', endpoint.url], { env });
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(endpoint.cloud.leftovers(), []);
  });
});

describe('bootstrap doctor', () => {
  test('on each kind of cloud: what answers, what the API takes, what gitstrap does there', async (t) => {
    requireBuild();
    const full = await startWireEndpoint(t);
    const only = await startWireEndpoint(t, undefined, { services: ['ec2'] });
    const older = await startWireEndpoint(t, undefined, { services: ['ec2'], ec2Api: 'legacy' });

    const a = await runCli(['doctor'], { env: offlineEnv({ AWS_ENDPOINT_URL: full.url }) });
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /^EC2-compatible cloud at http:\S+ \(region us-east-1\)\n/);
    assert.match(a.stdout, /\n {4}tags on create {4}yes\n {4}IMDSv2 {12}yes\n/);
    assert.match(a.stdout, /\n {2}launch --fleet, refresh {2}available\n/);

    const b = await runCli(['doctor', '--endpoint-url', only.url], { env: offlineEnv() });
    assert.equal(b.code, 0, b.stderr);
    stayedLocal(b);
    assert.match(
      b.stdout,
      /\n {2}Auto Scaling {8}not used: no Auto Scaling endpoint for the EC2 endpoint /,
    );
    assert.match(b.stdout, /\n {2}launch {19}instances from --image IMAGE-ID only /);
    assert.match(b.stdout, /\n {2}ls, down, reap {11}work, without fleets/);
    assert.deepEqual(
      only.requests.filter((r) => r.service !== 'ec2'),
      [],
    );

    const c = await runCli(['doctor', '--json', '--endpoint-url', older.url], {
      env: offlineEnv(),
    });
    assert.equal(c.code, 0, c.stderr);
    stayedLocal(c);
    const report = JSON.parse(c.stdout) as {
      parameters: Record<string, boolean>;
      launchTemplates: { status: string };
      gitstrap: string[][];
    };
    assert.deepEqual(report.parameters, {
      tagOnCreate: false,
      metadataOptions: false,
      dryRun: false,
    });
    assert.equal(report.launchTemplates.status, 'no');
    assert.match(report.gitstrap[1]![1]!, /CreateTags right after each create.*--allow-imdsv1/);
    assert.deepEqual(
      older.cloud.calls.map((call) => call.name),
      ['ec2:DescribeInstances'],
    );
    // Read-only: the one RunInstances was a dry run.
    assert.deepEqual(
      older.of('ec2:RunInstances').map((r) => r.params.DryRun),
      ['true'],
    );

    const none = await runCli(['doctor', '--endpoint-url', 'http://127.0.0.1:9'], {
      env: offlineEnv(),
    });
    assert.equal(none.code, 3, none.stderr);
    assert.match(none.stdout, /\n {2}EC2 {2}ec2:DescribeInstances failed: ECONNREFUSED/);
    assert.match(none.stdout, /every command {2}needs EC2 to answer: cannot reach /);
  });
});
